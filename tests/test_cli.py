"""The command line: analyze's contract, import twice, stats --json, seed-demo, sla tick."""
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from opinion.models import Case, Post, User
from tests.conftest import REPO

FIELDS = {"id", "tokens", "keywords", "sentiment", "polarity", "emotion", "topic", "category",
          "department", "priority"}


def run_module(*args, stdin: bytes = b"", env=None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "opinion", *args], input=stdin, capture_output=True,
                          cwd=cwd or REPO, env={**os.environ, **(env or {})}, timeout=300)


def test_analyze_prints_the_contract_and_survives_bad_lines(tmp_path):
    lines = [
        json.dumps({"id": "1", "text": "中山路隧道积水半米深，车子熄火了[怒]", "created_at": "2026-11-20T08:00:00+08:00"}, ensure_ascii=False),
        "{this is not json",
        json.dumps({"id": "3", "created_at": "2026-11-20T09:00:00+08:00"}),
        json.dumps({"id": "4", "text": "中山路隧道又积水了，排水什么时候修好", "created_at": "2026-11-20T08:30:00+08:00"}, ensure_ascii=False),
        json.dumps({"id": 5, "text": "感谢消防员及时救火", "created_at": "not a time"}, ensure_ascii=False),
        json.dumps({"id": 6, "text": "感谢消防员及时救火"}, ensure_ascii=False),
    ]
    # the instance dir is pointed somewhere empty: analyze must not create or touch a database
    result = run_module("analyze", stdin="\n".join(lines).encode("utf-8"),
                        env={"OPINION_INSTANCE_DIR": str(tmp_path / "inst")})
    assert result.returncode == 0, result.stderr.decode()
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert [o.get("id") for o in out] == ["1", None, "3", "4", 5, 6]  # each id as given, numbers too
    assert FIELDS <= set(out[0]) and FIELDS <= set(out[3]) and FIELDS <= set(out[5])
    assert "error" in out[1] and "JSON" in out[1]["error"]
    assert "text" in out[2]["error"] and "created_at" in out[4]["error"]
    assert out[0]["topic"] == out[3]["topic"]
    assert out[0]["category"] in ("城乡建设", "环境保护", "交通运输", "教育文体", "劳动和社会保障", "商贸旅游", "卫生计生")
    assert isinstance(out[0]["tokens"], list) and 0 <= out[0]["sentiment"] <= 1
    assert not list((tmp_path / "inst").glob("*.db"))


def test_analyze_reads_a_gbk_line_and_a_file_argument(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_bytes(json.dumps({"id": "g", "text": "小区垃圾三天没人清运"}, ensure_ascii=False).encode("gbk") + b"\n")
    result = run_module("analyze", str(path))
    out = json.loads(result.stdout.decode())
    assert out["id"] == "g" and "垃圾" in "".join(out["tokens"])


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


# An hour ago: older posts would be history, which opens no case.
RECENT = (datetime.now(timezone.utc) - timedelta(hours=1)).astimezone(ZoneInfo("Asia/Shanghai")).isoformat()
ROWS = [{"id": f"r{i}", "text": t, "created_at": RECENT} for i, t in enumerate([
    "中山路隧道积水半米深", "南门口工地半夜施工噪音扰民", "实验小学推迟开学家长不满", "医院挂号排长队",
    "新华菜市场卖过期食品", "北关路公交改线出行不便"])]


def test_import_twice_stores_nothing_new_and_says_so(runner, session, tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", ROWS + [{"id": "bad"}])
    first = runner.invoke(args=["import", str(path)])
    assert first.exit_code == 0, first.output
    assert "新增 6 条" in first.output and "拒收 1 条" in first.output and "缺少正文" in first.output
    second = runner.invoke(args=["import", str(path)])
    assert "新增 0 条，重复 6 条" in second.output and "没有新内容" not in second.output  # one rejected
    assert session.execute(select(func.count()).select_from(Post)).scalar() == 6


def test_import_killed_halfway_then_rerun_stores_every_line_once(app, session, tmp_path, monkeypatch):
    from opinion.pipeline import runs as importer
    path = write_jsonl(tmp_path / "posts.jsonl", ROWS)
    real, calls = importer.ingest, {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(importer, "ingest", dying)
    with pytest.raises(KeyboardInterrupt):
        importer.import_file(app, str(path), batch=2)
    session.rollback()
    assert session.execute(select(func.count()).select_from(Post)).scalar() == 2
    monkeypatch.setattr(importer, "ingest", real)
    summary = importer.import_file(app, str(path), batch=2)
    assert len(summary.report.accepted) == 4 and len(summary.report.duplicate) == 2
    ids = session.execute(select(Post.external_id)).scalars().all()
    assert sorted(ids) == sorted(r["id"] for r in ROWS)


def test_import_csv_in_gbk_with_a_column_map(runner, session, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("编号,内容,时间\nc1,西城化工厂偷排废气臭味熏人,2026-11-20T10:00:00+08:00\n"
                     "c2,锦绣社区垃圾没人清运,2026-11-20 10:00\n".encode("gbk"))
    result = runner.invoke(args=["import", str(path), "--map", "id=编号", "--map", "text=内容",
                                 "--map", "created_at=时间"])
    assert "编码 gb18030" in result.output and "新增 1 条" in result.output
    assert "缺少时区" in result.output  # the second row, named by its line


def test_import_csv_without_the_text_column_is_a_clear_error(runner, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code != 0 and "缺少列" in result.output and "--map" in result.output


def test_stats_json_reports_the_counts(runner, session, tmp_path):
    runner.invoke(args=["import", str(write_jsonl(tmp_path / "p.jsonl", ROWS))])
    stats = json.loads(runner.invoke(args=["stats", "--json"]).output)
    assert stats["posts"]["total"] == 6
    assert stats["cases"]["total"] == session.execute(select(func.count()).select_from(Case)).scalar() > 0
    assert sum(stats["cases"]["by_status"].values()) == stats["cases"]["total"]
    assert set(stats["cases"]["by_escalation_level"]) == {"0", "1", "2", "3", "4", "5"}
    assert stats["sources"]["items"][0]["code"] == "import"
    assert {"total", "by_status", "by_severity"} <= set(stats["alerts"])


@pytest.mark.parametrize("args", [["sla", "tick", "--now", "garbage"], ["alerts", "check", "--now", "昨天"],
                                  ["stats", "--since", "garbage"], ["stats", "--until", "2026-13-40"],
                                  ["report", "daily", "--now", "x"]])
def test_a_time_option_that_is_not_a_time_is_refused_in_chinese(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert f"“{args[-1]}” 不是 ISO 时间" in result.output
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)


def test_seed_demo_fills_every_role_and_is_idempotent(runner, session):
    first = runner.invoke(args=["seed-demo", "--posts", "150", "--days", "5"])
    assert first.exit_code == 0, first.output
    assert "demo2026" in first.output and "leader" in first.output
    posts = session.execute(select(func.count()).select_from(Post)).scalar()
    cases = session.execute(select(func.count()).select_from(Case)).scalar()
    assert posts == 150 + 3 and cases >= 10  # and a post of today for each named spokesperson
    roles = set(session.execute(select(User.role)).scalars())
    assert roles == {"admin", "leader", "monitor", "spokesperson"}
    replied = session.execute(select(func.count()).select_from(Case).where(Case.first_response_at.is_not(None))).scalar()
    assert 0 < replied < cases
    again = runner.invoke(args=["seed-demo", "--posts", "150"])
    assert "不再重复生成" in again.output
    assert session.execute(select(func.count()).select_from(Post)).scalar() == posts


def test_migrations_build_the_schema_the_models_describe(database_url, tmp_path):
    env = {"OPINION_DATABASE_URL": database_url, "OPINION_INSTANCE_DIR": str(tmp_path)}
    up = run_module("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr.decode()
    check = run_module("db", "check", env=env)
    assert check.returncode == 0 and "No new upgrade operations" in (check.stdout + check.stderr).decode()
    down = run_module("db", "downgrade", "base", env=env)
    assert down.returncode == 0, down.stderr.decode()


def test_upgrade_from_the_first_schema_keeps_the_rows_it_had(database_url, tmp_path):
    """An installation with data on 0001 upgrades in place: replies written before approval
    existed come out published, counters start at zero, and no row is lost."""
    import sqlalchemy as sa
    env = {"OPINION_DATABASE_URL": database_url, "OPINION_INSTANCE_DIR": str(tmp_path)}
    assert run_module("db", "upgrade", "0001", env=env).returncode == 0
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO unit (id, code, name, kind, keywords, places, active)"
                             " VALUES (1, 'x', '某局', 'department', '[]', '[]', :t)"), {"t": True})
        conn.execute(sa.text("INSERT INTO cases (id, unit_id, title, priority, status, escalation_level,"
                             " acknowledge_due_at, respond_due_at, resolve_due_at, created_at, updated_at,"
                             " version) VALUES (1, 1, '积水', 'normal', 'replied', 0, :d, :d, :d, :d, :d, 1)"),
                     {"d": "2026-01-01 00:00:00"})
        conn.execute(sa.text("INSERT INTO reply (id, case_id, text, channel, created_at)"
                             " VALUES (1, 1, '已处理', 'web', '2026-01-02 03:00:00')"))
    try:
        up = run_module("db", "upgrade", env=env)
        assert up.returncode == 0, up.stderr.decode()
        with engine.connect() as conn:
            status, published, updated = conn.execute(sa.text(
                "SELECT status, published_at, updated_at FROM reply")).one()
            reopen_count, supervised, code = conn.execute(sa.text(
                "SELECT reopen_count, supervised, lookup_code FROM cases")).one()
        assert status == "published" and str(published).startswith("2026-01-02 03:00")
        assert str(updated).startswith("2026-01-02 03:00")
        assert reopen_count == 0 and not supervised
        assert code is not None and len(code) == 10  # every existing case gets its 查询码
    finally:
        engine.dispose()
        assert run_module("db", "downgrade", "base", env=env).returncode == 0


def _insert(conn, table: str, **values):
    """A row of `table` as the schema at that revision has it: the columns a test cares about as
    given, every other required column a plain value of its type."""
    import sqlalchemy as sa
    columns = sa.Table(table, sa.MetaData(), autoload_with=conn).columns
    plain = {sa.Integer: 0, sa.Float: 0.0, sa.Boolean: False, sa.DateTime: datetime(2026, 1, 1)}
    for column in columns:
        if column.name in values or column.nullable or column.server_default is not None:
            continue
        values[column.name] = next((v for t, v in plain.items() if isinstance(column.type, t)),
                                   "{}" if "JSON" in type(column.type).__name__.upper() else "")
    conn.execute(sa.insert(sa.Table(table, sa.MetaData(), autoload_with=conn)), values)


def test_upgrade_links_existing_refutations_to_their_statement(database_url, tmp_path):
    """i22f_1: a verification recorded before statement_id existed is linked to the unit's published
    statement at its refutation link; one that was a post the account published directly keeps its
    link and no statement."""
    import sqlalchemy as sa
    env = {"OPINION_DATABASE_URL": database_url, "OPINION_INSTANCE_DIR": str(tmp_path)}
    assert run_module("db", "upgrade", "i19_2", env=env).returncode == 0
    engine = sa.create_engine(database_url)
    try:
        with engine.begin() as conn:
            _insert(conn, "unit", id=1, code="jyj", name="区教育局", kind="department", keywords="[]", places="[]")
            _insert(conn, "unit", id=2, code="zjj", name="区住建局", kind="department", keywords="[]", places="[]")
            _insert(conn, "topic", id=1, key="t1", label="食堂")
            for unit in (1, 2):
                _insert(conn, "official_account", id=unit, unit_id=unit, platform="weibo", handle=f"a{unit}")
            # the other unit's statement at the same link is not this unit's refutation
            _insert(conn, "unit_statement", id=7, account_id=2, kind="rumour", text="住建局", status="published",
                    published_url="https://weibo.com/x/1", published_at=datetime(2026, 1, 2))
            _insert(conn, "unit_statement", id=8, account_id=1, kind="rumour", text="不实", status="published",
                    published_url="https://weibo.com/x/1", published_at=datetime(2026, 1, 2))
            _insert(conn, "rumour_check", id=1, topic_id=1, unit_id=1, status="verified",
                    refutation_url="https://weibo.com/x/1", marked_at=datetime(2026, 1, 1))
            _insert(conn, "rumour_check", id=2, topic_id=1, unit_id=1, status="verified",
                    refutation_url="https://weibo.com/jyj/9", marked_at=datetime(2026, 1, 1))
        up = run_module("db", "upgrade", env=env)
        assert up.returncode == 0, up.stderr.decode()
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, statement_id, refutation_url FROM rumour_check ORDER BY id")).all()
        assert [tuple(r) for r in rows] == [(1, 8, "https://weibo.com/x/1"), (2, None, "https://weibo.com/jyj/9")]
    finally:
        engine.dispose()
        assert run_module("db", "downgrade", "base", env=env).returncode == 0


def test_users_create_list_and_set_password_for_a_new_install(runner, session):
    result = runner.invoke(args=["users", "create", "boss", "--name", "王主任", "--role", "admin"],
                           input="secret2026\nsecret2026\n")
    assert result.exit_code == 0 and "已创建账号 boss（系统管理员）" in result.output, result.output
    boss = session.execute(select(User).where(User.username == "boss")).scalar_one()
    assert boss.check_password("secret2026") and boss.role == "admin" and not boss.must_change_password
    result = runner.invoke(args=["users", "create", "zs1", "--name", "李四", "--role", "spokesperson",
                                 "--unit", "zs", "--head", "--temporary", "--password", "temp2026x"])
    assert result.exit_code == 0 and "首次登录须修改密码" in result.output
    zs1 = session.execute(select(User).where(User.username == "zs1")).scalar_one()
    assert zs1.unit.code == "zs" and zs1.is_unit_head and zs1.must_change_password
    listing = runner.invoke(args=["users", "list"]).output
    assert "boss" in listing and "待改密码" in listing and "中山街道" in listing
    for args, words in [(["boss2", "--role", "admin", "--password", "short"], "至少 8 位"),
                        (["zs2", "--role", "spokesperson", "--password", "temp2026x"], "--unit"),
                        (["zs2", "--role", "spokesperson", "--unit", "nope", "--password", "temp2026x"], "nope"),
                        (["boss", "--role", "admin", "--password", "temp2026x"], "已存在")]:
        result = runner.invoke(args=["users", "create", args[0], "--name", "某", *args[1:]])
        assert result.exit_code == 1 and words in result.output, (args, result.output)
    result = runner.invoke(args=["users", "set-password", "boss", "--temporary", "--password", "again2026"])
    assert result.exit_code == 0
    session.refresh(boss)
    assert boss.check_password("again2026") and boss.must_change_password
    assert runner.invoke(args=["users", "set-password", "nobody", "--password", "again2026"]).exit_code == 1


def test_commands_that_need_tables_say_to_run_db_upgrade(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path))
    from opinion import create_app
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.db'}"})
    result = app.test_cli_runner().invoke(args=["users", "create", "boss", "--name", "王", "--role", "admin",
                                                "--password", "secret2026"])
    assert result.exit_code == 1 and "db upgrade" in result.output, result.output


def test_production_refuses_to_start_without_its_database_and_secret(tmp_path):
    env = {"OPINION_ENV": "production", "SECRET_KEY": "", "OPINION_DATABASE_URL": "",
           "OPINION_INSTANCE_DIR": str(tmp_path)}
    result = run_module("users", "list", env=env)
    err = result.stderr.decode()
    assert result.returncode == 1 and "SECRET_KEY" in err and "Traceback" not in err
    result = run_module("users", "list", env={**env, "OPINION_ENV": "staging"})
    assert result.returncode == 1 and "OPINION_ENV=staging 无效" in result.stderr.decode()
    ok = run_module("db", "upgrade", env={**env, "SECRET_KEY": "k" * 32,
                                          "OPINION_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert ok.returncode == 0, ok.stderr.decode()
