"""Topic quality on a real hashtag-labelled Weibo day (skips where the shared data is absent)."""
from __future__ import annotations

import csv
import json

import pytest

from opinion.topics.evaluate import evaluate_topics, format_report


def test_eval_on_real_day(shared_data, prepare):
    folder = shared_data / "weibo-topics"
    days = sorted(folder.glob("*.jsonl"), key=lambda f: f.stat().st_size) if folder.is_dir() else []
    if not days:
        pytest.skip(f"no weibo-topics day files under {folder} (set OPINION_SHARED_DATA)")
    r = evaluate_topics(str(days[0]), seed=0, progress=False, prepare=prepare)
    day = r["days"][0]
    # Beats the k-means reference told the true k (ARI 0.07, NMI 0.20) without being told k ...
    assert day["ari"] > 0.07 and day["nmi"] > 0.20, format_report(r)
    # ... without fragmenting: at least half the posts in topics of >= 10 posts.
    assert day["coverage"] >= 0.5, format_report(r)
    assert day["n_labels"] < day["n_topics"] < day["n_posts"]
    assert "mean" in format_report(r)


def test_topic_eval_reads_a_gbk_csv_as_it_reads_json_lines(tmp_path, prepare):
    posts = [("中山路隧道积水严重，车都熄火了", "暴雨"), ("中山路隧道又积水了", "暴雨"),
             ("隧道积水什么时候能排干", "暴雨"), ("学校推迟开学，孩子在家上网课", "开学"),
             ("推迟开学的通知什么时候发", "开学"), ("网课太多了，孩子眼睛受不了", "开学")]
    (tmp_path / "day.jsonl").write_text("\n".join(json.dumps({"text": t, "topic": y}, ensure_ascii=False)
                                                  for t, y in posts), encoding="utf-8")
    with open(tmp_path / "day.csv", "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["内容", "话题"])
        writer.writerows(posts)
    a = evaluate_topics(str(tmp_path / "day.jsonl"), progress=False, prepare=prepare)
    b = evaluate_topics(str(tmp_path / "day.csv"), progress=False, prepare=prepare,
                        text_col="内容", label_col="话题")
    assert a["n_posts"] == b["n_posts"] == 6 and a["days"][0]["n_labels"] == 2
    assert (a["ari"], a["nmi"], a["n_topics"]) == (b["ari"], b["nmi"], b["n_topics"])


def test_eval_topics_command_takes_the_columns_a_file_has(runner, tmp_path):
    path = tmp_path / "day.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["内容", "话题"])
        writer.writerows([("中山路隧道积水严重", "暴雨"), ("隧道积水什么时候排干", "暴雨"), ("学校推迟开学", "开学")])
    result = runner.invoke(args=["eval", "topics", "--data", str(path)])
    assert result.exit_code == 1 and "现有列：内容, 话题" in result.output and "--label-col" in result.output
    result = runner.invoke(args=["eval", "topics", "--data", str(path), "--text-col", "内容", "--label-col", "话题"])
    assert result.exit_code == 0 and "day" in result.output and "mean" in result.output, result.output


def test_eval_topics_with_the_static_table_counts_the_posts_given_vectors(tmp_path, prepare):
    from opinion.nlp.static import shipped_table
    from opinion.topics.evaluate import clusterer_settings
    if shipped_table() is None:
        pytest.skip("opinion/nlp/models/static.npz not built")
    posts = [("中山路隧道积水严重，车都熄火了", "暴雨"), ("下穿通道被淹，汽车开不过去", "暴雨"),
             ("学校推迟开学，孩子在家上网课", "开学"), ("孩子上课时间延后，家长发愁", "开学")]
    (tmp_path / "day.jsonl").write_text("\n".join(json.dumps({"text": t, "topic": y}, ensure_ascii=False)
                                                  for t, y in posts), encoding="utf-8")
    words = evaluate_topics(str(tmp_path / "day.jsonl"), progress=False, prepare=prepare)
    static = evaluate_topics(str(tmp_path / "day.jsonl"), progress=False, prepare=prepare,
                             **clusterer_settings("static"))
    assert words["encoded_share"] == 0 and static["encoded_share"] == 1.0
    assert static["n_posts"] == 4
