"""What a citizen may see of a case without logging in: the public lookup by 查询码.

The public pages never receive a Case: `public_view` copies out the few fields that are public
(status, the deadlines as promised, the handling unit, the published replies) and masks personal
data in every text it copies, so an internal note, a staff name or a phone number cannot reach a
template by accident. Codes are normalised forgivingly (case, spaces, dashes, O for 0) and an
unknown or malformed code is one and the same "not found" for the caller.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from opinion.labels import CASE_STATUS_NAMES, SATISFACTION_NAMES
from opinion.models import LOOKUP_ALPHABET, LOOKUP_LENGTH, Case, SurveyLink

__all__ = ["mask_personal", "normalise_code", "format_code", "find_by_code", "public_view", "PublicCase",
           "lookup_line", "with_lookup_line", "without_lookup_line"]

# --- masking -----------------------------------------------------------------------------------

# 18-digit resident ID (last character may be X) and the old 15-digit one.
_ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<!\d)\d{15}(?!\d)")
# Mobile numbers (optionally +86, spaces or dashes between the groups) and landlines with area code.
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?(\d{7,8})(?!\d)")
# House numbers: the digits before 号楼 栋 幢 单元 室 户 号 (not a date's 5月3号, not a metro 1号线).
_HOUSE = re.compile(r"(?<![\d月])\d+(?:[-－]\d+)*(?=\s*(?:号楼|号院|栋|幢|单元|室|户|号(?![线]))|[-－]\d+室)")


def mask_personal(text: str | None) -> str:
    """`text` with ID numbers, phone numbers and house numbers masked, for public display."""
    if not text:
        return ""
    text = _ID18.sub(lambda m: m.group(0)[:4] + "*" * 12 + m.group(0)[-2:], text)
    text = _ID15.sub(lambda m: m.group(0)[:4] + "*" * 9 + m.group(0)[-2:], text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)
    text = _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)[-2:]}", text)
    return _HOUSE.sub("**", text)


# --- codes -------------------------------------------------------------------------------------

_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def normalise_code(text: str | None) -> str | None:
    """The code in canonical form, or None when it cannot be one (wrong length or characters)."""
    if not text or len(text) > 40:
        return None
    code = re.sub(r"[\s\-_]", "", text).upper().translate(_CONFUSABLE)
    if len(code) != LOOKUP_LENGTH or any(c not in LOOKUP_ALPHABET for c in code):
        return None
    return code


def format_code(code: str) -> str:
    """As printed for people: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def lookup_line(case: Case) -> str:
    """The line a published reply ends with, so the citizen can follow the matter up."""
    return f"【办理进度查询码：{format_code(case.lookup_code)}】"


_LOOKUP_LINE = re.compile(r"\n?【办理进度查询码：[0-9A-Z]{5}-[0-9A-Z]{5}】")


def without_lookup_line(text: str) -> str:
    """A reply as shown to everyone else (信息公开, Open311): the code is the citizen's to use."""
    return _LOOKUP_LINE.sub("", text or "")


def with_lookup_line(text: str, case: Case) -> str:
    """A reply's text as published: it carries the case's code once, at the end."""
    line = lookup_line(case)
    return text if line in text else f"{text.rstrip()}\n{line}"


def find_by_code(session, text: str | None) -> Case | None:
    """The case with this code, or None for any reason (unknown, malformed). A malformed code
    is looked up too (as an impossible value) so both take the same path through the database."""
    code = normalise_code(text) or "!"
    return session.execute(select(Case).where(Case.lookup_code == code)).scalar_one_or_none()


# --- the public view ---------------------------------------------------------------------------

@dataclass(frozen=True)
class PublicReply:
    at: datetime | None
    text: str


@dataclass(frozen=True)
class PublicCase:
    code: str
    title: str
    status: str
    status_name: str
    unit: str
    received_at: datetime
    acknowledge_due_at: datetime
    respond_due_at: datetime
    resolve_due_at: datetime
    acknowledged_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    satisfaction: str | None
    replies: list[PublicReply] = field(default_factory=list)
    survey_token: str | None = None  # an unused, unexpired survey link while the case awaits 回访


def public_view(session, case: Case, now: datetime) -> PublicCase:
    """The public fields of `case`, every text masked. Internal notes (the resolution note,
    routing reasons, transfer and extension reasons), staff and the topic's posts are left out."""
    survey = None
    # Where the case has a phone number the link goes by SMS only: a reply on a public channel
    # (a Weibo comment) shows the code to everyone, an SMS only to the citizen.
    if case.status == "resolved" and not case.contact_phone:
        survey = session.execute(
            select(SurveyLink.token).where(SurveyLink.case_id == case.id, SurveyLink.used_at.is_(None),
                                           SurveyLink.expires_at > now)
            .order_by(SurveyLink.id.desc()).limit(1)).scalar_one_or_none()
    return PublicCase(
        code=format_code(case.lookup_code), title=mask_personal(case.title), status=case.status,
        status_name=CASE_STATUS_NAMES.get(case.status, case.status), unit=case.unit.name,
        received_at=case.created_at, acknowledge_due_at=case.acknowledge_due_at,
        respond_due_at=case.respond_due_at, resolve_due_at=case.resolve_due_at,
        acknowledged_at=case.acknowledged_at, first_response_at=case.first_response_at,
        resolved_at=case.resolved_at, satisfaction=SATISFACTION_NAMES.get(case.satisfaction or ""),
        replies=[PublicReply(r.published_at or r.created_at, mask_personal(r.text))
                 for r in case.published_replies],
        survey_token=survey)
