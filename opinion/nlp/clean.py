"""Cleaning: untrusted, Weibo-shaped text in; display text and analysis text out.

Weibo posts carry #话题#, @用户, //@转发链, [表情] codes, URLs, 【标题】, page furniture such as
"收起全文d" or "L某某的微博视频", and sometimes HTML. Each is taken out of the analysis body and kept on
the Doc, so the models see the words a person wrote and the topic stage still sees the hashtags,
mentions and repost chain. The body is also folded to simplified characters (OpenCC's phrase-aware
t2s, which leaves simplified text as it is: 著名, 乾坤): the models and the district's words are
simplified, and a post from Hong Kong or Taiwan, or one pasted in traditional characters, would
otherwise read as unknown n-grams. Any str goes in (None and bytes too); nothing here raises.
"""
from __future__ import annotations

import re

from collectors.text import display_text
from opinion.nlp.doc import Doc
from opinion.nlp.fold import fold

MAX_BODY = 5000       # analysis needs no more: a 100,000-character post is a paste, not an opinion
_SPACE = re.compile(r"\s+")
_HASHTAG = re.compile(r"#([^#\n]{1,60}?)#")
_MENTION = re.compile(r"(?<![A-Za-z0-9_.])@([\w\-·]{1,30})")
_URL = re.compile(r"(?:https?|ftp)://[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef<>\"'\]\[]+"
                  r"|www\.[A-Za-z0-9\-.]+\.[A-Za-z]{2,}[^\s\u3000-\u303f\u4e00-\u9fff\uff00-\uffef<>\"']*", re.I)
_EMOTICON = re.compile(r"\[([\u4e00-\u9fffA-Za-z0-9]{1,8})\]")
_HEADLINE = re.compile(r"【([^】]{1,100})】")
_REPOST = re.compile(r"//\s*@([\w\-·]{1,30})\s*[:：]")
# Page furniture the Weibo web page leaves in collected text: "收起全文d", "O网页链接",
# "L人民网的微博视频", a location tail " 2武汉 ", and a lone "?" where an icon was.
_FURNITURE = re.compile(r"[展收][开起]全文[a-z]?|O网页链接|网页链接|L[^\s]{1,30}?的(?:微博|秒拍)视频"
                        r"|(?:^|\s)2[\u4e00-\u9fff·]{1,15}(?=\s|$)|\s\?(?=\s|$)|^\?$|转发微博")


def _repost_chain(text: str) -> list[tuple[str, str]]:
    # "own words //@a: a's words //@b: b's words" -> [(a, a's words), (b, b's words)]
    parts = _REPOST.split(text)
    return [(parts[i], parts[i + 1].strip()[:MAX_BODY]) for i in range(1, len(parts) - 1, 2)]


def clean(doc: Doc) -> Doc:
    """Fill doc.text, doc.body and the Weibo fields from doc.raw."""
    text = display_text(doc.raw)
    doc.text = text
    doc.repost_chain = _repost_chain(text)
    doc.hashtags = list(dict.fromkeys(h.strip() for h in _HASHTAG.findall(text) if h.strip()))
    doc.urls = _URL.findall(text)
    doc.emoticons = _EMOTICON.findall(text)
    m = _HEADLINE.search(text)
    doc.headline = m.group(1).strip() if m else ""
    body = _URL.sub(" ", text)
    body = _HASHTAG.sub(" ", body)
    body = _REPOST.sub(" ", body)
    doc.mentions = list(dict.fromkeys(_MENTION.findall(body)))
    body = _MENTION.sub(" ", body)
    body = _EMOTICON.sub(" ", body)
    body = _FURNITURE.sub(" ", body[: MAX_BODY * 2])
    body = fold(body)
    doc.body = _SPACE.sub(" ", body).strip()[:MAX_BODY]
    return doc
