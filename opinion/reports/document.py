"""One report ready to be written: its kind, title, figures and charts, and the writers per format.

Figures and charts are computed once and then written to every format asked for, so the HTML,
Word and PDF of one report always carry the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from opinion.errors import ReportError
from opinion.labels import EMOTION_NAMES, PERIOD_REPORTS, REPORT_KINDS
from opinion.reports.figures import period_figures
from opinion.reports.html import render_html
from opinion.reports.periods import Period
from opinion.reports.special import special_figures
from opinion.settings.district import District

FORMATS = ("html", "docx", "pdf")
# Flask adds "; charset=utf-8" to text/* types itself.
MEDIA_TYPES = {"html": "text/html", "pdf": "application/pdf",
               "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@dataclass
class ReportDocument:
    kind: str            # daily | weekly | special
    key: str             # the archive's period: 2026-W47, 2026-11-22, case-12, topic-7
    title: str           # 舆情周报（2026年11月16日至11月22日）
    figures: dict
    charts: dict = field(default_factory=dict)
    period: Period | None = None
    case_id: int | None = None
    topic_id: int | None = None

    @property
    def masthead(self) -> str:
        return REPORT_KINDS[self.kind]

    @property
    def filename(self) -> str:
        return f"{self.masthead}-{self.key}"

    def render(self, fmt: str, **options) -> bytes:
        """The report in `fmt` (html, docx or pdf) as bytes."""
        if fmt == "html":
            return render_html(self, standalone=True, **options).encode("utf-8")
        if fmt == "pdf":
            # lazy: WeasyPrint; only PDF reports need it
            from opinion.reports.pdf import render_pdf
            return render_pdf(self)
        if fmt == "docx":
            # lazy: python-docx; only Word reports need it
            from opinion.reports.docx import render_docx
            return render_docx(self)
        raise ReportError(f"不支持的报告格式 “{fmt}”，可选 {', '.join(FORMATS)}")


def periodic_document(session, district: District, period: Period, now: datetime | None = None
                      ) -> ReportDocument:
    """The daily brief (a day), the weekly summary (a week, or a range), the monthly or the
    quarterly report for `period`."""
    # lazy: matplotlib takes a second to import; only reports and the dashboard draw
    from opinion.reports import charts as draw  # matplotlib loads only when a report is made
    kind = PERIOD_REPORTS.get(period.kind, "weekly")
    figures = period_figures(session, district, period, now)
    charts = {"trend": draw.trend_chart(figures["trend"], figures["trend_before"]),
              "emotions": draw.emotion_chart(figures["emotions"], EMOTION_NAMES),
              "topics": draw.topics_chart(figures["topics"]) if figures["topics"] else None}
    return ReportDocument(kind, period.label, f"{REPORT_KINDS[kind]}（{period.describe()}）", figures,
                          charts, period=period)


def special_document(session, district: District, *, case_id: int | None = None,
                     topic_id: int | None = None, now: datetime | None = None) -> ReportDocument:
    """The special report on one case or one topic."""
    # lazy: matplotlib takes a second to import; only reports and the dashboard draw
    from opinion.reports import charts as draw
    figures = special_figures(session, district, case_id=case_id, topic_id=topic_id, now=now)
    key = f"case-{case_id}" if case_id is not None else f"topic-{topic_id}"
    charts = {"sentiment": draw.sentiment_chart(figures["buckets"]) if figures["buckets"] else None}
    return ReportDocument("special", key, f"舆情专报：{figures['title']}", figures, charts,
                          case_id=case_id, topic_id=figures["topic"].id if figures["topic"] else None)
