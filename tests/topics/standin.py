"""Test-only stand-in for opinion.nlp.clean / opinion.nlp.segment.

Used only while those modules are absent, so the topic tests and the dev eval can run; the shipped
code path (opinion.topics.evaluate) imports the real stages first.
"""
from __future__ import annotations

import re

import jieba

from opinion.nlp.doc import Doc

jieba.setLogLevel(60)

_HASHTAG = re.compile(r"#([^#\n]{1,60})#")
_MENTION = re.compile(r"@([\w\u4e00-\u9fff\-]{1,30})")
_URL = re.compile(r"https?://[^\s\u4e00-\u9fff]+")
_EMO = re.compile(r"\[([^\[\]\s]{1,8})\]")
_HEAD = re.compile(r"【([^【】]{1,80})】")
_CHAIN = re.compile(r"//@([^:：\s]{1,30})[:：]([^/]*)")
_NOISE = re.compile(r"(收起全文d|L[^\s]{0,40}的微博视频|网页链接|\?+\s*$)")
STOP = set("""的 了 是 我 你 他 她 它 们 在 也 就 都 和 与 及 而 又 还 吧 吗 呢 啊 呀 哦 嗯 啦 么 着 过 被 把 给 让 对 这 那 有 没 不 很 太 更 最 一 个 些 上 下 中 里 后 前 要 会 能 可以 就是 还是 但是 因为 所以 如果 什么 怎么 这个 那个 这样 那样 自己 我们 你们 他们 大家 一个 没有 现在 真的 已经 不是 知道 觉得 希望 可能 一下 一样 时候 这么 那么 为什么 然后 其实 而且 或者 只是 不要 哈哈 哈哈哈""".split())


def clean(doc: Doc) -> Doc:
    raw = doc.raw
    doc.hashtags = [h.strip() for h in _HASHTAG.findall(raw)]
    doc.urls = _URL.findall(raw)
    doc.emoticons = _EMO.findall(raw)
    m = _HEAD.search(raw)
    doc.headline = m.group(1) if m else ""
    doc.repost_chain = [(u, t.strip()) for u, t in _CHAIN.findall(raw)]
    doc.mentions = _MENTION.findall(raw)
    body = _URL.sub(" ", raw)
    body = _HASHTAG.sub(" ", body)
    body = re.sub(r"//@[^:：\s]{1,30}[:：]", " ", body)
    body = _MENTION.sub(" ", body)
    body = _EMO.sub(" ", body)
    body = _NOISE.sub(" ", body)
    doc.text = raw
    doc.body = re.sub(r"\s+", " ", body).strip()
    return doc


class Segmenter:
    def __call__(self, doc: Doc) -> Doc:
        doc.tokens = [
            t for t in jieba.lcut(doc.body)
            if t.strip() and t not in STOP and not re.fullmatch(r"[\W_\d]+", t)
        ]
        return doc
