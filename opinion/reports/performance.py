"""Each unit's response performance (考核) for a period, computed from the case records.

Nothing here is typed in by hand: the figures come from the cases' own timestamps and deadlines,
the extension and transfer requests and the callbacks, so a unit's grade can always be traced back
to the cases behind it. The cohort is the cases a unit accepted (opened for it) in [start, end);
"overdue" is judged at the end of the period, or now if the period has not ended.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from opinion.models import Case, CaseExtension, CaseTransfer, Unit, utcnow
from opinion.settings.district import District

DEFAULT_WEIGHTS = {"acknowledged_on_time": 0.2, "responded_on_time": 0.3, "resolved_on_time": 0.3,
                   "satisfaction": 0.2}
DEFAULT_GRADES = {"A": 90.0, "B": 80.0, "C": 60.0}
SATISFIED = ("satisfied", "basic")  # 满意 and 基本满意 both count as satisfied


def unit_performance(session, district: District, start: datetime, end: datetime, *,
                     now: datetime | None = None) -> list[dict]:
    """One dict per unit that accepted cases opened in [start, end) (or returned one of them to
    the monitoring centre), best score first; units with no score last.

    Keys (rates are 0..1 or None when nothing stands behind them; hours are floats or None):

    - ``unit``, ``unit_name``: the unit's code and Chinese name
    - ``accepted``: cases opened for the unit in the period (受理)
    - ``acknowledged``, ``acknowledged_on_time``, ``acknowledged_on_time_rate`` (签收及时率; each
      rate's denominator is the cases done or past that deadline, so a case still inside its
      deadline counts neither way)
    - ``responded``, ``responded_on_time``, ``responded_on_time_rate`` (首次回应及时率)
    - ``resolved``, ``resolved_on_time``, ``resolved_on_time_rate`` (办结及时率; an approved
      extension moves the deadline, so a case resolved within it is on time)
    - ``resolution_rate``: resolved / accepted (办结率)
    - ``avg_acknowledge_hours``, ``avg_response_hours``, ``avg_resolve_hours``: from opening
    - ``overdue``: cases that missed at least one deadline (done late, or not done by then)
    - ``extensions_requested``, ``extensions_approved``: 延期 requests on these cases
    - ``transfers``: 退回 requests the unit made on these cases
    - ``callbacks``, ``satisfied``, ``basically_satisfied``, ``unsatisfied``, ``satisfaction_rate``
      ((满意 + 基本满意) / 回访)
    - ``reopened``, ``reopen_rate``: cases reopened after an unsatisfied callback / resolved
    - ``score`` (0..100, weighted mean of the rates, weights in district.yaml) and ``grade``
      (A–D by the cut-offs in district.yaml)
    """
    as_of = min(end, now or utcnow())
    cases = session.execute(select(Case).where(Case.created_at >= start, Case.created_at < end)
                            .order_by(Case.id)).scalars().all()
    ids = [c.id for c in cases] or [-1]
    extensions = session.execute(select(CaseExtension.case_id, CaseExtension.status)
                                 .where(CaseExtension.case_id.in_(ids))).all()
    transfers = session.execute(select(CaseTransfer.case_id, CaseTransfer.from_unit_id)
                                .where(CaseTransfer.case_id.in_(ids))).all()
    units = {u.id: u for u in session.execute(select(Unit)).scalars()}
    by_unit: dict[int, list[Case]] = {}
    for case in cases:
        by_unit.setdefault(case.unit_id, []).append(case)
    # A unit whose cases were all transferred away still answers for the transfers it made.
    for _, from_unit in transfers:
        by_unit.setdefault(from_unit, [])
    rows = []
    for unit_id, unit_cases in by_unit.items():
        case_ids = {c.id for c in unit_cases}
        row = _figures(unit_cases, as_of)
        row["extensions_requested"] = sum(1 for cid, _ in extensions if cid in case_ids)
        row["extensions_approved"] = sum(1 for cid, s in extensions if cid in case_ids and s == "approved")
        row["transfers"] = sum(1 for _, from_unit in transfers if from_unit == unit_id)
        row["score"], row["grade"] = grade(row, district)
        rows.append({"unit": units[unit_id].code, "unit_name": units[unit_id].name, **row})
    rows.sort(key=lambda r: (-(r["score"] if r["score"] is not None else -1), -r["accepted"], r["unit"]))
    return rows


def _hours(later: datetime | None, earlier: datetime) -> float | None:
    return (later - earlier).total_seconds() / 3600 if later else None


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _figures(cases: list[Case], as_of: datetime) -> dict:
    def on_time(done, due):
        return done is not None and done <= due

    def missed(done, due):
        return (done is not None and done > due) or (done is None and due <= as_of)

    def judged(clock_done, clock_due):
        # A case still inside its deadline counts neither for nor against the unit yet.
        return sum(1 for c in owed if getattr(c, clock_done) is not None or getattr(c, clock_due) <= as_of)

    # Merged cases live on in the case they joined; they count as accepted but not as work owed.
    owed = [c for c in cases if c.status != "merged"]

    acknowledged = [c for c in cases if c.acknowledged_at]
    responded = [c for c in cases if c.first_response_at]
    resolved = [c for c in cases if c.resolved_at]
    ack_on_time = sum(on_time(c.acknowledged_at, c.acknowledge_due_at) for c in cases)
    resp_on_time = sum(on_time(c.first_response_at, c.respond_due_at) for c in cases)
    res_on_time = sum(on_time(c.resolved_at, c.resolve_due_at) for c in cases)
    overdue = sum(1 for c in cases if c.status != "merged" and (
        missed(c.acknowledged_at, c.acknowledge_due_at) or missed(c.first_response_at, c.respond_due_at)
        or missed(c.resolved_at, c.resolve_due_at)))
    callbacks = [c for c in cases if c.satisfaction]
    satisfied = sum(1 for c in callbacks if c.satisfaction == "satisfied")
    basic = sum(1 for c in callbacks if c.satisfaction == "basic")
    reopened = sum(1 for c in cases if c.reopen_count)
    return {
        "accepted": len(cases),
        "acknowledged": len(acknowledged), "acknowledged_on_time": ack_on_time,
        "acknowledged_on_time_rate": _rate(ack_on_time, judged("acknowledged_at", "acknowledge_due_at")),
        "responded": len(responded), "responded_on_time": resp_on_time,
        "responded_on_time_rate": _rate(resp_on_time, judged("first_response_at", "respond_due_at")),
        "resolved": len(resolved), "resolved_on_time": res_on_time,
        "resolved_on_time_rate": _rate(res_on_time, judged("resolved_at", "resolve_due_at")),
        "resolution_rate": _rate(len(resolved), len(owed)),
        "avg_acknowledge_hours": _mean(_hours(c.acknowledged_at, c.created_at) for c in acknowledged),
        "avg_response_hours": _mean(_hours(c.first_response_at, c.created_at) for c in responded),
        "avg_resolve_hours": _mean(_hours(c.resolved_at, c.created_at) for c in resolved),
        "overdue": overdue,
        "callbacks": len(callbacks), "satisfied": satisfied, "basically_satisfied": basic,
        "unsatisfied": len(callbacks) - satisfied - basic,
        "satisfaction_rate": _rate(satisfied + basic, len(callbacks)),
        # A reopened case has no resolved_at until it is resolved again; it was resolved once.
        "reopened": reopened,
        "reopen_rate": _rate(reopened, sum(1 for c in cases if c.resolved_at or c.reopen_count)),
    }


def grade(row: dict, district: District) -> tuple[float | None, str | None]:
    """The weighted score (0..100) of a unit's rates and its A-D grade by the configured cut-offs."""
    weights = (district.performance or {}).get("weights") or DEFAULT_WEIGHTS
    cutoffs = (district.performance or {}).get("grades") or DEFAULT_GRADES
    rates = {"acknowledged_on_time": row["acknowledged_on_time_rate"],
             "responded_on_time": row["responded_on_time_rate"],
             "resolved_on_time": row["resolved_on_time_rate"],
             "satisfaction": row["satisfaction_rate"]}
    used = {k: w for k, w in weights.items() if rates.get(k) is not None and w > 0}
    if not used:
        return None, None
    score = round(100 * sum(rates[k] * w for k, w in used.items()) / sum(used.values()), 1)
    for letter in ("A", "B", "C"):
        if score >= cutoffs[letter]:
            return score, letter
    return score, "D"
