"""Exports 100,000 cases (CSV streamed, then Excel) and prints the time and the peak memory.

Fills a fresh SQLite file (or --url) with --cases cases by bulk Core inserts, then runs the
export the /export/cases.csv and .xlsx pages run (inbox_query → reports.exports.case_rows →
spreadsheet.csv_chunks / xlsx_file) for a monitor, who sees every case. The CSV's peak memory is
Python's own allocations during the export (tracemalloc), so the fill does not count; the Excel
export's is the process's peak resident size before and after it.

    python bench/bench_export.py                 # 100,000 cases, SQLite in a temporary folder
    python bench/bench_export.py --cases 20000 --url postgresql+psycopg://postgres@127.0.0.1/bench_export
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 20000


def fill(session, cases: int) -> None:
    from sqlalchemy import insert, select

    from opinion.models import Case, Unit, utcnow
    now, rnd = utcnow(), random.Random(7)
    units = session.execute(select(Unit.id)).scalars().all()
    statuses = ["new", "acknowledged", "replied", "resolved", "closed", "verified", "reopened"]
    for start in range(0, cases, CHUNK):
        rows = []
        for i in range(start, min(start + CHUNK, cases)):
            created = now - timedelta(hours=rnd.randint(0, 90 * 24))
            rows.append({"unit_id": units[i % len(units)], "title": f"工单{i} 中山路隧道积水，车辆熄火",
                         "category": "城乡建设", "priority": rnd.choice(["urgent", "high", "normal"]),
                         "status": rnd.choice(statuses), "acknowledge_due_at": created + timedelta(hours=2),
                         "acknowledged_at": created + timedelta(hours=1), "respond_due_at": created + timedelta(hours=24),
                         "resolve_due_at": created + timedelta(days=5), "created_at": created, "updated_at": created,
                         "version": 1, "escalation_level": rnd.choice([0, 0, 1, 2])})
        session.execute(insert(Case), rows)
        session.commit()


def measure(label: str, run) -> None:
    tracemalloc.start()
    started = time.perf_counter()
    size = run()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{label}: {size / 1e6:.1f} MB written in {seconds:.1f} s, peak Python memory {peak / 2**20:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url")
    parser.add_argument("--cases", type=int, default=100_000)
    args = parser.parse_args()
    folder = os.environ.setdefault("OPINION_INSTANCE_DIR", tempfile.mkdtemp(prefix="bench-export-"))
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.cases.queries import inbox_query
    from opinion.models import db, utcnow
    from opinion.reports.exports import CASE_HEADER, case_rows
    from opinion.spreadsheet import csv_chunks, xlsx_file
    from tests.factories import make_user
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": args.url or f"sqlite:///{folder}/bench.db"})
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        db.session.commit()
        monitor = make_user(db.session, "monitor1", "monitor", "center")
        started = time.perf_counter()
        fill(db.session, args.cases)
        print(f"filled {args.cases} cases in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        db.session.expunge_all()
        monitor = db.session.merge(monitor)

        def rows():
            query, due = inbox_query(monitor, status="all")
            return case_rows(db.session, query, due, app.config["TIMEZONE"], utcnow())

        def csv_run() -> int:
            written = 0
            for chunk in csv_chunks(CASE_HEADER, rows()):
                written += len(chunk.encode("utf-8"))
            return written

        def xlsx_run() -> int:
            path = Path(folder) / "cases.xlsx"
            xlsx_file(CASE_HEADER, rows(), path)
            return path.stat().st_size

        measure(f"CSV  {args.cases} cases", csv_run)
        # openpyxl is slow under tracemalloc's hooks (minutes for 100,000 rows on a loaded machine):
        # the Excel export is measured by the process's peak resident size before and after instead.
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        size = xlsx_run()
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"XLSX {args.cases} cases: {size / 1e6:.1f} MB written in {time.perf_counter() - started:.1f} s, "
              f"process peak resident size {before:.0f} MiB before, {after:.0f} MiB after")


if __name__ == "__main__":
    main()
