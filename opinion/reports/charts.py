"""Charts for the reports, drawn on the server with matplotlib: SVG for the HTML page, PNG for Word
and PDF. Nothing is fetched from the internet; the Chinese labels use a CJK font installed from the
system's packages (fonts-noto-cjk), found through fontconfig's files.

SVG text is drawn as paths, so a chart looks the same in any browser, with or without the font.
"""
from __future__ import annotations

import io
import logging
from functools import cached_property, lru_cache

import matplotlib

matplotlib.use("Agg")  # no display on a server
import base64

from matplotlib import font_manager  # noqa: E402
from matplotlib import pyplot as plt  # noqa: E402

log = logging.getLogger(__name__)
CJK_FAMILIES = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Micro Hei",
                "WenQuanYi Zen Hei", "Droid Sans Fallback")
# Muted colours that stay readable when a report is printed in black and white.
NEGATIVE, NEUTRAL, POSITIVE, PREVIOUS, ACCENT = "#c0392b", "#b8c2cc", "#2e8b57", "#7f8c8d", "#1f4e79"
EMOTION_COLOURS = {"anger": "#c0392b", "disgust": "#8e44ad", "fear": "#d35400", "sadness": "#2c3e50",
                   "surprise": "#f1c40f", "optimism": "#27ae60", "gratitude": "#16a085"}


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    """The first installed CJK font family, or None (labels then fall back and a warning is logged)."""
    for path in font_manager.findSystemFonts():
        if "cjk" in path.lower() or "wqy" in path.lower() or "droid" in path.lower():
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError):
                continue
    installed = {f.name for f in font_manager.fontManager.ttflist}
    family = next((name for name in CJK_FAMILIES if name in installed), None)
    if family is None:
        log.warning("no CJK font found (install fonts-noto-cjk); chart labels may show boxes")
    return family


def _figure(width: float, height: float):
    family = cjk_font()
    plt.rcParams.update({"font.family": [family] if family else ["DejaVu Sans"],
                         "font.size": 9, "axes.unicode_minus": False, "svg.fonttype": "path",
                         "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(figsize=(width, height), dpi=100)


class Chart:
    """One chart, drawn when first asked for: `svg` (text) for HTML, `png` (bytes) for Word and PDF.

    A page in the app needs only the SVG and a Word file only the PNG, so neither pays for the other.
    """

    def __init__(self, title: str, draw):
        self.title, self._draw = title, draw

    def _render(self, fmt: str):
        fig = self._draw()
        fig.tight_layout()
        out = io.StringIO() if fmt == "svg" else io.BytesIO()
        if fmt == "svg":
            fig.savefig(out, format="svg", metadata={"Date": None})  # no timestamp: same data, same file
        else:
            fig.savefig(out, format="png", dpi=200)
        plt.close(fig)
        return out.getvalue()

    @cached_property
    def svg(self) -> str:
        return self._render("svg")

    @cached_property
    def png(self) -> bytes:
        return self._render("png")

    def data_uri(self, fmt: str = "svg") -> str:
        if fmt == "svg":
            return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()
        return "data:image/png;base64," + base64.b64encode(self.png).decode()


def trend_chart(trend: list[dict], before: list[dict] | None = None, title: str = "舆情走势") -> Chart:
    """Posts per day stacked by polarity, with the previous period's totals as a dashed line."""
    def draw():
        fig, ax = _figure(7.2, 2.8)
        labels = [f"{d['day'].month}/{d['day'].day}" for d in trend]
        x = range(len(trend))
        bottom = [0] * len(trend)
        for key, name, colour in (("negative", "负面", NEGATIVE), ("neutral", "中性", NEUTRAL),
                                  ("positive", "正面", POSITIVE)):
            values = [d[key] for d in trend]
            ax.bar(x, values, bottom=bottom, color=colour, label=name, width=0.6)
            bottom = [b + v for b, v in zip(bottom, values)]
        unrated = [d["total"] - b for d, b in zip(trend, bottom)]
        if any(unrated):
            ax.bar(x, unrated, bottom=bottom, color="#e5e8eb", label="未分析", width=0.6)
        if before and len(before) == len(trend):
            ax.plot(list(x), [d["total"] for d in before], color=PREVIOUS, linestyle="--", marker="o",
                    markersize=3, label="上期总量")
        ax.set_xticks(list(x), labels)
        ax.set_ylabel("条数")
        ax.legend(loc="upper left", ncols=5, frameon=False, fontsize=8)
        ax.set_ylim(0, max([*bottom, *(d["total"] for d in before or [])], default=0) * 1.25 + 1)
        return fig

    return Chart(title, draw)


def topics_chart(topics: list[dict], title: str = "热点话题") -> Chart:
    """Horizontal bars: each top topic's posts, the negative part in red."""
    def draw():
        shown = topics[:8]
        fig, ax = _figure(7.2, 0.45 * max(len(shown), 2) + 0.8)
        labels = [_short(t["label"], 16) for t in shown][::-1]
        totals = [t["posts"] for t in shown][::-1]
        negative = [t["negative"] for t in shown][::-1]
        y = range(len(shown))
        ax.barh(y, totals, color=NEUTRAL, label="帖子", height=0.6)
        ax.barh(y, negative, color=NEGATIVE, label="其中负面", height=0.6)
        ax.set_yticks(list(y), labels)
        ax.legend(loc="lower right", frameon=False, fontsize=8)
        ax.set_xlabel("条数")
        return fig

    return Chart(title, draw)


def emotion_chart(emotions: dict[str, int], names: dict[str, str], title: str = "情绪构成") -> Chart:
    """A ring of the emotion mix, largest first."""
    def draw():
        fig, ax = _figure(5.6, 2.6)
        items = sorted(((k, v) for k, v in emotions.items() if v), key=lambda kv: -kv[1])
        if items:
            total = sum(v for _, v in items)
            # A legend rather than labels on the ring: small slices' labels would overlap.
            wedges, _ = ax.pie([v for _, v in items], colors=[EMOTION_COLOURS.get(k, NEUTRAL) for k, _ in items],
                               startangle=90, counterclock=False,
                               wedgeprops={"width": 0.42, "edgecolor": "white"})
            ax.legend(wedges, [f"{names.get(k, k)}  {v} 条（{v / total:.0%}）" for k, v in items],
                      loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9)
            ax.set_aspect("equal")
        else:
            ax.text(0.5, 0.5, "暂无情绪数据", ha="center", va="center", transform=ax.transAxes)
            ax.axis("off")
        return fig

    return Chart(title, draw)


def sentiment_chart(buckets: list[dict], title: str = "情感走势") -> Chart:
    """Posts per time bucket (bars) and the share of negative posts (line, right axis)."""
    def draw():
        fig, ax = _figure(7.2, 2.6)
        x = range(len(buckets))
        ax.bar(x, [b["total"] for b in buckets], color=NEUTRAL, width=0.6, label="帖子数")
        ax.set_ylabel("条数")
        ax2 = ax.twinx()
        shares = [(b["negative"] / b["total"] * 100) if b["total"] else None for b in buckets]
        ax2.plot([i for i, s in zip(x, shares) if s is not None], [s for s in shares if s is not None],
                 color=NEGATIVE, marker="o", markersize=3, label="负面占比")
        ax2.set_ylim(0, 105)
        ax2.set_ylabel("负面占比 %")
        ax2.spines["right"].set_visible(True)
        step = max(1, (len(buckets) + 7) // 8)
        ax.set_xticks(list(x)[::step], [b["label"] for b in buckets][::step])
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        # Above the plot, where it cannot cover the first bars.
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="lower left", bbox_to_anchor=(0, 1.0),
                  ncols=2, frameon=False, fontsize=8)
        return fig

    return Chart(title, draw)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
