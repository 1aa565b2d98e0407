"""The report as a Word document (python-docx), in the usual layout of a government report: red
masthead, issuing unit and date, a red rule, numbered sections (一、二、三), ruled tables, charts
as pictures. Fonts follow the common convention: 黑体 for headings, 仿宋 for the text.
"""
from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from flask import current_app

from opinion.labels import CASE_STATUS_NAMES, EMOTION_NAMES, LEVEL_NAMES, POLARITY_NAMES, PRIORITY_NAMES, SEVERITY_NAMES
from opinion.reports.html import public_url

RED = RGBColor(0xC0, 0x00, 0x00)
NUMERALS = "一二三四五六七八九十"


def render_docx(document) -> bytes:
    doc = _new_document()
    f = document.figures
    _masthead(doc, document.masthead, f["issuer"], _date(f["generated_at"]))
    if document.kind == "special":
        _special(doc, document)
    else:
        _periodic(doc, document)
    _para(doc, f"（{f['district']} · {f['issuer']}　生成时间 {_time(f['generated_at'])}）", size=9,
          align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _new_document():
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    normal = doc.styles["Normal"]
    _font(normal.font, "仿宋", 12)
    normal.paragraph_format.space_after = Pt(3)
    normal.paragraph_format.line_spacing = 1.3
    _page_numbers(section)
    return doc


def _font(font, east_asian: str, size: float | None = None, bold: bool | None = None, colour=None):
    font.name = "Times New Roman"
    font.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), east_asian)
    if size:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if colour is not None:
        font.color.rgb = colour


def _para(doc, text: str = "", *, font: str = "仿宋", size: float | None = None, bold: bool = False,
          colour=None, align=None, indent: bool = False):
    p = doc.add_paragraph()
    if align is not None:
        p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Pt(24)
    run = p.add_run(text)
    _font(run.font, font, size, bold, colour)
    return p


def _masthead(doc, title: str, issuer: str, date: str) -> None:
    p = _para(doc, "　".join(title), font="宋体", size=30, bold=True, colour=RED, align=WD_ALIGN_PARAGRAPH.CENTER)
    p.paragraph_format.space_after = Pt(12)
    line = _para(doc, f"{issuer}\t{date}", font="仿宋", size=12)
    line.paragraph_format.tab_stops.add_tab_stop(Cm(15.6), alignment=2)  # right-aligned date
    _red_rule(line, "18")
    line.paragraph_format.space_after = Pt(14)


def _red_rule(paragraph, size: str) -> None:
    """A red line under the paragraph (`size` in eighths of a point), as under a masthead."""
    border = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", size), ("w:space", "4"), ("w:color", "C00000")):
        bottom.set(qn(key), value)
    border.append(bottom)
    paragraph._p.get_or_add_pPr().append(border)


def _page_numbers(section) -> None:
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        run = p.add_run()
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _heading(doc, number: int, text: str):
    p = _para(doc, f"{NUMERALS[number - 1]}、{text}", font="黑体", size=14)
    p.paragraph_format.space_before = Pt(10)
    p.paragraph_format.keep_with_next = True
    return p


def _subheading(doc, number: int, text: str):
    p = _para(doc, f"（{NUMERALS[number - 1]}）{text}", font="楷体", size=12, bold=True)
    p.paragraph_format.keep_with_next = True


def _table(doc, header: list[str], rows: list[list], widths: list[float] | None = None,
           figures_from: int | None = None):
    """A ruled table with a shaded header. Columns from `figures_from` on hold figures (rates,
    hours, counts) and are right-aligned; `widths` in cm fix the layout in Word and LibreOffice."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, header):
        _cell(cell, text, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:fill"), "EEF1F5")
        cell._tc.get_or_add_tcPr().append(shading)
    for values in rows:
        cells = table.add_row().cells
        for i, (cell, value) in enumerate(zip(cells, values)):
            figure = isinstance(value, (int, float)) or (figures_from is not None and i >= figures_from)
            _cell(cell, str(value), align=WD_ALIGN_PARAGRAPH.RIGHT if figure else None)
    if widths:
        # Both the grid and every cell: Word reads the cells, LibreOffice the grid.
        table.autofit = False
        for column, width in zip(table.columns, widths):
            column.width = Cm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths):
                cell.width = Cm(width)
    doc.add_paragraph()
    return table


def _cell(cell, text: str, bold: bool = False, align=None) -> None:
    p = cell.paragraphs[0]
    p.paragraph_format.space_after = Pt(0)
    p.paragraph_format.line_spacing = 1.0
    if align is not None:
        p.alignment = align
    _font(p.add_run(text).font, "仿宋", 9.5, bold)


def _picture(doc, chart, caption: str, width_cm: float = 15.5) -> None:
    if chart is None:
        return
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run().add_picture(io.BytesIO(chart.png), width=Cm(width_cm))
    _para(doc, caption, size=9, align=WD_ALIGN_PARAGRAPH.CENTER)


def _pct(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _hours(value) -> str:
    """Hours as a plain figure; the column header says 小时, so narrow columns do not wrap."""
    return "—" if value is None else f"{value:.1f}"


def _span(hours) -> str:
    """An overdue span as a reader counts it: "19 天" past two days, else hours."""
    if hours is None:
        return "—"
    return f"{hours / 24:.0f} 天" if hours >= 48 else f"{hours:.1f} 小时"


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def _time(moment, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(_zone()).strftime(fmt) if moment else "—"


def _date(moment) -> str:
    local = moment.astimezone(_zone())
    return f"{local.year}年{local.month}月{local.day}日"


def _periodic(doc, document) -> None:
    f, t = document.figures, document.figures["totals"]
    noun = {"daily": "日报", "monthly": "月报", "quarterly": "季报"}.get(document.kind, "周报")
    _para(doc, f"{f['period'].describe()}网络舆情{noun}", font="黑体", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)

    _heading(doc, 1, "总体态势")
    _para(doc, f["narrative"], indent=True)
    b = f["before"]
    pol, pol_b = t["posts"]["by_polarity"], b["posts"]["by_polarity"]
    rows = [["信息总量（条）", t["posts"]["total"], b["posts"]["total"]]]
    rows += [[f"其中{name}（条）", pol.get(key, 0), pol_b.get(key, 0)] for key, name in POLARITY_NAMES.items()]
    rows += [["新增工单（件）", t["cases"]["opened"], b["cases"]["opened"]],
             ["首次回应（件）", t["cases"]["responded"], b["cases"]["responded"]],
             ["办结（件）", t["cases"]["resolved"], b["cases"]["resolved"]],
             ["升级督办（次）", t["escalations"]["total"], b["escalations"]["total"]],
             ["预警（条）", t["alerts"]["total"], b["alerts"]["total"]]]
    _table(doc, ["指标", "本期", "上期"], rows, [7, 4, 4])
    _picture(doc, document.charts.get("trend"), "图1 每日信息量及情感构成")
    _picture(doc, document.charts.get("emotions"), "图2 情绪构成", width_cm=8)

    _heading(doc, 2, "热点话题")
    if f["topics"]:
        _picture(doc, document.charts.get("topics"), "图3 热点话题信息量")
        _table(doc, ["序号", "话题", "信息量", "负面占比", "主要情绪", "责任单位", "处置情况"],
               [[i, tp["label"], tp["posts"], _pct(tp["negative_share"]),
                 "、".join(f"{EMOTION_NAMES.get(e, e)} {n}" for e, n in list(tp["emotions"].items())[:2]),
                 tp["unit"], tp["action"]] for i, tp in enumerate(f["topics"], 1)],
               [1.1, 3.5, 1.4, 1.5, 2.2, 2.4, 3.5])
        for i, tp in enumerate(f["topics"][:5], 1):
            _subheading(doc, i, tp["label"])
            _para(doc, f"信息 {tp['posts']} 条，负面 {tp['negative']} 条（{_pct(tp['negative_share'])}）。"
                       f"处置：{tp['action']}。", indent=True)
            rp = tp["representative"]
            if rp:
                _para(doc, f"代表性信息 · {rp['author']} · {_time(rp['created_at'])}：{rp['text']}", size=10.5)
    else:
        _para(doc, "本期未监测到成规模的话题。", indent=True)

    _heading(doc, 3, "预警与督办")
    levels = "、".join(f"{LEVEL_NAMES[int(k)]} {n} 次" for k, n in t["escalations"]["by_level"].items() if n)
    severities = "、".join(f"{SEVERITY_NAMES.get(k, k)} {n} 条" for k, n in t["alerts"]["by_severity"].items())
    _para(doc, f"本期预警 {t['alerts']['total']} 条{('（' + severities + '）') if severities else ''}；"
               f"升级督办 {t['escalations']['total']} 次{('，其中' + levels) if levels else ''}。", indent=True)
    if f["escalations"]:
        _table(doc, ["时间", "工单", "责任单位", "督办级别", "原因"],
               [[_time(e["at"], "%m-%d %H:%M"), f"#{e['case_id']} {e['title']}", e["unit"],
                 LEVEL_NAMES.get(e["level"], e["level"]), e["reason"] or ""] for e in f["escalations"][-15:]],
               [2.4, 4.5, 3, 2, 3.7])

    _heading(doc, 4, "各单位回应绩效")
    if f["units"]:
        _para(doc, "按综合得分由低到高排列；及时率以本期受理工单为基数。", size=10)
        _table(doc, ["单位", "受理", "签收\n及时率", "回应\n及时率", "办结\n及时率", "平均回应\n（小时）", "超期", "满意率", "得分", "等级"],
               [[u["unit_name"], u["accepted"], _pct(u["acknowledged_on_time_rate"]),
                 _pct(u["responded_on_time_rate"]), _pct(u["resolved_on_time_rate"]),
                 _hours(u["avg_response_hours"]), u["overdue"], _pct(u["satisfaction_rate"]),
                 "—" if u["score"] is None else f"{u['score']:.1f}", u["grade"] or "—"] for u in f["units"]],
               [3.6, 1.1, 1.4, 1.4, 1.4, 1.8, 1.1, 1.3, 1.4, 1.0], figures_from=1)
    else:
        _para(doc, "本期无受理工单。", indent=True)

    _heading(doc, 5, "超期未办结工单")
    if f["overdue"]:
        _table(doc, ["工单", "责任单位", "优先级", "已超时限", "已超时", "督办级别"],
               [[f"#{o['id']} {o['title']}", o["unit"], PRIORITY_NAMES.get(o["priority"], o["priority"]),
                 o["missed"], _span(o["overdue_hours"]), LEVEL_NAMES.get(o["level"], "未升级")]
                for o in f["overdue"][:30]], [4.6, 3, 1.4, 2.4, 2.2, 2], figures_from=4)
    else:
        _para(doc, "截至报告生成时，无超期未办结工单。", indent=True)

    if f.get("matrix"):
        _heading(doc, 6, "政务微博矩阵")
        silent = [handle for m in f["matrix"] for handle in m["silent"]]
        no_reply = [handle for m in f["matrix"] for handle in m.get("no_reply") or []]
        _para(doc, f"本期各单位政务账号共发布 {sum(m['posts'] for m in f['matrix'])} 条，获转发、评论、点赞 "
                   f"{sum(m['interactions'] for m in f['matrix'])} 次；"
                   + (f"{len(silent)} 个账号长期未发布（僵尸号）：{'、'.join(silent)}。" if silent else "无僵尸号。")
                   + (f"{len(no_reply)} 个账号有网友评论却从不回复：{'、'.join(no_reply)}。" if no_reply else ""),
              indent=True)
        _table(doc, ["单位", "账号", "本期发布", "互动", "粉丝", "僵尸号", "从不回复评论"],
               [[m["unit_name"], m["accounts"], m["posts"], m["interactions"], m["followers"],
                 "、".join(m["silent"]) or "—", "、".join(m.get("no_reply") or []) or "—"] for m in f["matrix"]],
               [3.0, 1.1, 1.6, 1.6, 1.8, 3.0, 3.0], figures_from=1)

    if f.get("interviews"):
        _heading(doc, 7 if f.get("matrix") else 6, "在线访谈")
        follow_ups = [c for i in f["interviews"] for c in i["follow_ups"]]
        _para(doc, f"本期举办在线访谈 {len(f['interviews'])} 场，收到网友提问 {sum(i['received'] for i in f['interviews'])} 条，"
                   f"采用 {sum(i['adopted'] for i in f['interviews'])} 条，现场答复 {sum(i['answered'] for i in f['interviews'])} 条；"
                   + (f"转交会后跟进办理 {len(follow_ups)} 件，已办结 {sum(c['closed'] for c in follow_ups)} 件。"
                      if follow_ups else "无需会后跟进办理的提问。"), indent=True)
        _table(doc, ["访谈", "开始时间", "收到提问", "采用", "答复", "会后跟进工单"],
               [[f"{i['title']}（{i['guest']}）", _time(i["started_at"]), i["received"], i["adopted"], i["answered"],
                 "；".join(f"#{c['id']} {c['unit']}（{c['status']}）" for c in i["follow_ups"]) or "—"]
                for i in f["interviews"]],
               [4.6, 2.2, 1.4, 1.2, 1.2, 4.4])


def _refutation(doc, said: dict, r: dict) -> None:
    """The 辟谣 block under 处置情况: what the unit published and when, and the topic's posts in the
    day before and after it (volume, per hour, negative share), as the topic page shows them."""
    _subheading(doc, 1, "辟谣及效果")
    who = f"{said.get('unit', '')}{'“' + said['account'] + '”' if said.get('account') else ''}"
    _para(doc, f"{who}于 {_time(r['at'])} 发布{said.get('kind') or '辟谣'}" + (f"：{said['text']}" if said.get("text") else "。"),
          indent=True)
    neg = lambda v: "—" if v is None else f"{v}%"  # noqa: E731
    _table(doc, ["", "帖子数", "每小时", "负面占比"],
           [["辟谣前 24 小时", r["before_posts"], f"{r['before_per_hour']:g}", neg(r["before_negative"])],
            ["辟谣后 24 小时", r["after_posts"], f"{r['after_per_hour']:g}", neg(r["after_negative"])]],
           [4.0, 3.0, 3.0, 3.0], figures_from=1)
    _para(doc, f"{r['sentence']}。", indent=True)


def _special(doc, document) -> None:
    f = document.figures
    _para(doc, f"关于“{f['title']}”的舆情专报", font="黑体", size=16, align=WD_ALIGN_PARAGRAPH.CENTER)
    _heading(doc, 1, "事件概况")
    if f["first_post_at"]:
        emotions = "、".join(EMOTION_NAMES.get(e, e) for e in list(f["emotions"])[:2])
        _para(doc, f"自 {_time(f['first_post_at'])} 起至 {_time(f['last_post_at'])}，共监测到相关信息 "
                   f"{f['posts_total']} 条，其中负面 {f['negative']} 条，占 {_pct(f['negative_share'])}"
                   f"{'；网民情绪以' + emotions + '为主' if emotions else ''}。", indent=True)
    if f["cases"]:
        _table(doc, ["工单", "责任单位", "优先级", "状态", "立案时间", "首次回应", "督办级别"],
               [[f"#{c['id']} {c['title']}", c["unit"], PRIORITY_NAMES.get(c["priority"], c["priority"]),
                 CASE_STATUS_NAMES.get(c["status"], c["status"]), _time(c["created_at"]),
                 _time(c["first_response_at"]), LEVEL_NAMES.get(c["level"], "未升级")] for c in f["cases"]])
    _heading(doc, 2, "事件时间线")
    _table(doc, ["时间", "事项", "说明"], [[_time(e["at"]), e["what"], e["detail"]] for e in f["timeline"]],
           [3.2, 3, 9.3])
    _heading(doc, 3, "舆情走势")
    _picture(doc, document.charts.get("sentiment"), "图1 信息量及负面占比")
    _heading(doc, 4, "主要信息")
    for p in f["posts"]:
        _para(doc, f"{p['author']} · {_time(p['created_at'])} · {POLARITY_NAMES.get(p['polarity'], '未分析')}："
                   f"{p['text']}", size=10.5)
    _heading(doc, 5, "处置情况")
    if f["actions"]:
        _table(doc, ["单位", "时间", "回应内容"], [[a["unit"], _time(a["at"]), a["text"]] for a in f["actions"]],
               [3.2, 3, 9.3])
    else:
        _para(doc, "责任单位尚未公开回应。", indent=True)
    if f.get("rumour_figures"):
        _refutation(doc, f.get("refutation") or {}, f["rumour_figures"])
    for number, title, text in ((6, "研判意见", f.get("assessment")), (7, "处置建议", f.get("recommendation"))):
        _heading(doc, number, title)
        for line in [t for t in (text or "").splitlines() if t.strip()] or [f"（监测中心尚未填写{title}）"]:
            _para(doc, line, indent=True)
    _heading(doc, 8, "尚待解决的问题")
    for i, q in enumerate(f["questions"] or ["暂无。"], 1):
        _para(doc, f"{i}. {q}")
    _heading(doc, 9, "领导批示")
    for i in f["instructions"]:
        _para(doc, f"{i['author']}（{_time(i['at'])}，工单 #{i['case_id']}）：{i['text']}")
    box = doc.add_table(rows=1, cols=1)
    box.style = "Table Grid"
    _cell(box.rows[0].cells[0], "\n" * 8 + "批示人：__________　　日期：______年____月____日")
    for c in f["cases"]:
        _para(doc, f"在系统中录入批示：{public_url('cases.show', case_id=c['id'])}（工单 #{c['id']}）", size=9)


def render_interview_docx(view) -> bytes:
    """An online interview's transcript (opinion.interviews.transcript.PublicInterview) as the
    published 在线访谈 transcripts read: the title 「…在线访谈」, 访谈时间, 嘉宾 and 主题, then each
    question as 网友「昵称」 and the guest's answer, with their times."""
    doc = _new_document()
    title = view.title if view.title.endswith("在线访谈") else f"{view.title}在线访谈"
    _para(doc, f"「{title}」", font="宋体", size=20, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    for label, value in (("访谈时间", _time(view.scheduled_at)), ("嘉　　宾", view.guest), ("主　　题", view.theme)):
        p = _para(doc, f"{label}：", font="黑体", size=12)
        _font(p.add_run(value).font, "仿宋", 12)
    _red_rule(_para(doc, ""), "8")
    for exchange in view.exchanges:
        ask = _para(doc, f"网友「{exchange.nickname}」", font="黑体", size=12)
        ask.paragraph_format.space_before = Pt(8)
        ask.paragraph_format.keep_with_next = True
        also = f"，另有 {exchange.also_asked} 位网友提出相同问题" if exchange.also_asked else ""
        _font(ask.add_run(f"（{_time(exchange.asked_at, '%m-%d %H:%M')}{also}）：").font,
              "仿宋", 10.5, colour=RGBColor(0x66, 0x66, 0x66))
        _para(doc, exchange.question, indent=True)
        answer = _para(doc, view.guest_name, font="黑体", size=12, colour=RED)
        answer.paragraph_format.keep_with_next = True
        _font(answer.add_run(f"（{_time(exchange.answered_at, '%H:%M')}）：").font, "仿宋", 10.5,
              colour=RGBColor(0x66, 0x66, 0x66))
        _para(doc, exchange.answer, indent=True)
        if exchange.follow_up_unit:
            _para(doc, f"【会后跟进：已转交{exchange.follow_up_unit}办理】", font="楷体", size=11)
    if view.published_at:
        _para(doc, f"（实录发布时间 {_time(view.published_at)}）", size=9, align=WD_ALIGN_PARAGRAPH.RIGHT)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
