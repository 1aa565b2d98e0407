"""The report as PDF, laid out by WeasyPrint from the same HTML (charts as PNG).

WeasyPrint needs Pango from the system's packages (scripts/install-browser installs it with the CJK
fonts); where it is missing the error says so instead of failing with a library trace.
"""
from __future__ import annotations

from opinion.errors import ReportError
from opinion.reports.html import render_html


def pdf_available() -> str | None:
    """None when PDFs can be made here, else the reason in Chinese."""
    try:
        # lazy: WeasyPrint takes a second to import and needs Pango; only PDF reports need it
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:  # OSError: the Pango shared library is missing
        return f"无法生成 PDF：缺少 WeasyPrint 或其依赖的 Pango 系统库（{str(exc).splitlines()[0]}）。请运行 scripts/install-browser 安装。"
    return None


def render_pdf(document) -> bytes:
    reason = pdf_available()
    if reason:
        raise ReportError(reason)
    # lazy: WeasyPrint takes a second to import and needs Pango; only PDF reports need it
    import weasyprint
    html = render_html(document, standalone=True, chart_fmt="png")
    return weasyprint.HTML(string=html).write_pdf()
