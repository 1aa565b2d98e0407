"""Configuration an administrator changes in the web pages, laid over the district file.

district.yaml is the shipped default. An admin's change to one of its sections (the deadline table,
the ladder, sensitive words, a unit's routing keywords…) is kept in the database as a Setting row and
checked by the same rules as the file (opinion.settings.district), so a page can never save what the file
loader would refuse. Every process applies the rows when it starts and again when their stamp
(latest change, number of rows) moves: web workers check before requests, the scheduler each tick.
"""
from __future__ import annotations

import copy
import logging
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from opinion import audit
from opinion.errors import DistrictFileError
from opinion.models import Setting, User, db, utcnow
from opinion.settings.district import District, build_district, read_district_data

EDITABLE = ("units", "deadlines", "escalation", "priority", "sensitive_words", "erroneous_terms",
            "reply_required_parts", "alerts", "calendar", "public_disclosure",
            "report_recipients", "matrix", "statement_approval", "situation_report_parts", "retention")
CHECK_EVERY_SECONDS = 5.0
log = logging.getLogger(__name__)


def plain(value):
    """A section as the pages edit it: the loader's line numbers taken out."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "__line__"}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def _annotated(value):
    """The loader marks every mapping with its line; a section from the database has none."""
    if isinstance(value, dict):
        return {**{k: _annotated(v) for k, v in value.items()}, "__line__": None}
    if isinstance(value, list):
        return [_annotated(v) for v in value]
    return value


def merged_data(path: str, overrides: dict) -> dict:
    """The file's data with admin sections laid over it; units are merged by code, not replaced,
    so a unit added to the file later still appears."""
    data = read_district_data(path)
    for key, value in overrides.items():
        if key == "units":
            by_code = {str(u.get("code")): i for i, u in enumerate(data["units"])}
            for unit in value:
                if unit.get("active") is False:  # a deactivated unit no longer routes or handles
                    if unit["code"] in by_code:
                        data["units"][by_code[unit["code"]]] = None
                    continue
                if unit["code"] in by_code:
                    data["units"][by_code[unit["code"]]] = _annotated(unit)
                else:
                    data["units"].append(_annotated(unit))
        else:
            data[key] = _annotated(value)
    data["units"] = [u for u in data["units"] if u is not None]
    return data


def build(path: str, overrides: dict) -> District:
    """The district as it is now; raises DistrictFileError with the file checker's message."""
    return build_district(path, merged_data(path, overrides))


def load_overrides(session) -> dict:
    return {s.key: s.value for s in session.execute(select(Setting)).scalars()}


def _stamp(session) -> tuple:
    return tuple(session.execute(select(func.max(Setting.updated_at), func.count()).select_from(Setting)).one())


def section(app, key: str):
    """What a section holds now (the admin's version where there is one), for the edit pages."""
    override = db.session.get(Setting, key)
    if override is not None and key != "units":
        return copy.deepcopy(override.value)
    return plain(merged_data(app.config["DISTRICT_FILE"], load_overrides(db.session)).get(key))


def refresh_district(app, *, force: bool = False) -> bool:
    """Re-apply the admin's settings if they changed since this process last looked; True if so.

    A database without the settings table yet (before `db upgrade`) keeps the file as it is.
    """
    state = app.extensions.setdefault("district_overrides", {"stamp": None, "checked": 0.0})
    if not force and time.monotonic() - state["checked"] < CHECK_EVERY_SECONDS:
        return False
    state["checked"] = time.monotonic()
    if not inspect(db.engine).has_table(Setting.__tablename__):
        return False
    stamp = _stamp(db.session)
    if stamp == state["stamp"] and not force:
        return False
    state["stamp"] = stamp
    try:
        district = build(app.config["DISTRICT_FILE"], load_overrides(db.session))
    except DistrictFileError:  # the file changed under saved settings: keep running as before
        log.exception("管理员设置与辖区配置文件不一致，沿用当前配置")
        return False
    _install(app, district)
    return True


def _install(app, district: District) -> None:
    app.extensions["district"] = district
    # Routing, priority and the segmenter's word list are built from the district: build them again.
    app.extensions.pop("opinion.pipeline", None)
    app.extensions.pop("search_segmenter", None)


def save_section(app, key: str, value, user: User, now: datetime | None = None) -> District:
    """Check and store an admin's version of one section, audited with before and after.

    Raises DistrictFileError (message without the file name) if the district would not load.
    The caller commits; the running process uses the new district at once.
    """
    if key not in EDITABLE:
        raise DistrictFileError(f"配置项 “{key}” 不能在网页上修改")
    overrides = load_overrides(db.session)
    before = section(app, key)
    overrides[key] = value
    try:
        district = build(app.config["DISTRICT_FILE"], overrides)
    except DistrictFileError as exc:
        raise DistrictFileError(str(exc).split(": ", 1)[-1]) from None
    actor_id = user.id  # read first: on an expired user it queries, which would flush a row without its value
    row = db.session.get(Setting, key)
    if row is None:
        row = Setting(key=key)
        db.session.add(row)
    row.value, row.updated_by_id, row.updated_at = value, actor_id, now or utcnow()
    audit.record(db.session, "config.changed", "setting", None, actor=user, at=row.updated_at,
                 before={key: before}, after={key: value}, reason=key)
    _install(app, district)
    return district


def init_overrides(app) -> None:
    """Apply stored settings at start-up and keep web workers current."""

    with app.app_context():
        url = db.engine.url
        # A SQLite file that does not exist holds no settings; connecting would create it, and
        # commands such as `analyze` must leave no database behind.
        fresh_sqlite = (url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
                        and not Path(url.database).exists())
        if not fresh_sqlite:
            try:
                refresh_district(app, force=True)
            except SQLAlchemyError:  # no database yet: the file alone until `db upgrade`
                db.session.rollback()

    @app.before_request
    def _current_configuration():
        refresh_district(app)
