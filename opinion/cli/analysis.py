"""The analysis stages by hand: `analyze` a file of posts, `train` and `eval` the shipped models."""
from __future__ import annotations

import functools
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.analyze import analyze_stream


@click.command("analyze")
@click.argument("input", type=click.File("rb"), default="-")
@click.option("--batch", default=500, show_default=True)
@click.option("--engine", default=None, help="sentiment engine: domain (default) or snownlp")
@click.option("--stream", is_flag=True,
              help="print each batch at once; a topic merged later then keeps its old id on the lines already out")
def analyze_cmd(input, batch, engine, stream):
    """Analyse JSON Lines posts to JSON Lines, touching no database (PRODUCT.md contract)."""
    analyze_stream(input, sys.stdout, batch=batch, engine=engine, stream=stream)


@click.group("train")
def train_group():
    """Train the models the pipeline ships with."""


@click.group("eval")
def eval_group():
    """Measure the shipped models on labelled data."""


def _user_errors(fn):
    """A data file the command cannot use (a missing column, too few examples of a class, an
    unreadable file) is the user's to fix: its message, not a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
    return wrapper


def _data_options(fn):
    fn = _user_errors(fn)
    fn = click.option("--data", "data", required=True, multiple=True,
                      type=click.Path(exists=True), help="labelled CSV or JSON Lines file")(fn)
    fn = click.option("--text-col", default="text", show_default=True)(fn)
    fn = click.option("--label-col", default=None, help="label column (default per model)")(fn)
    return fn


@train_group.command("sentiment")
@_data_options
@click.option("--out", default=None, help="model folder (default: the shipped model's)")
def train_sentiment_cmd(data, text_col, label_col, out):
    """Train the sentiment model from labelled posts (e.g. ../shared/data/weibo-emotion/train.csv)."""
    # lazy: training loads numpy
    from opinion.nlp import train
    report = train.train_sentiment(data[0], out, text_col=text_col, label_col=label_col or "polarity")
    click.echo(train.format_report(report))


@train_group.command("emotion")
@_data_options
@click.option("--out", default=None)
@click.option("--unlabelled", multiple=True, type=click.Path(exists=True),
              help="unlabelled posts for the character vectors: JSON Lines/CSV files with a text "
                   "field, or folders of .jsonl; default: weibo-stream/ and weibo-topics/ beside "
                   "the data file's folder")
def train_emotion_cmd(data, text_col, label_col, out, unlabelled):
    """Train the seven-class emotion model."""
    # lazy: training loads numpy
    from opinion.nlp import train
    report = train.train_emotion(data[0], out, text_col=text_col, label_col=label_col or "emotion",
                                 unlabelled=list(unlabelled) or None)
    click.echo(train.format_report(report))


@train_group.command("routing")
@_data_options
@click.option("--out", default=None)
@click.option("--with-corrections", is_flag=True,
              help="add the monitors' reassignments as examples; writes to the instance folder")
@with_appcontext
def train_routing_cmd(data, text_col, label_col, out, with_corrections):
    """Train the category classifier (e.g. ../shared/data/gov-messages/train.csv)."""
    # lazy: the routing classifier loads numpy and scipy
    from opinion.routing import train
    if with_corrections:
        from opinion.routing.retrain import retrain_with_corrections  # lazy: numpy and scipy, as above
        report = retrain_with_corrections(current_app._get_current_object(), list(data), text_col,
                                          label_col or "category", out, progress=True)
        click.echo(f"改派记录 {report['corrections']} 条（每条计 {report['extra'] // max(report['corrections'], 1)} 次），"
                   f"记住 {report['remembered']} 条改派决定（相似内容直接派往同一单位）")
    else:
        report = train.train_routing(list(data), out, text_col=text_col, label_col=label_col or "category")
    click.echo(train.format_report(report))


@train_group.command("matters")
@_data_options
@click.option("--out", default=None, help="model folder (default: the shipped matter model's)")
@click.option("--with-corrections", is_flag=True,
              help="add the monitors' reassignments that name a matter; writes to the instance folder")
@with_appcontext
def train_matters_cmd(data, text_col, label_col, out, with_corrections):
    """Train the matter (second-level) model on the catalogue's weak labels of a first-level
    labelled file (e.g. ../shared/data/gov-messages/train.csv)."""
    # lazy: numpy, scipy and scikit-learn
    from opinion.routing import Router, train
    if with_corrections:
        from opinion.routing.retrain import retrain_matters_with_corrections  # lazy: as above
        report = retrain_matters_with_corrections(current_app._get_current_object(), list(data), text_col,
                                                  label_col or "category", out, progress=True)
        click.echo(f"改派记录中可确定二级事项的 {report['corrections']} 条已加入训练")
    else:
        _, catalogue = Router(current_app.extensions["district"], matter_classifier=False).tables()
        if catalogue is None:
            raise click.ClickException("district.yaml 未配置事权清单（responsibilities），无法训练二级事项模型")
        report = train.train_matters(list(data), catalogue, out, text_col, label_col or "category")
    click.echo(f"弱标注样本 {report['weak_labels']} 条（事权清单关键词唯一指向一个事项，关键词已从文本中去掉）")
    click.echo(train.format_report(report))


def _eval_text_model(kind: str, default_label: str, help_text: str) -> None:
    @eval_group.command(kind, help=help_text)
    @_data_options
    @click.option("--model", default=None)
    def command(data, text_col, label_col, model):
        # lazy: evaluating loads numpy
        from opinion.nlp import train
        click.echo(train.format_report(train.evaluate(kind, data[0], text_col=text_col,
                                                      label_col=label_col or default_label,
                                                      model_path=model)))


_eval_text_model("sentiment", "polarity", "Accuracy, macro-F1, ROC AUC, confusion matrix and throughput of `sentiment`.")
_eval_text_model("emotion", "emotion", "Accuracy, macro-F1, confusion matrix and throughput of `emotion`.")


@eval_group.command("routing")
@_data_options
@click.option("--model", default=None)
@click.option("--level", type=click.Choice(["category", "unit"]), default="category", show_default=True,
              help="category: macro-F1 of the first-level category; unit: the unit that must act, on a "
                   "unit set (tests/routing/data/unit_set.csv) over the shared replies")
@click.option("--messages", default=None, type=click.Path(),
              help="with --level unit: the messages the set's ids point into "
                   "(default ../shared/data/gov-messages/replies.csv)")
@click.option("--split", type=click.Choice(["report", "tune", "all"]), default="report", show_default=True)
@click.option("--matter-model", default=None, help="with --level unit: the matter model folder (default: the shipped one)")
@click.option("--matter-threshold", default=None, type=float,
              help="with --level unit: the matter model's confidence threshold (default: routing's)")
@with_appcontext
def eval_routing_cmd(data, text_col, label_col, model, level, messages, split, matter_model, matter_threshold):
    """Macro-F1 and confusion matrix of `category`, or (--level unit) unit accuracy, street-office
    recall and the share sent to triage, before (keywords and category lead) and after (place and matter)."""
    if level == "unit":
        _eval_units(data[0], messages, split, model, matter_model, matter_threshold)
        return
    # lazy: the routing classifier loads numpy and scipy
    from opinion.routing import train
    click.echo(train.format_report(train.evaluate_routing(list(data), text_col=text_col,
                                                          label_col=label_col or "category",
                                                          model_path=model)))


def _eval_units(data: str, messages: str | None, split: str, model: str | None,
                matter_model: str | None = None, matter_threshold: float | None = None) -> None:
    # lazy: the routing classifier loads numpy and scipy
    import dataclasses
    from pathlib import Path

    from opinion.routing import MATTER_MIN_CONFIDENCE, Router
    from opinion.routing.classifier import CategoryClassifier
    from opinion.routing.unitset import evaluate_units, format_unit_report, load_texts, read_examples
    messages = messages or str(Path(current_app.root_path).parent.parent / "shared" / "data"
                               / "gov-messages" / "replies.csv")
    if not Path(messages).exists():
        raise click.ClickException(f"找不到留言数据 {messages}：请用 --messages 指定 gov-messages/replies.csv")
    district = current_app.extensions["district"]
    classifier = CategoryClassifier.load(model)
    texts, examples = load_texts(messages), read_examples(data)
    before = Router(dataclasses.replace(district, gazetteer_file="", catalogue_file=""), classifier=classifier)
    keywords_only = Router(district, classifier=classifier, matter_classifier=False)
    after = Router(district, classifier=classifier,
                   matter_classifier=CategoryClassifier.load(matter_model) if matter_model else None,
                   matter_min_confidence=MATTER_MIN_CONFIDENCE if matter_threshold is None else matter_threshold)
    rows = [("改造前（关键词 + 一级分类牵头单位）", evaluate_units(before, examples, texts, split)),
            ("改造后（属地 + 事权清单：关键词与兜底事项）", evaluate_units(keywords_only, examples, texts, split))]
    if after.matter_classifier:
        rows.append((f"改造后（属地 + 事权清单 + 二级事项模型，置信度 ≥ {after.matter_min_confidence:.2f}）",
                     evaluate_units(after, examples, texts, split)))
    click.echo(format_unit_report(rows))


@eval_group.command("topics")
@click.option("--data", required=True, type=click.Path(exists=True),
              help="a day file (JSON Lines, CSV, JSON, Excel) or a folder of them")
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="topic", show_default=True, help="the topic (hashtag) each post belongs to")
@click.option("--seed", default=0, show_default=True, help="the arrival order's shuffle")
@click.option("--vectors", type=click.Choice(["default", "e5", "static", "off"]), default="default",
              show_default=True, help="sentence vectors beside the words: what analyze uses (default), "
              "the encoder, the distilled word table, or none")
@click.option("--clear-match", type=float, default=None,
              help="posts matching a topic this well by words get no vector (selective encoding)")
@click.option("--budget", type=int, default=None,
              help="simulate an encoder that reads at most this many posts per 500-post batch (cold cache)")
@_user_errors
def eval_topics_cmd(data, text_col, label_col, seed, vectors, clear_match, budget):
    """ARI, NMI, purity, coverage and number of topics against hashtag labels."""
    # lazy: the topic metrics load scikit-learn
    from opinion.topics import evaluate
    kwargs = evaluate.clusterer_settings(None if vectors == "default" else vectors)
    if clear_match is not None:
        kwargs["clear_match"] = clear_match
    click.echo(evaluate.format_report(evaluate.evaluate_topics(
        data, seed=seed, text_col=text_col, label_col=label_col, budget_posts=budget, **kwargs)))


COMMANDS = (analyze_cmd, train_group, eval_group)
