"""Links in agents' replies: what clean_reply lets through is all the customer's tracker makes clickable, and no
clickable link shows an article that is not public, however its address is written."""
from __future__ import annotations

import posixpath
import random
from html.parser import HTMLParser
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from kb.helpdesk.article_links import article_ids, http_href
from kb.helpdesk.replies import REMOVED, clean_reply
from web import auth, desk, portal
from web.linkify import linkify

AUDIENCES = {"getting-started": "public", "agent-only": "internal", "draft-notes": "draft"}
PUBLIC = "https://kb.example/articles/getting-started"
NOT_PUBLIC = ("agent-only", "draft-notes")


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "a":
            self.hrefs.append(dict(attrs).get("href") or "")


def shown(body: str) -> tuple[str, list[str], list[str]]:
    """What the customer's tracker shows for an agent's reply: (HTML, the hrefs in it, HTML tags in it)."""
    html = str(linkify(clean_reply(body, AUDIENCES).body))
    parser = _Anchors()
    parser.feed(html)
    return html, parser.hrefs, parser.tags


def decoded(href: str) -> str:
    """The href percent-decoded until nothing changes, in lower case, backslashes as slashes."""
    while (once := unquote(href).replace("\\", "/").casefold()) != href:
        href = once
    return href


# Every way a link to the internal article `agent-only` used to stay in a reply and become clickable.
BYPASSES = {
    "titled": '[Guide](https://kb.example/articles/agent-only "Agent guide")',
    "titled-single-quotes": "[Guide](https://kb.example/articles/agent-only 'Agent guide')",
    "titled-parentheses": "[Guide](https://kb.example/articles/agent-only (Agent guide))",
    "space-before-parenthesis": "[Guide] (https://kb.example/articles/agent-only)",
    "tab-before-parenthesis": "[Guide]\t(https://kb.example/articles/agent-only)",
    "newline-before-parenthesis": "[Guide]\n(https://kb.example/articles/agent-only)",
    "nested-brackets": "[see [the] guide](https://kb.example/articles/agent-only)",
    "doubled-slash": "https://kb.example//articles/agent-only",
    "doubled-slash-before-id": "https://kb.example/articles//agent-only",
    "dot-segment": "https://kb.example/./articles/agent-only",
    "dot-segment-before-id": "https://kb.example/articles/./agent-only",
    "dot-dot-segment": "https://kb.example/x/../articles/agent-only",
    "dot-dot-from-public": "https://kb.example/articles/getting-started/../agent-only",
    "encoded-dot-dot": "https://kb.example/x/%2e%2E/articles/agent-only",
    "encoded-letter": "https://kb.example/%61rticles/agent-only",
    "encoded-twice": "https://kb.example/%2561rticles/agent-only",
    "encoded-slash": "https://kb.example/articles%2Fagent-only",
    "encoded-slash-twice": "https://kb.example/articles%252Fagent-only",
    "mixed-encodings": "https://kb.example/%2561rticles%2fagent-only",
    "encoded-dot-dot-from-public": "https://kb.example/articles/getting-started%2F..%2Fagent-only",
    "encoded-tab": "https://kb.example/%09articles/agent-only",
    "encoded-newline": "https://kb.example/articles%0A/agent-only",
    "path-parameters": "https://kb.example/articles;v=1/agent-only",
    "dot-dot-with-parameters": "https://kb.example/articles/getting-started/..;/agent-only",
    "upper-case": "https://kb.example/ARTICLES/agent-only",
    "mixed-case": "https://kb.example/Articles/agent-only",
    "backslashes": "https://kb.example\\articles\\agent-only",
    "backslash-dot-dot": "https://kb.example/x\\..\\articles\\agent-only",
    "desk-route": "https://kb.example/desk/articles/agent-only",
    "history-route": "https://kb.example/articles/agent-only/history",
    "path-prefix": "https://kb.example/help/articles/agent-only",
    "redirect-after-sign-in": "https://kb.example/sign-in?next=/desk/articles/agent-only",
    "trailing-punctuation": "See https://kb.example//articles/agent-only.",
    "in-parentheses": "(see https://kb.example/Articles/agent-only).",
    "markdown-doubled-slash": "[Guide](https://kb.example//articles/agent-only)",
    "markdown-desk-route": "[Guide](https://kb.example/desk/articles/agent-only#steps)",
    "autolink-upper-case": "<https://kb.example/ARTICLES/agent-only>",
    "autolink-desk-route": "<https://kb.example/desk/articles/agent-only>",
    "draft-encoded": "https://kb.example/%61rticles/draft-notes",
}


@pytest.mark.parametrize("body", BYPASSES.values(), ids=BYPASSES.keys())
def test_no_link_to_an_article_that_is_not_public_survives_the_reply_check(body):
    cleaned = clean_reply(body, AUDIENCES)
    _html, hrefs, _tags = shown(body)
    assert cleaned.removed and cleaned.removed[0] in NOT_PUBLIC  # the desk warns the agent
    for href in hrefs:
        assert not any(i in decoded(href) for i in NOT_PUBLIC), href
        assert all(AUDIENCES.get(i) == "public" for i in article_ids(href)), href


@pytest.mark.parametrize("url, first", [
    ("https://kb.example/articles/getting-started", "getting-started"),
    ("https://kb.example/articles/getting-started?lang=ru#steps", "getting-started"),
    ("http://KB.EXAMPLE/Articles/getting-started/", "getting-started"),
    ("https://kb.example/x/..\\articles/./agent-only", "agent-only"),
    ("HTTPS:\\\\kb.example\\%2561rticles\\agent-only", "agent-only"),
    ("/articles/agent-only", "agent-only"),
    ("//kb.example/desk/articles/agent-only", "agent-only"),
])
def test_article_ids_reads_any_host_and_any_spelling(url, first):
    assert article_ids(url)[0] == first


def test_article_ids_is_empty_for_addresses_that_show_no_article():
    for url in ("https://other.example/page", "https://kb.example/articles", "https://kb.example/search?q=vpn",
                "mailto:help@kb.example", "/desk/"):
        assert article_ids(url) == [], url


def test_an_address_that_cannot_be_decoded_to_an_end_is_never_public():
    url = "https://kb.example/%" + "25" * 40 + "61rticles/getting-started"
    assert clean_reply(url, AUDIENCES).body == REMOVED


PUBLIC_LINKS = {
    # the composer's own link and a bare address (as before)
    f"[Getting started]({PUBLIC})": f'<a href="{PUBLIC}" rel="noopener nofollow">Getting started</a>',
    f"Read {PUBLIC}.": f'Read <a href="{PUBLIC}" rel="noopener nofollow">{PUBLIC}</a>.',
    # a title, a space, an autolink: now the link the agent meant
    f'[Getting started]({PUBLIC} "Start here")': f'<a href="{PUBLIC}" rel="noopener nofollow">Getting started</a>',
    f"[Getting started] ({PUBLIC}#steps)":
        f'<a href="{PUBLIC}#steps" rel="noopener nofollow">Getting started</a>',
    f"<{PUBLIC}>": f'<a href="{PUBLIC}" rel="noopener nofollow">{PUBLIC}</a>',
    "[Guide](https://kb.example/%61rticles/getting-started)":
        '<a href="https://kb.example/%61rticles/getting-started" rel="noopener nofollow">Guide</a>',
}


@pytest.mark.parametrize("body, html", PUBLIC_LINKS.items(), ids=range(len(PUBLIC_LINKS)))
def test_links_to_public_articles_stay_and_open_the_article(body, html):
    cleaned = clean_reply(body, AUDIENCES)
    assert cleaned.body == body and cleaned.linked == ["getting-started"] and cleaned.removed == []
    assert shown(body)[0] == html


def test_a_link_taken_out_cannot_leave_a_new_link_behind():
    body = (f"[[Guide](https://kb.example/articles/agent-only)]({PUBLIC}) "
            f"[see https://kb.example//articles/agent-only]({PUBLIC}) "
            "https://kb.example//articles/agent-only(https://kb.example/articles/agent-only)")
    cleaned = clean_reply(body, AUDIENCES)
    assert "agent-only" not in cleaned.body
    assert cleaned.removed == ["agent-only"] * 4 and cleaned.linked == ["getting-started", "getting-started"]
    assert shown(body)[1] == [PUBLIC, PUBLIC]


def test_only_http_addresses_become_links_and_everything_else_stays_escaped():
    body = ('[x](javascript:alert(1)) [y](data:text/html,<script>alert(1)</script>) <javascript:alert(1)> '
            '[z](//kb.example/page) [w](/articles/getting-started) <b>bold</b> '
            'https://ok.example/a?b=1&c="onmouseover=alert(1)')
    html, hrefs, tags = shown(body)
    assert hrefs == ["https://ok.example/a?b=1&c="] and set(tags) == {"a"}
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "&lt;script&gt;" in html


def test_hrefs_are_written_as_the_browser_reads_them():
    body = ("HTTPS://Ok.Example/a/./b/../c https://ok.example\\x\\y [q](<https://ok.example/a b>) "
            "https://ok.example/%2e%2e/z")
    assert shown(body)[1] == ["https://ok.example/a/c", "https://ok.example/x/y", "https://ok.example/a%20b",
                              "https://ok.example/z"]


def test_addresses_with_a_user_name_or_no_host_stay_text():
    assert shown("https://kb.example@evil.example/ https:// https://?q=1 [x](https:/#top)")[1] == []


def test_a_public_id_is_refused_when_another_article_differs_from_it_only_in_case():
    audiences = {"Guide": "public", "guide": "internal"}
    assert clean_reply("https://kb.example/articles/Guide", audiences).body == REMOVED


# Property: for replies built at random from pieces of URLs, every link the tracker shows opens a public article
# or no article, by this parser and by the portal's own routes (as the server, or a decoding proxy, reads it).
PIECES = ["[", "]", "(", ")", " ", "\t", "\n", "<", ">", '"', "'", ".", ",", "..", "/", "//", "\\", "?next=", "#",
          ";", "%2e", "%2E", "%2F", "%5C", "%25", "%61", "%09", "https://", "http:", "HTTPS://", "kb.example",
          "articles", "ARTICLES", "Articles", "desk", "history", "sign-in", "getting-started", "agent-only",
          "draft-notes", "x", "https://kb.example/", "/articles/", "[Guide](", PUBLIC,
          "https://kb.example/articles/agent-only"]


@pytest.fixture(scope="module")
def routes():
    """The portal's and the desk's routes, to match paths against."""
    app = Flask("routes")
    for blueprint in (portal.bp, desk.bp, auth.bp):
        app.register_blueprint(blueprint)
    return app.url_map.bind("kb.example")


def _server_ids(routes, href: str) -> set[str]:
    """Article ids the portal's routes show for an href: as sent, decoded once or twice, in lower case, with
    doubled slashes merged and dot segments resolved, after a redirect, and the sign-in page's `next`."""
    parts = urlsplit(href)
    paths = {parts.path, *parse_qs(parts.query).get("next", [])}
    variants = set()
    for path in paths:
        for once in (path, unquote(path), unquote(unquote(path))):
            for spelling in (once, once.lower()):
                merged = spelling.replace("\\", "/")
                variants |= {spelling, merged, posixpath.normpath("/" + merged)}
    ids = set()
    for path in variants:
        for method in ("GET", "POST"):
            try:
                _endpoint, args = routes.match(path, method=method)
            except RequestRedirect as redirect:
                try:
                    _endpoint, args = routes.match(urlsplit(redirect.new_url).path, method=method)
                except HTTPException:
                    continue
            except HTTPException:
                continue
            ids |= {args["article_id"]} if "article_id" in args else set()
    return ids


def test_random_replies_never_show_a_link_to_an_article_that_is_not_public(routes):
    rng = random.Random(20240611)
    opened = set()
    for _ in range(3000):
        body = "".join(rng.choice(PIECES) for _ in range(rng.randint(3, 24)))
        _html, hrefs, tags = shown(body)
        assert set(tags) <= {"a"}, body
        for href in hrefs:
            opened.add(tuple(article_ids(href)))
            assert href.startswith(("http://", "https://")), (body, href)
            assert http_href(href) == href, (body, href)  # nothing left for a browser to read differently
            assert all(AUDIENCES.get(i) == "public" for i in article_ids(href)), (body, href)
            assert all(AUDIENCES.get(i) == "public" for i in _server_ids(routes, href)), (body, href)
    assert {(), ("getting-started",)} <= opened  # links to a public article and to no article were both made
