"""Cleaning: untrusted, Weibo-shaped text in; display text and analysis text out.

Weibo posts carry #话题#, @用户, //@转发链, [表情] codes, URLs, 【标题】 and sometimes HTML. Each is taken
out and kept on the Doc, so the analysis sees the words a person wrote and the topic stage still
sees the hashtags, mentions and repost chain.
"""
from __future__ import annotations

import html
import re
import unicodedata

from opinion.nlp.doc import Doc

MAX_BODY = 5000  # analysis needs no more; the raw text is kept whole elsewhere
_SCRIPT = re.compile(r"<(script|style|iframe|noscript)\b[^>]*>.*?</\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]{0,2000}>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")
_SPACE = re.compile(r"\s+")
_HASHTAG = re.compile(r"#([^#\n]{1,60})#")
_MENTION = re.compile(r"@([\w\u4e00-\u9fff\-·]{1,30})")
_URL = re.compile(r"(?:https?|ftp)://[^\s\u4e00-\u9fff，。！？【】]+|www\.[^\s\u4e00-\u9fff，。！？]+", re.I)
_EMOTICON = re.compile(r"\[([\u4e00-\u9fffA-Za-z]{1,8})\]")
_HEADLINE = re.compile(r"【([^】]{1,100})】")
_REPOST = re.compile(r"//@([\w\u4e00-\u9fff\-·]{1,30})[:：]")
_JS_LINK = re.compile(r"javascript:\S*", re.I)


def display_text(raw: str) -> str:
    """Plain text for display: HTML and script dropped, entities decoded, control characters gone."""
    text = _SCRIPT.sub(" ", raw)
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    text = _CONTROL.sub("", text)
    text = _JS_LINK.sub("", text)
    return _SPACE.sub(" ", text).strip()


def clean(doc: Doc) -> Doc:
    text = display_text(doc.raw or "")
    doc.text = text
    chain = _REPOST.split(text)
    # "own words //@a: a's words //@b: b's words" -> own words first, then (user, words) pairs
    doc.repost_chain = [(chain[i], chain[i + 1].strip()) for i in range(1, len(chain) - 1, 2)]
    doc.hashtags = [h.strip() for h in _HASHTAG.findall(text)]
    doc.urls = _URL.findall(text)
    doc.emoticons = _EMOTICON.findall(text)
    m = _HEADLINE.search(text)
    doc.headline = m.group(1).strip() if m else ""
    body = _URL.sub(" ", text)
    body = _HASHTAG.sub(" ", body)
    body = _REPOST.sub(" ", body)
    doc.mentions = _MENTION.findall(body)
    body = _MENTION.sub(" ", body)
    body = _EMOTICON.sub(" ", body)
    body = unicodedata.normalize("NFKC", body)  # full-width letters, digits and punctuation folded
    doc.body = _SPACE.sub(" ", body).strip()[:MAX_BODY]
    return doc
