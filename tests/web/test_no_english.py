"""No English word and no raw key on any page a non-admin sees.

Staff read Chinese; an English word ("pending", "Submit") or a key from the code ("first_response",
"sla_breach") on a page means a label was never translated and makes the product look unfinished.
This walks every page reachable from each role's home page (breadth-first, two links deep) over the
demo's data and checks the visible text against a short allow-list of product and format names."""
import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select

from opinion.demo.seed import DEMO_PASSWORD, NAMED_UNITS
from opinion.models import LOOKUP_ALPHABET, User, db
from tests.browser import make_app

# Only names a Chinese reader also writes in Latin letters: file formats people download (PDF, Word,
# Excel, CSV), API as the 令牌 page and city-platform integrators say it, RSS as a kind of source,
# the authenticator apps a person installs for 两步验证 by their store names, and Webhook as the
# 企业微信/钉钉 群机器人 settings call the address. Everything else has a Chinese word.
ALLOWED = {"PDF", "Word", "Excel", "CSV", "API", "RSS", "Webhook",
           "Google", "Microsoft", "Authenticator", "FreeOTP"}
# Not words: addresses, and the 查询码 (e.g. YE5KQ-HYTVA) a citizen reads out on the phone.
NOT_WORDS = re.compile(r"https?://\S*|(?<!\w)/[\w./?=&%-]+|\b[" + LOOKUP_ALPHABET + r"]{5}-[" + LOOKUP_ALPHABET + r"]{5}\b")
# Attributes a person reads (tool-tips, empty-field hints, screen readers, missing images).
READ_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
SKIP = re.compile(r"logout|download|export|\.(csv|xlsx|pdf|docx|json)$|^/static/|/stream")
WORD = re.compile(r"[A-Za-z][A-Za-z_]*[A-Za-z]")
DEPTH = 2
PER_PATTERN = 3  # a few of each kind of page (case 12, case 31 …) are enough to see its labels


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Visible(HTMLParser):
    """The text a person sees: element text outside script/style, plus the attributes read aloud.
    An element marked translate="no" (HTML's own "this is a code, not language": a two-factor key,
    a path to type) is left out, as a browser's translator leaves it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.links, self._hidden = [], [], 0
        self._verbatim = None  # [tag, depth] of the open translate="no" element

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if self._verbatim is not None:
            if tag == self._verbatim[0]:
                self._verbatim[1] += 1
            return
        if attrs.get("translate") == "no":
            if tag not in VOID:
                self._verbatim = [tag, 1]
            return
        self.parts.extend(v for k, v in attrs.items() if k in READ_ATTRIBUTES and v)
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if self._verbatim is not None and tag == self._verbatim[0]:
            self._verbatim[1] -= 1
            if not self._verbatim[1]:
                self._verbatim = None

    def handle_data(self, data):
        if not self._hidden and self._verbatim is None:
            self.parts.append(data)


def pattern(url: str) -> str:
    """Pages of one kind: /cases/12 and /cases/31 alike, query keys without values."""
    parts = urlsplit(url)
    keys = sorted({p.split("=", 1)[0] for p in parts.query.split("&") if p})
    return re.sub(r"\d+", "#", parts.path) + "?" + "&".join(keys)


def offending(text: str, names: frozenset = frozenset()) -> list[str]:
    """English words and snake_case keys, less the allowed names and the accounts' log-in names
    (what a person types at 登录, shown where an account is created)."""
    found = []
    for word in WORD.findall(NOT_WORDS.sub(" ", text)):
        if word not in ALLOWED and word not in names:
            found.append(word)
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("no-english")
    mp = pytest.MonkeyPatch()
    mp.setenv("OPINION_INSTANCE_DIR", str(tmp))
    app = make_app(tmp, WTF_CSRF_ENABLED=False)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--posts", "150", "--days", "7"])
    assert result.exit_code == 0, result.output
    yield app
    mp.undo()


def walk(app, username):
    with app.app_context():
        names = frozenset(db.session.execute(select(User.username)).scalars())
    client = app.test_client()
    home = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert home.status_code == 302, f"{username} 登录失败"
    start = urljoin("http://localhost/", home.headers["Location"])
    seen, per_pattern, problems = {start}, {}, {}
    queue = deque([(start, 0)])
    while queue:
        url, depth = queue.popleft()
        response = client.get(url)
        assert response.status_code < 500, f"{username} 打开 {url} 得到 {response.status_code}"
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        page = Visible()
        page.feed(response.get_data(as_text=True))
        words = offending(" ".join(page.parts), names)
        if words:
            problems[urlsplit(url).path + ("?" + urlsplit(url).query if urlsplit(url).query else "")] = \
                sorted(set(words))
        if depth == DEPTH:
            continue
        for href in page.links:
            target = urljoin(url, href).split("#", 1)[0]
            parts = urlsplit(target)
            if parts.netloc != "localhost" or target in seen or SKIP.search(parts.path):
                continue
            kind = pattern(target)
            if per_pattern.get(kind, 0) >= PER_PATTERN:
                continue
            per_pattern[kind] = per_pattern.get(kind, 0) + 1
            seen.add(target)
            queue.append((target, depth + 1))
    return seen, problems


@pytest.mark.parametrize("username", [f"{next(iter(NAMED_UNITS))}_fyr", f"{next(iter(NAMED_UNITS))}_head", "monitor1", "leader"])
def test_pages_a_non_admin_sees_speak_chinese(demo, username):
    seen, problems = walk(demo, username)
    assert len(seen) >= 5, f"{username} 只走到 {len(seen)} 个页面：{sorted(seen)}"
    report = "\n".join(f"  {path}: {' '.join(words)}" for path, words in sorted(problems.items()))
    assert not problems, f"{username} 看到的页面上有英文或代码里的键（共 {len(seen)} 页）：\n{report}"


def test_the_walk_would_see_an_english_word_or_a_raw_key():
    page = Visible()
    page.feed('<p>状态 pending</p><script>var open_cases = 1</script><input placeholder="first_response">'
              '<a href="/x" data-k="sla_breach">PDF/Excel/done</a> 查询码 YE5KQ-HYTVA，见 https://example.org/p/'
              '<code translate="no"><b>K2ME</b> GNXM</code> 由 zjj_fyr 办理 Done')
    assert offending(" ".join(page.parts), frozenset({"zjj_fyr"})) == ["pending", "first_response", "done", "Done"]
