"""The report as HTML: one template per kind, the same page in the app, in the saved file and
(with PNG charts) as the source of the PDF."""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app, has_request_context, render_template, request, url_for

from opinion.labels import EMOTION_NAMES, LEVEL_NAMES, POLARITY_NAMES, SEVERITY_NAMES

CSS_FILE = Path(__file__).resolve().parents[2] / "static" / "report.css"
TEMPLATES = {"daily": "reports/periodic.html", "weekly": "reports/periodic.html",
             "monthly": "reports/periodic.html", "quarterly": "reports/periodic.html",
             "special": "reports/special.html"}


def public_url(endpoint: str, **values) -> str:
    """An absolute link for a document that leaves the app (Word, PDF, a mailed HTML file)."""
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        base = request.host_url  # made from the web: the address the leader is using
    base = base or f"http://{current_app.config['WEB_HOST']}:{current_app.config['WEB_PORT']}"
    with current_app.test_request_context(base_url=base):
        return url_for(endpoint, _external=True, **values)


def render_html(document, *, standalone: bool = True, chart_fmt: str = "svg", toolbar: str = "") -> str:
    """The report page. `standalone` embeds the stylesheet (a saved file, the PDF); in the app the
    stylesheet is linked instead, as the Content-Security-Policy allows no inline styles."""
    f = document.figures
    is_special = document.kind == "special"
    return render_template(
        TEMPLATES[document.kind], figures=f, charts=document.charts, chart_fmt=chart_fmt,
        doc_title=document.title, masthead=document.masthead, issuer=f["issuer"], district=f["district"],
        generated_at=f["generated_at"], issue_date=_issue_date(f["generated_at"]),
        css=CSS_FILE.read_text(encoding="utf-8") if standalone else None, toolbar=toolbar,
        case_links={c["id"]: public_url("cases.show", case_id=c["id"]) for c in f["cases"]} if is_special else {},
        EMOTION_NAMES=EMOTION_NAMES, LEVEL_NAMES=LEVEL_NAMES, SEVERITY_NAMES=SEVERITY_NAMES,
        POLARITY_NAMES=POLARITY_NAMES)


def _issue_date(moment) -> str:
    local = moment.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return f"{local.year}年{local.month}月{local.day}日"
