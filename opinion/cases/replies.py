"""The reply composer: templates (口径库), the check before sending, approval, publishing, edit lock.

A reply is written as a draft, checked for sensitive and erroneous terms (错敏词) and for the parts
every public reply needs, sent to approval when the case is urgent or sensitive, and published back
through the channel the post came from where that channel can take a reply (otherwise recorded as
answered elsewhere, with the link). Only publishing stops the first-response clock, through
opinion.cases.add_reply. One person composes on a case at a time (CaseEditLock).
"""
from __future__ import annotations

import re
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import case as sql_case
from sqlalchemy import select

from collectors import SourceNotConfigured, make_collector
from collectors.redact import redact, secret_values
from opinion import audit
from opinion.cases import lifecycle as cases
from opinion.cases.editlock import acquire_lock, current_lock, release_lock  # noqa: F401  (part of this API)
from opinion.cases.public import with_lookup_line
from opinion.errors import CaseStateError, PermissionDenied, PublishError
from opinion.models import Case, Post, Reply, ReplyTemplate, Source, User
from opinion.notify import notify
from opinion.settings.district import District

MAX_LENGTH = 5000
PLACEHOLDERS = ("称呼", "话题", "单位", "承办单位", "日期")
# What a template leaves for the author to write, e.g. 【请填写：办理情况】.
FILL_MARK = re.compile(r"【请填写[^】]*】")
LEFT_PLACEHOLDER = re.compile(r"\{[^{}\s]{1,12}\}")


@dataclass(frozen=True)
class Finding:
    """One problem the check found; `start`/`end` are character offsets in the text, if any."""

    kind: str  # empty | too_long | unfilled | sensitive | erroneous | missing_part | publish
    severity: str  # error: cannot be sent | warning: sent only once the author confirms
    message: str
    start: int | None = None
    end: int | None = None
    suggestion: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Outcome:
    """What `submit` did: blocked (findings say why), pending_approval or published."""

    status: str
    reply: Reply
    findings: list[Finding]
    reason: str | None = None  # why approval is needed


# --- templates ---------------------------------------------------------------------------------

def templates_for(session, case: Case) -> list[ReplyTemplate]:
    """Active templates usable on this case: the unit's own first, then the category's."""
    rows = session.execute(
        select(ReplyTemplate).where(
            ReplyTemplate.active.is_(True),
            (ReplyTemplate.unit_id.is_(None)) | (ReplyTemplate.unit_id == case.unit_id),
            (ReplyTemplate.category.is_(None)) | (ReplyTemplate.category == case.category))
        .order_by(sql_case((ReplyTemplate.unit_id.is_(None), 1), else_=0),
                  sql_case((ReplyTemplate.category.is_(None), 1), else_=0), ReplyTemplate.id)
    ).scalars().all()
    return list(rows)


def placeholder_values(session, case: Case, now: datetime, tz: str = "Asia/Shanghai") -> dict[str, str]:
    """What each placeholder stands for on this case, today."""
    author = session.execute(
        select(Post.author).where(Post.topic_id == case.topic_id, Post.topic_id.is_not(None),
                                  Post.duplicate_of_id.is_(None), Post.author.is_not(None))
        .order_by(Post.created_at).limit(1)).scalar_one_or_none()
    local = now.astimezone(ZoneInfo(tz))
    return {"称呼": _greeting(author), "话题": case.title,
            "单位": case.unit.name, "承办单位": case.unit.name,
            "日期": f"{local.year}年{local.month}月{local.day}日"}


def _greeting(author: str | None) -> str:
    """Greet by the name people see: 网友“江边老王”, but 网友25994 itself, not 网友“网友25994”."""
    if not author:
        return "网友"
    if author.startswith(("网友", "市民", "用户")):
        return author
    return f"网友“{author}”"


def template_problems(body: str) -> list[str]:
    """What is wrong with a template's wording, for the 口径库 form: unknown placeholders."""
    known = {"{" + p + "}" for p in PLACEHOLDERS}
    unknown = sorted({m.group(0) for m in LEFT_PLACEHOLDER.finditer(body or "")} - known)
    problems = [] if (body or "").strip() else ["模板内容不能为空"]
    if unknown:
        problems.append(f"未知占位符 {'、'.join(unknown)}（可用：{'、'.join(sorted(known))}）")
    return problems


def render(body: str, values: dict[str, str]) -> str:
    """Fill the placeholders; plain replacement, so braces in the wording itself are harmless."""
    for name, value in values.items():
        body = body.replace("{" + name + "}", value)
    return body


# --- a reply longer than its channel takes --------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


def split_reply(text: str, limit: int) -> list[str]:
    """`text` as numbered parts of at most `limit` characters each, cut between sentences where
    one fits (then anywhere): a Weibo comment takes 140, an official answer often runs to 300."""
    text = text.strip()
    if len(text) <= limit:
        return [text]
    room = limit - len("（10/10）")
    pieces, current = [], ""
    for sentence in (s for s in _SENTENCE_END.split(text) if s):
        while len(sentence) > room:  # a sentence longer than a part: cut it
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:room])
            sentence = sentence[room:]
        if len(current) + len(sentence) > room:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return [f"（{n}/{len(pieces)}）{piece}" for n, piece in enumerate(pieces, 1)]


def short_reply(text: str, limit: int, link: str) -> str:
    """A reply within `limit` that keeps the opening sentences and points to the full answer at
    `link` (published on the unit's website or the 12345 platform)."""
    tail = f"详细答复见：{link}"
    room = limit - len(tail)
    if room < 10:
        raise CaseStateError(f"全文链接太长（{len(link)} 字），放不进 {limit} 字的回复，请使用短链接")
    head = ""
    for sentence in (s for s in _SENTENCE_END.split(text.strip()) if s):
        if len(head) + len(sentence) > room:
            break
        head += sentence
    if not head:
        head = text.strip()[:room - 1] + "…"
    return head + tail


# --- the check ---------------------------------------------------------------------------------

def check_reply(district: District, text: str) -> list[Finding]:
    """Everything wrong with `text` as a public reply, in order of position."""
    text = text or ""
    if not text.strip():
        return [Finding("empty", "error", "回复内容不能为空")]
    found: list[Finding] = []
    if len(text) > MAX_LENGTH:
        found.append(Finding("too_long", "error", f"回复内容过长（{len(text)} 字，最多 {MAX_LENGTH} 字）"))
    found += _repetition(text)
    for m in FILL_MARK.finditer(text):
        found.append(Finding("unfilled", "error", f"尚未填写：{m.group(0)}", m.start(), m.end()))
    for m in LEFT_PLACEHOLDER.finditer(text):
        found.append(Finding("unfilled", "error", f"占位符 {m.group(0)} 未替换", m.start(), m.end()))
    for word in district.sensitive_words:
        for start in _occurrences(text, word):
            found.append(Finding("sensitive", "warning", f"敏感词“{word}”，请斟酌措辞",
                                 start, start + len(word)))
    for wrong, right in district.erroneous_terms.items():
        inside_right = [(s, s + len(right)) for s in _occurrences(text, right)]
        for start in _occurrences(text, wrong):
            if any(a <= start and start + len(wrong) <= b for a, b in inside_right):
                continue  # 旅游局 inside 文化和旅游局 is the right name, not the old one
            found.append(Finding("erroneous", "warning", f"“{wrong}”应为“{right}”",
                                 start, start + len(wrong), suggestion=right))
    for part in district.reply_required_parts:
        if not any(re.search(p, text) for p in part["patterns"]):
            found.append(Finding("missing_part", "warning", f"缺少{part['name']}"))
    return sorted(found, key=lambda f: (f.start is None, f.start or 0))


_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")


def _repetition(text: str) -> list[Finding]:
    """A reply made of the same sentence (or the same few characters) over and over: a 5,000-character
    paste passed every other check. Sentences repeated, or text that compresses to a fraction of
    itself (zlib: real prose keeps well over a quarter of its size), are refused with the reason."""
    if len(text) < 200:
        return []
    sentences = [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip()) >= 4]
    if len(sentences) >= 4:
        sentence, count = Counter(sentences).most_common(1)[0]
        if count >= 3 and count * len(sentence) >= 0.3 * len(text):
            return [Finding("repetitive", "error", f"同一句话重复了 {count} 次（“{sentence[:20]}…”），"
                                                   "请删去重复内容，只保留一遍")]
    raw = text.encode("utf-8")
    if len(zlib.compress(raw, 6)) < 0.12 * len(raw):
        return [Finding("repetitive", "error", f"回复内容大量重复（{len(text)} 字中多为重复片段），"
                                               "请删去重复内容后再提交")]
    return []


def _occurrences(text: str, word: str) -> list[int]:
    return [m.start() for m in re.finditer(re.escape(word), text)] if word else []


def approval_reason(session, district: District, case: Case, text: str) -> str | None:
    """Why a reply on this case must be approved before publishing, or None if it need not."""
    if case.priority == "urgent":
        return "紧急工单的回复须经审核"
    words = district.sensitive_words
    if any(w in text for w in words):
        return "回复含敏感词，须经审核"
    if any(w in (case.title or "") for w in words):
        return "敏感工单的回复须经审核"
    if case.topic_id is not None:
        texts = session.execute(select(Post.text).where(Post.topic_id == case.topic_id)
                                .order_by(Post.created_at.desc()).limit(200)).scalars()
        if any(w in t for t in texts for w in words):
            return "敏感工单的回复须经审核"
    return None


def approvers(session, case: Case, exclude: User | None = None) -> list[User]:
    """Who is told a reply waits: the unit's heads, or the monitors where the unit has none."""
    def active(*conditions):
        rows = session.execute(select(User).where(User.active.is_(True), *conditions)).scalars()
        return [u for u in rows if exclude is None or u.id != exclude.id]
    return (active(User.unit_id == case.unit_id, User.is_unit_head.is_(True))
            or active(User.role == "monitor"))


def can_approve(user: User, reply: Reply) -> bool:
    """A monitor, or the head of the case's unit; never the author (four eyes)."""
    if reply.author_id == user.id:
        return False
    return user.role == "monitor" or (user.role == "spokesperson" and user.is_unit_head
                                       and user.unit_id == reply.case.unit_id)


# --- drafts, submission, approval, publishing --------------------------------------------------

def draft_of(session, case: Case, user: User) -> Reply | None:
    """The user's unsent (draft or rejected) reply on this case, to continue writing."""
    return session.execute(select(Reply).where(Reply.case_id == case.id, Reply.author_id == user.id,
                                               Reply.status.in_(("draft", "rejected")))
                           .order_by(Reply.id.desc()).limit(1)).scalar_one_or_none()


def save_draft(session, case: Case, user: User, text: str, now: datetime, *,
               template_id: int | None = None, link: str | None = None) -> Reply:
    """Keep what the author wrote, whatever happens next; one draft per author and case."""
    cases.check_can_act(user, case)
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能再回复")
    reply = draft_of(session, case, user)
    if reply is None:
        reply = Reply(case=case, author_id=user.id, created_at=now, channel="web")
        session.add(reply)
    reply.text, reply.status, reply.external_url = (text or "")[:20000], "draft", link or None
    reply.template_id = template_id or reply.template_id
    session.flush()
    return reply


def submit(session, district: District, case: Case, user: User, text: str, now: datetime, *,
           template_id: int | None = None, link: str | None = None, confirmed: bool = False,
           split: bool = False, tz: str = "Asia/Shanghai") -> Outcome:
    """Save, check, then publish or send to approval. The caller commits in every outcome, so a
    blocked reply stays as a draft and nothing the author wrote is lost."""
    acquire_lock(session, case, user, now, tz)
    reply = save_draft(session, case, user, text, now, template_id=template_id, link=link)
    findings = check_reply(district, reply.text)
    if any(f.severity == "error" for f in findings) or (findings and not confirmed):
        return Outcome("blocked", reply, findings)
    reason = approval_reason(session, district, case, reply.text)
    if reason:
        reply.status, reply.review_note = "pending_approval", None
        release_lock(session, case, user)
        audit.record(session, "reply.submitted", "case", case.id, actor=user, at=now, reason=reason,
                     after={"reply_id": reply.id, "status": "pending_approval"})
        notify(session, approvers(session, case, exclude=user), f"待审核回复：工单 #{case.id}",
               f"{user.name} 提交了对“{case.title}”的回复（{reason}），请审核。", case=case, now=now)
        return Outcome("pending_approval", reply, findings, reason)
    try:
        publish(session, case, reply, user, now, link=link, split=split)
    except (PublishError, CaseStateError) as exc:  # raised before anything was recorded as sent
        return Outcome("blocked", reply, findings + [Finding("publish", "error", str(exc))])
    release_lock(session, case, user)
    return Outcome("published", reply, findings)


def approve(session, reply: Reply, user: User, now: datetime, *, link: str | None = None) -> None:
    """An approver lets a pending reply go out, and it is published at once."""
    if reply.status != "pending_approval":
        raise CaseStateError("该回复不在待审核状态")
    if not can_approve(user, reply):
        raise PermissionDenied("只有本单位负责人或舆情监测员可以审核，且不能审核自己的回复")
    reply.approved_by_id, reply.approved_at = user.id, now
    audit.record(session, "reply.approved", "case", reply.case_id, actor=user, at=now,
                 after={"reply_id": reply.id})
    publish(session, reply.case, reply, user, now, link=link or reply.external_url)


def withdraw(session, reply: Reply, user: User, now: datetime) -> None:
    """The author takes a pending reply back to change it: it is a draft again, off the approvers' list."""
    if reply.status != "pending_approval":
        raise CaseStateError("该回复不在待审核状态，无需撤回")
    if reply.author_id != user.id:
        raise PermissionDenied("只能撤回自己提交的回复")
    reply.status = "draft"
    audit.record(session, "reply.withdrawn", "case", reply.case_id, actor=user, at=now,
                 after={"reply_id": reply.id, "status": "draft"})


def rejection_note(status: str, allowed: bool, note: str, what: str, who_may: str) -> str:
    """The reason for sending a pending draft (a reply, a unit's statement) back, checked: it must
    be waiting for approval, `allowed` must hold (else `who_may` says who may), and a reason given."""
    if status != "pending_approval":
        raise CaseStateError(f"该{what}不在待审核状态")
    if not allowed:
        raise PermissionDenied(who_may)
    note = (note or "").strip()
    if not note:
        raise CaseStateError("退回须说明理由")
    return note[:2000]


def reject(session, reply: Reply, user: User, note: str, now: datetime) -> None:
    """Send a pending reply back to its author with the reason."""
    note = rejection_note(reply.status, can_approve(user, reply), note, "回复",
                          "只有本单位负责人或舆情监测员可以审核，且不能审核自己的回复")
    reply.status, reply.review_note = "rejected", note
    if reply.author is not None:
        notify(session, [reply.author], f"回复被退回：工单 #{reply.case_id}",
               f"{user.name} 退回了您对“{reply.case.title}”的回复：{note[:500]}", case=reply.case,
               kind="reply_rejected", now=now)
    audit.record(session, "reply.rejected", "case", reply.case_id, actor=user, at=now, reason=note[:2000],
                 after={"reply_id": reply.id})


def reply_channel(session, case: Case):
    """(collector, post) to answer the case's topic through, or (None, None) where no source can."""
    rows = session.execute(
        select(Post, Source).join(Source, Post.source_id == Source.id)
        .where(Post.topic_id == case.topic_id, Post.topic_id.is_not(None), Post.duplicate_of_id.is_(None))
        .order_by(Post.created_at).limit(50)).all()
    collectors: dict[int, object] = {}
    for post, source in rows:
        if source.id not in collectors:
            try:
                collectors[source.id] = make_collector(source.kind, source.config or {}, source.state or {})
            except SourceNotConfigured:
                collectors[source.id] = None
        collector = collectors[source.id]
        if collector is not None and getattr(collector, "can_publish", False):
            return collector, post
    return None, None


def channel_limit(session, case: Case) -> tuple[int | None, str | None]:
    """(characters the case's reply channel takes, the channel's name); (None, None) if no limit."""
    collector, post = reply_channel(session, case)
    limit = getattr(collector, "max_reply_chars", None) if collector is not None else None
    return limit, (post.source.name if post is not None else None)


def publish(session, case: Case, reply: Reply, user: User, now: datetime, *, link: str | None = None,
            split: bool = False) -> None:
    """Post the reply back where the citizen wrote, or record it as answered elsewhere with its link.

    Raises PublishError (the reply kept, with the error) when the channel refuses, and
    CaseStateError when the case cannot take a reply, or there is no channel and no link.
    """
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能再回复")
    collector, post = reply_channel(session, case)
    if collector is None:
        if not link:
            raise CaseStateError("该工单的来源没有回复通道：请先在相应平台发布，再填写发布链接")
        if not link.lower().startswith(("http://", "https://")):
            raise CaseStateError("发布链接须以 http:// 或 https:// 开头")
    else:
        limit = getattr(collector, "max_reply_chars", None)  # a Weibo comment takes 140 characters
        length = len(with_lookup_line(reply.text, case))
        if limit and length > limit and not split:
            raise CaseStateError(f"“{post.source.name}”的回复最多 {limit} 字，当前 {length} 字（含结尾的查询码）："
                                 "请精简，或选择“分条发布”，或改为短回复并附全文链接")
    # Record first, inside a savepoint, then post: a case that refuses the reply (its state, a
    # conflict) fails here, before anything is public; a channel that refuses undoes only the
    # record, never the draft, which the caller commits.
    savepoint = session.begin_nested()
    try:
        cases.add_reply(session, case, user, reply.text, now, reply=reply,
                        channel=post.source.kind if collector else "elsewhere",
                        external_url=None if collector else link)
        session.flush()
    except Exception:
        savepoint.rollback()
        raise
    if collector is not None:
        try:
            limit = getattr(collector, "max_reply_chars", None)
            parts = split_reply(reply.text, limit) if split and limit else [reply.text]
            # A part refused after the first went out cannot be taken back: the error says how far it got.
            urls = []
            for part in parts:
                try:
                    urls.append(collector.publish_reply(post.external_id, part))
                except Exception as exc:
                    if urls:
                        exc.args = (f"已发出前 {len(urls)} 条（共 {len(parts)} 条），第 {len(urls) + 1} 条失败：{exc}",)
                    raise
            url = urls[0]
        except Exception as exc:  # a channel failure of any kind is the channel's, not ours: keep it
            savepoint.rollback()
            why = redact(str(exc), secret_values(post.source.config))  # the API URL carries the token
            reply.publish_error = f"{type(exc).__name__}: {why}"[:2000]
            raise PublishError(f"通过“{post.source.name}”发布失败：{why}；回复已保存，可稍后重试") from None
        reply.external_url = url or link
    savepoint.commit()
    reply.publish_error = None
