"""The database handle and the one way this project stores time.

Times are stored as UTC and always come back time-zone aware (UTCDateTime), so the same code is
right on SQLite, which keeps no zone, and on PostgreSQL. Every model module builds on this one.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, TypeDecorator

__all__ = ["db", "utcnow", "UTCDateTime", "where_given"]

db = SQLAlchemy()


def utcnow() -> datetime:
    """Now, time-zone aware, in UTC: the default of every time column."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; pass an aware one")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


def where_given(query, *filters):
    """`query` narrowed by each (column, operator, value) filter whose value was given (not None or
    ""): the filters of a list page, each of which the person may leave empty. The condition is
    built only for a given value (SQL has no `< NULL`)."""
    for column, op, value in filters:
        if value is not None and value != "":
            query = query.where(op(column, value))
    return query
