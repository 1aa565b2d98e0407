"""Times the spokesperson inbox, the monitor console, a topic page and post search over a large database.

Fills a fresh database (SQLite file by default, or --url postgresql+psycopg://...) with --posts posts
(default 1,000,000) and --cases cases (default 50,000), then requests each page through the app
several times and prints the median and worst time. Target: <= 300 ms a page, search <= 1 s.
SQLite is filled by bulk Core inserts; PostgreSQL inside the server (INSERT ... SELECT over
generate_series, the post indexes dropped during the fill and built after), which is what makes
10 M posts fit in minutes. Posts are a year of history in time order, each text three district words
and four random characters (so a search word can be rare or common). On PostgreSQL every statement
a page issues during one request is EXPLAINed and printed with the indexes it uses and any
sequential scan.

    python bench/bench_pages.py                      # SQLite in a temporary folder
    python bench/bench_pages.py --url postgresql+psycopg://postgres@127.0.0.1/bench_pages \
        --posts 10000000 --cases 500000
    OPINION_INSTANCE_DIR=/tmp/x python bench/bench_pages.py --skip-fill   # time again, no refill
"""
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, unquote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20000
YEAR_SECONDS = 365 * 86400
WORDS = ["中山路", "积水", "隧道", "噪音", "扰民", "学校", "拖欠工资", "公交", "垃圾", "物业", "停车", "医院"]


def fill(db, session, posts: int, cases: int) -> None:
    """Bulk-insert topics, posts, cases and alerts in chunks (Core inserts, one commit a chunk)."""
    from sqlalchemy import insert, select

    from opinion.models import Alert, Case, Post, Source, Topic, Unit, utcnow
    now = utcnow()
    rnd = random.Random(7)
    units = session.execute(select(Unit.id)).scalars().all()
    source = Source(code="bench", name="基准", kind="file", config={}, state={})
    session.add(source)
    session.commit()
    n_topics = max(posts // 200, 1)
    session.execute(insert(Topic), [{"key": f"t{i}", "label": f"话题{i} {rnd.choice(WORDS)}", "keywords": WORDS[:3],
                                     "state": {}, "status": "open" if i % 5 == 0 else "dormant",
                                     "post_count": 200, "negative_count": rnd.randint(0, 200),
                                     "hot_score": rnd.random() * 100, "unit_id": rnd.choice(units),
                                     "first_seen_at": now - timedelta(days=30), "last_seen_at": now - timedelta(minutes=i % 1440)}
                                    for i in range(n_topics)])
    session.commit()
    topic_ids = session.execute(select(Topic.id)).scalars().all()
    started = time.monotonic()
    for start in range(0, posts, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, posts)):
            tokens = rnd.sample(WORDS, 3)
            rows.append({"source_id": source.id, "external_id": str(i), "raw_text": "".join(tokens), "text": "".join(tokens),
                         "created_at": now - timedelta(seconds=rnd.randint(0, 30 * 86400)), "collected_at": now,
                         "topic_id": rnd.choice(topic_ids), "tokens": tokens, "polarity": "negative", "emotion": "anger"})
        session.execute(insert(Post), rows)
        session.commit()
    print(f"posts: {posts} in {time.monotonic() - started:.0f} s", file=sys.stderr)
    statuses = ["new", "acknowledged", "replied", "resolved", "closed", "verified"]
    for start in range(0, cases, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, cases)):
            created = now - timedelta(hours=rnd.randint(0, 60 * 24))
            rows.append({"topic_id": topic_ids[i % len(topic_ids)], "unit_id": units[i % len(units)], "title": f"工单{i}",
                         "priority": rnd.choice(["urgent", "high", "normal"]), "status": rnd.choice(statuses),
                         "acknowledge_due_at": created + timedelta(hours=2), "respond_due_at": created + timedelta(hours=24),
                         "resolve_due_at": created + timedelta(days=5), "created_at": created, "updated_at": created,
                         "version": 1, "escalation_level": rnd.choice([0, 0, 1, 2])})
        session.execute(insert(Case), rows)
        session.commit()
    session.execute(insert(Alert), [{"kind": "burst", "severity": "warning", "message": f"预警{i}", "dedup_key": f"b{i}",
                                     "status": "open" if i % 3 else "acknowledged", "created_at": now - timedelta(minutes=i)}
                                    for i in range(2000)])
    session.commit()


def _insert_select(conn, model, count: int, values: dict[str, str], params: dict, lateral: str = "") -> None:
    """INSERT INTO model's table SELECT ... FROM generate_series(1, count) g [lateral]: `values` are SQL
    expressions over g (and the lateral's columns); the other NOT NULL columns get their plain default."""
    from sqlalchemy import literal, text
    columns = dict(values)
    for column in model.__table__.columns:
        if column.name in columns or column.primary_key or column.nullable:
            continue
        default = column.default
        if default is None or not default.is_scalar:
            raise SystemExit(f"{model.__tablename__}.{column.name}: no value for the bench fill")
        columns[column.name] = str(literal(default.arg, column.type).compile(
            dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    conn.execute(text(f"INSERT INTO {model.__tablename__} ({', '.join(columns)}) "
                      f"SELECT {', '.join(columns.values())} FROM generate_series(1, {int(count)}) g {lateral}"), params)


def fill_postgresql(db, session, posts: int, cases: int) -> None:
    """The same kind of data as fill(), made by the server: a year of posts in time order."""
    from sqlalchemy import select, text

    from opinion.models import Alert, Case, Post, Source, Topic, Unit, utcnow
    now = utcnow().replace(tzinfo=None)
    units = session.execute(select(Unit.id)).scalars().all()
    source = Source(code="bench", name="基准", kind="file", config={}, state={})
    session.add(source)
    session.commit()
    n_topics = max(posts // 200, 1)
    words = "ARRAY[" + ", ".join(f"'{w}'" for w in WORDS) + "]"
    unit_array = "ARRAY[" + ", ".join(str(u) for u in units) + "]"
    params = {"now": now, "src": source.id}
    with db.engine.begin() as conn:
        conn.exec_driver_sql("SET maintenance_work_mem = '1GB'")
        conn.exec_driver_sql("SET synchronous_commit = off")
        started = time.monotonic()
        _insert_select(conn, Topic, n_topics, {
            "key": "'t' || g", "label": f"'话题' || g || ' ' || ({words})[1 + g % 12]",
            "keywords": "'[\"中山路\", \"积水\", \"隧道\"]'::json", "state": "'{}'::json",
            "status": "CASE WHEN g % 5 = 0 THEN 'open' ELSE 'dormant' END", "post_count": "200",
            "negative_count": "(random() * 200)::int", "hot_score": "random() * 100",
            "unit_id": f"({unit_array})[1 + g % {len(units)}]",
            "first_seen_at": f":now - (({n_topics} - g) * {YEAR_SECONDS / n_topics}) * interval '1 second' - interval '1 day'",
            "last_seen_at": f":now - (({n_topics} - g) * {YEAR_SECONDS / n_topics}) * interval '1 second'"}, params)
        first_topic = conn.execute(text("SELECT min(id) FROM topic")).scalar()
        indexes = conn.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'post' "
                                    "AND indexname <> 'post_pkey'")).all()
        constraint = "uq_post_source_external"
        for name, _ in indexes:
            if name != constraint:
                conn.exec_driver_sql(f"DROP INDEX {name}")
        conn.exec_driver_sql(f"ALTER TABLE post DROP CONSTRAINT {constraint}")
        # g * 0 ties the random draws to the row: without it the planner draws once for all rows
        char, word = "chr(19968 + (random() * 3000 + g * 0)::int)", f"({words})[1 + (random() * 11 + g * 0)::int]"
        lateral = (f"CROSS JOIN LATERAL (SELECT {char} || {char} || {char} || {char} || w[1] || w[2] || w[3] AS t, w "
                   f"FROM (SELECT ARRAY[{word}, {word}, {word}] AS w) s) r")
        _insert_select(conn, Post, posts, {
            "source_id": ":src", "external_id": "g::text", "raw_text": "r.t", "text": "r.t",
            "created_at": f":now - (({posts} - g) * {YEAR_SECONDS / posts}) * interval '1 second'", "collected_at": ":now",
            "topic_id": f"{first_topic} + (g - 1) / 200", "tokens": "to_json(r.w)",
            "polarity": "'negative'", "emotion": "'anger'"}, params, lateral)
        print(f"posts: {posts} in {time.monotonic() - started:.0f} s", file=sys.stderr)
        started = time.monotonic()
        conn.exec_driver_sql(f"ALTER TABLE post ADD CONSTRAINT {constraint} UNIQUE (source_id, external_id)")
        for name, definition in indexes:
            if name != constraint:
                conn.exec_driver_sql(definition)
        print(f"post indexes: {time.monotonic() - started:.0f} s", file=sys.stderr)
        statuses = "ARRAY['new', 'acknowledged', 'replied', 'resolved', 'closed', 'verified']"
        created = ":now - (random() * 60 * 24) * interval '1 hour'"
        _insert_select(conn, Case, cases, {
            "topic_id": f"{first_topic} + (g - 1) % {n_topics}", "unit_id": f"({unit_array})[1 + g % {len(units)}]",
            "title": "'工单' || g", "priority": "(ARRAY['urgent', 'high', 'normal'])[1 + g % 3]",
            "status": f"({statuses})[1 + (g * 7) % 6]", "created_at": created, "updated_at": ":now",
            "acknowledge_due_at": ":now + interval '2 hours' - (g % 97) * interval '1 hour'",
            "respond_due_at": ":now + interval '24 hours' - (g % 97) * interval '1 hour'",
            "resolve_due_at": ":now + interval '5 days' - (g % 97) * interval '1 hour'",
            "lookup_code": "'B' || lpad(g::text, 9, '0')", "escalation_level": "(ARRAY[0, 0, 1, 2])[1 + g % 4]"}, params)
        _insert_select(conn, Alert, 2000, {
            "kind": "'burst'", "severity": "'warning'", "message": "'预警' || g", "dedup_key": "'b' || g",
            "status": "CASE WHEN g % 3 = 0 THEN 'acknowledged' ELSE 'open' END",
            "created_at": ":now - g * interval '1 minute'"}, params)
        print(f"cases and alerts: {time.monotonic() - started:.0f} s", file=sys.stderr)


def captured_plans(app, client, path: str) -> list[tuple[float, str, list[str], list[str]]]:
    """Each SELECT one request of the page issues: (ms, statement, indexes used, tables scanned whole)."""
    from sqlalchemy import event

    from opinion.models import db
    statements = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_started"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append(((time.perf_counter() - conn.info["bench_started"]) * 1000, statement, parameters))
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)
    out = []
    with engine.connect() as conn:
        for ms, statement, parameters in statements:
            plan = "\n".join(conn.exec_driver_sql("EXPLAIN " + statement, parameters).scalars())
            used = re.findall(r"(?:Index Scan|Index Only Scan)(?: Backward)? using (\w+)|Bitmap Index Scan on (\w+)", plan)
            out.append((ms, statement, sorted({a or b for a, b in used}), sorted(set(re.findall(r"Seq Scan on (\w+)", plan)))))
    return out


def timed(client, path: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--cases", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-fill", action="store_true", help="time the pages of a database filled before")
    args = parser.parse_args()
    folder = os.environ.setdefault("OPINION_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-pages-"))
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import db
    from tests.factories import PASSWORD, make_user
    url = args.url or f"sqlite:///{folder}/bench.db"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        if not args.skip_fill:
            db.drop_all()
            db.create_all()
            sync_units(db.session, app.extensions["district"])
            db.session.commit()
            make_user(db.session, "slj_fyr", "spokesperson", "slj")
            make_user(db.session, "monitor1", "monitor", "center")
            started = time.monotonic()
            if db.engine.dialect.name == "postgresql":
                fill_postgresql(db, db.session, args.posts, args.cases)
            else:
                fill(db, db.session, args.posts, args.cases)
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")  # planner statistics, as a maintained database has
            print(f"filled in {time.monotonic() - started:.0f} s", file=sys.stderr)
        backend = db.engine.dialect.name
        pages = [("slj_fyr", "/inbox/"), ("slj_fyr", "/inbox/?overdue=1"), ("monitor1", "/monitor/")]
        pages += [("monitor1", path) for path in search_pages(db.session)]
    for user, path in pages:
        client = app.test_client()
        client.post("/login", data={"username": user, "password": PASSWORD})
        times = timed(client, path, args.runs)
        print(f"{backend} {unquote(path)}: median {statistics.median(times):.0f} ms, "
              f"worst {max(times):.0f} ms ({args.posts} posts, {args.cases} cases)", flush=True)
        if backend == "postgresql":
            seen: dict[str, list] = {}  # one line per statement text: a lazy load issued 50 times is one line
            for ms, statement, used, scanned in captured_plans(app, client, path):
                line = seen.setdefault(statement, [0, 0.0, used, scanned])
                line[0], line[1] = line[0] + 1, line[1] + ms
            for statement, (times_run, ms, used, scanned) in seen.items():
                print(f"    {ms:7.1f} ms{f' ({times_run}x)' if times_run > 1 else ''}  index: {', '.join(used) or '-'}"
                      f"{'  SEQ SCAN: ' + ', '.join(scanned) if scanned else ''}  | {' '.join(statement.split())[:100]}")


def search_pages(session) -> list[str]:
    """The newest topic's page, and searches for a common word, two common words and rare words of 1, 2
    and 3 characters (the start of a post from the middle of the history)."""
    from sqlalchemy import func, select

    from opinion.models import Post, Topic
    topic = session.execute(select(func.max(Topic.id))).scalar()
    middle = session.execute(select(Post.text).where(Post.id >= session.execute(
        select((func.min(Post.id) + func.max(Post.id)) / 2)).scalar()).order_by(Post.id).limit(1)).scalar()
    words = ["积水", "中山路 积水", middle[:1], middle[:2], middle[:3], middle[:3] + " " + middle[4:6]]
    return [f"/monitor/topics/{topic}"] + [f"/monitor/search?q={quote(w)}" for w in words]


if __name__ == "__main__":
    main()
