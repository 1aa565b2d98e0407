"""The records: units, people, sources, posts, topics, cases and what happened to them.

One module per domain (base, accounts, topics, posts, cases, alerts, reports, settings, audit);
import every name from here, `from opinion.models import Case, db`. Importing this package
defines every table on `db.metadata`, which the migrations compare against.
"""
from opinion.models.accounts import ROLES, ApiToken, Unit, User
from opinion.models.alerts import Alert, Notification
from opinion.models.audit import AuditEvent
from opinion.models.base import UTCDateTime, db, utcnow
from opinion.models.cases import (
    CASE_STATUSES,
    OPEN_CASE_STATUSES,
    Case,
    CaseCoUnit,
    CaseEditLock,
    CaseExtension,
    CaseTransfer,
    DutyShift,
    Instruction,
    Reply,
    ReplyTemplate,
    RoutingCorrection,
)
from opinion.models.posts import Post, Source
from opinion.models.reports import Report
from opinion.models.settings import Setting
from opinion.models.topics import Topic

__all__ = [
    "db", "utcnow", "UTCDateTime",
    "ROLES", "Unit", "User", "ApiToken",
    "Source", "Post",
    "Topic",
    "CASE_STATUSES", "OPEN_CASE_STATUSES", "Case", "Reply", "ReplyTemplate", "CaseEditLock", "CaseCoUnit",
    "CaseTransfer", "CaseExtension", "Instruction", "DutyShift", "RoutingCorrection",
    "Alert", "Notification",
    "Report",
    "Setting",
    "AuditEvent",
]
