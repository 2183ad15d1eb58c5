"""Hostile input everywhere a customer, an agent or an editor writes, rendered in real Chromium (Debian's
/usr/bin/chromium driven by Playwright) against a live waitress server: no payload of tests/xss_payloads.txt runs
a script, opens a dialog, makes the browser load anything, or leaves live markup in any page that shows it, to a
visitor, a customer, an agent or an admin.

Every payload goes into an article's front matter (title, description, questions, tags, category labels) and
Markdown body (a help center built with the fake encoder), a ticket's subject, description and replies, an internal
note, display names, organisation names, searches (typed on the search page and shown back on the insights page),
community topics, questions, answers and reports, notices, macros and API token names. Pages are checked in
batches; the browser ignores any Content-Security-Policy (`bypass_csp`), so what is checked is the escaping and
sanitising itself.
"""
from __future__ import annotations

import io
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import Error as PlaywrightError
from sqlalchemy import select

from indexer.build import build_index
from kb.config import Settings
from kb.helpdesk import community as cm
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.analytics import new_token
from kb.helpdesk.api_tokens import create_token
from kb.helpdesk.community_models import TOPIC_DESCRIPTION_MAX
from kb.helpdesk.macros import save_macro
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import AGENT, NAME_MAX, SUBJECT_MAX, User
from kb.helpdesk.notes import add_note
from kb.helpdesk.notices import create_notice
from kb.helpdesk.tickets import add_reply, create_ticket
from search.service import SearchService
from tests.chromium import ARTIFACTS, sign_in
from tests.fakes import HashingEncoder
from tests.portal import PASSWORD, add_people, csrf_token, make_app, serving
from tests.portal import sign_in as sign_in_client
from tests.xss import EVALUATED, INSPECT, Listener, assert_inert, batches, packed, payloads, watch

pytestmark = pytest.mark.slow
AGENT_EMAIL, ADMIN_EMAIL, ANN = "xss-agent@desk.example", "xss-admin@desk.example", "ann@acme.example"
BATCH = 30  # payloads per article and typed text
SEARCH_MAX = 1000


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def hostile(listener) -> list[str]:
    return payloads(listener.url)


def _article(group: list[str], category: str, related: str) -> str:
    text = " ".join(group)
    front = {"title": text, "category": category, "description": text, "questions": [*group, "printer offline"],
             "tags": ["printer", *group], "related": [related]}
    body = ["Printer offline: restart it.", ""]
    for payload in group:  # each payload as a paragraph, a heading, a list item and a quotation
        body += [payload, "", f"## {payload}", "", f"- {payload}", "", f"> {payload}", ""]
    return "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + "\n".join(body) + "\n"


def _center(root, hostile: list[str]):
    """A help center of one category and one article per batch of payloads: the category's label and
    description, and the article's front matter and Markdown body, are those payloads."""
    (root / "articles").mkdir(parents=True)
    groups = batches(hostile, BATCH)
    categories = {f"c{k}": {"title": " ".join(group), "description": " ".join(group)}
                  for k, group in enumerate(groups)}
    (root / "articles" / "categories.yml").write_text(yaml.safe_dump(categories, allow_unicode=True), "utf-8")
    for k, group in enumerate(groups):
        text = _article(group, f"c{k}", f"a{(k + 1) % len(groups)}")
        (root / "articles" / f"a{k}.md").write_text(text, "utf-8")
    return root / "articles"


def _seed(app, hostile: list[str]) -> dict:
    """Tickets, replies, notes, people, organisations, community posts, notices, macros and tokens, all payloads
    (as many to a text as its field holds)."""
    seeded: dict = {}
    everything = "\n\n".join(hostile)
    with app.extensions["kb.db"].begin() as db:
        agent = add_staff(db, AGENT_EMAIL, PASSWORD, "agent", "general", name=hostile[1])
        admin = add_staff(db, ADMIN_EMAIL, PASSWORD, "admin", "general", name=hostile[2])
        ann = db.scalar(select(User).where(User.email == ANN))
        big = create_ticket(db, ann, hostile[0], everything, "c0", predicted="c1", group="general")
        subjects = packed(hostile, SUBJECT_MAX)
        for i, subject in enumerate(subjects):  # "typed as" one subject, read in another keyboard layout as the next
            create_ticket(db, ann, subject, subject, f"c{i % len(batches(hostile, BATCH))}", group="general",
                          subject_fixed=subjects[(i + 1) % len(subjects)])
        for i, name in enumerate(packed(hostile, NAME_MAX - 4)):
            org = add_organisation(db, f"{name} {i}")
            writer = add_user(db, f"x{i}@org{i}.example", PASSWORD, org.name, "member", name=name)
            add_reply(db, big, writer, name)
        add_reply(db, big, agent, everything, author_kind=AGENT)
        add_note(db, big, agent, everything)
        seeded["big"] = big.ref
        seeded["bidi"] = create_ticket(db, ann, "Printer \u202eoffline now", "It says offline", "c0").ref
        cm.ensure_category_topics(db, {f"c{k}": " ".join(group) for k, group in enumerate(batches(hostile, BATCH))})
        topic = cm.add_topic(db, admin, "hostile", hostile[3], " ".join(hostile)[:TOPIC_DESCRIPTION_MAX])
        question = cm.ask(db, ann, topic, hostile[5], everything)
        reply = cm.answer(db, agent, question, everything)
        for title in packed(hostile, SUBJECT_MAX):
            asked = cm.ask(db, ann, topic, title, title)
            cm.report(db, agent, asked, title)
        cm.report(db, agent, reply, hostile[6])
        seeded["question"] = question.id
        for title in packed(hostile, SUBJECT_MAX)[:10]:
            create_notice(db, agent, title, everything[:2000])
            save_macro(db, agent, None, title=title, body=title, article_ids=[], status="", shared=True, audiences={})
            create_token(db, agent, "read", title[:60])
    return seeded


def _attach(app, ref: str, hostile: list[str]) -> None:
    """Files whose names are payloads, attached to replies through the portal's form (as a browser uploads them)."""
    client = app.test_client()
    assert sign_in_client(client, ANN).status_code == 302
    # a browser sends a double quote in a file name as %22 (Werkzeug's test client would cut the name there)
    names = [f"{name}.log".replace('"', "%22") for name in packed(hostile, 100)]
    for group in batches(names, 5):
        files = [(io.BytesIO(b"printer offline\n" * 5), name) for name in group]
        response = client.post(f"/tickets/{ref}/reply", content_type="multipart/form-data",
                               data={"csrf_token": csrf_token(client), "body": "logs", "attachments": files})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _mail(app, seeded: dict, hostile: list[str]) -> None:
    """An agent's reply and a community answer sent through the desk's and the community's forms: both are mailed
    (the outbox) to ann, with the payloads in them."""
    client = app.test_client()
    assert sign_in_client(client, AGENT_EMAIL).status_code == 302
    everything = "\n\n".join(hostile)
    for path, fields in ((f"/desk/tickets/{seeded['big']}/reply", {"body": everything, "status": "", "action": "send"}),
                         (f"/community/q/{seeded['question']}/answer", {"body": everything})):
        response = client.post(path, data={"csrf_token": csrf_token(client), **fields})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]


@pytest.fixture(scope="module")
def site(tmp_path_factory, hostile):
    """The portal over the hostile help center, served by waitress on a loopback port, with the hostile records:
    (app, base URL, seeded)."""
    root = tmp_path_factory.mktemp("xss")
    settings = Settings(articles_dir=_center(root, hostile), index_dir=root / "index", embedding_model="fake-hashing",
                        database_url=f"sqlite:///{root / 'kb.sqlite3'}", secret_key="k" * 32,
                        secret_key_file=root / "key", attachments_dir=root / "attachments",
                        desk_page_size=1000, rate_limit_search="10000/minute", rate_limit_views="10000/minute",
                        rate_limit_suggest="10000/minute", rate_limit_replies="10000/minute")
    encoder = HashingEncoder()
    build_index(settings, encoder)
    app = make_app(settings, SearchService.load(settings.index_dir, settings, encoder))
    app.testing = False
    add_people(app)
    seeded = _seed(app, hostile)
    _attach(app, seeded["big"], hostile)
    _mail(app, seeded, hostile)
    with serving(app) as port:
        yield app, f"http://127.0.0.1:{port}", seeded


def _visit(page, dialogs, listener, base: str, paths: list[str], name: str, missing_ok: bool = False) -> None:
    for path in paths:
        response = page.goto(base + path, wait_until="domcontentloaded")
        assert response is not None and (response.status < 400 or missing_ok and response.status < 500), \
            f"{path}: {response and response.status}"
        assert_inert(page, dialogs, listener, path)
        if path == paths[0]:  # the viewport only: a whole page of payloads takes long to draw
            page.screenshot(path=str(ARTIFACTS / f"xss-{name}.png"))


def _context(browser, base: str, email: str | None):
    if email is None:
        context = browser.new_context(bypass_csp=True)
        page = context.new_page()
    else:
        context, page = sign_in(browser, base, email, bypass_csp=True)
    return context, page, watch(page)


def test_the_payloads_are_live_when_not_escaped(browser):
    """The checks catch what they are for: set as a page's raw HTML, most payloads run or leave live markup."""
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    ran = caught = 0
    for payload in payloads():  # loads go to the discard port: nothing listens there
        try:
            page.set_content(f"<!doctype html><body><p>{payload}</p></body>", wait_until="load")
            found = page.evaluate(f"() => [window.__xss !== undefined, ({INSPECT})('http://nowhere.invalid').length]")
        except PlaywrightError:  # the payload navigated away (a refresh, a form sent): live too
            found = [False, 1]
        ran, caught = ran + found[0], caught + bool(found[0] or found[1])
    context.close()
    total = len(payloads())
    assert ran >= total / 2 and caught >= total * 0.9, f"{ran} ran, {caught} caught of {total}"


def test_visitor_pages(browser, listener, site, hostile):
    _, base, seeded = site
    context, page, dialogs = _context(browser, base, None)
    groups = range(len(batches(hostile, BATCH)))
    searches = ["/search?q=" + quote(text) for text in packed(hostile, SEARCH_MAX)]
    categories = [f"/categories/c{k}" for k in groups]
    articles = [f"/articles/a{k}" for k in groups]
    _visit(page, dialogs, listener, base, ["/", *categories, *articles, *searches], "visitor")
    page.goto(base + "/articles/a0")
    assert page.inner_text("h1") == " ".join(hostile[:BATCH])  # shown as text, whole
    page.goto(base + "/search?q=" + quote("{{91*7919}} printer"))
    assert page.locator("input[name=q]").first.input_value() == "{{91*7919}} printer"
    assert "{{91*7919}}" in page.inner_text("main") and EVALUATED not in page.inner_text("main")
    reflected = [path + quote(text) for text in packed(hostile, SEARCH_MAX)[:3]
                 for path in ("/?q=", "/sign-in?next=", "/articles/", "/categories/", "/community/", "/contact?q=")]
    _visit(page, dialogs, listener, base, reflected, "visitor-reflected", missing_ok=True)
    community = ["/community", "/community/hostile", f"/community/q/{seeded['question']}",
                 *[f"/community/c{k}" for k in groups]]
    _visit(page, dialogs, listener, base, community, "visitor-community")
    context.close()


def test_customer_pages(browser, listener, site, hostile):
    _, base, seeded = site
    context, page, dialogs = _context(browser, base, ANN)
    prefilled = [f"/tickets/new?subject={quote(text[:200])}&description={quote(text)}&category={quote(text[:50])}"
                 for text in packed(hostile, SEARCH_MAX)]
    paths = ["/tickets", f"/tickets/{seeded['big']}", "/tickets/new", "/contact", "/account",
             f"/community/q/{seeded['question']}", "/community/hostile/ask", *prefilled]
    _visit(page, dialogs, listener, base, paths, "customer")
    page.goto(base + f"/tickets/{seeded['big']}")
    text = page.locator("main").inner_text()
    assert all(payload.strip() in text for payload in hostile if "\n" not in payload)  # shown, as text
    assert page.locator("main a[href*='/attachments/']").count() >= len(packed(hostile, 100))
    # typed into the contact form: the suggestions (/api/suggest) and known issues are drawn by portal.js
    page.goto(base + "/contact")
    drawn = 0
    for group in batches(hostile, BATCH):
        with page.expect_response(lambda response: "/api/suggest" in response.url):
            page.locator("[name=description]").fill("\n".join(group))
        page.wait_for_timeout(100)
        drawn += page.locator("#suggestions [data-role=list] li").count()
        assert_inert(page, dialogs, listener, "/contact while typing")
    assert drawn  # payload titles were drawn as suggestions
    # and into the community's ask form: the articles and questions asked before (community.js)
    page.goto(base + "/community/hostile/ask")
    drawn = 0
    for text in packed(hostile, SUBJECT_MAX)[:5]:
        with page.expect_response(lambda response: "/community/suggest" in response.url):
            page.locator("[name=title]").fill(text)
        page.wait_for_timeout(100)
        drawn += page.locator("#asked-before li").count()
        assert_inert(page, dialogs, listener, "/community/hostile/ask while typing")
    assert drawn
    context.close()


def test_agent_pages(browser, listener, site, hostile):
    _, base, seeded = site
    context, page, dialogs = _context(browser, base, AGENT_EMAIL)
    searches = ["/desk/?q=" + quote(text) for text in packed(hostile, SUBJECT_MAX)[:3]]
    paths = ["/desk/", f"/desk/tickets/{seeded['big']}", "/desk/notices/", "/desk/macros/", "/account/tokens/",
             "/community/moderation/", f"/community/q/{seeded['question']}",
             *[f"/desk/articles/a{k}" for k in range(len(batches(hostile, BATCH)))], *searches]
    _visit(page, dialogs, listener, base, paths, "agent")
    page.goto(base + f"/desk/tickets/{seeded['big']}")
    assert hostile[0] in page.locator("main").inner_text()
    context.close()


def test_admin_pages_and_recorded_searches(browser, listener, site, hostile):
    app, base, _ = site
    log = app.extensions["kb.events"]
    for payload in hostile:  # what customers searched, as the insights page shows it
        log.search(token=new_token(), source="search", visitor="", query=payload, searched=payload, lang="en",
                   results=0, top_article="", confidence=0.1, confident=False, category="c0", session="")
    log.flush()
    context, page, dialogs = _context(browser, base, ADMIN_EMAIL)
    _visit(page, dialogs, listener, base, ["/desk/admin/", "/desk/insights/gaps", "/desk/", "/desk/insights/"],
           "admin")
    assert hostile[0] in page.locator("main").inner_text()
    context.close()


def test_mail_to_customers(browser, listener, site, hostile):
    """The HTML part of every message in the outbox (replies, answers to a followed question) rendered as a mail
    client would: no payload in it is live."""
    app, _, _ = site
    with app.extensions["kb.db"]() as db:
        messages = [(m.kind, m.html_body) for m in db.scalars(select(OutboxMessage)) if m.html_body]
    assert {"agent_reply", "community_answer"} <= {kind for kind, _ in messages}
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    dialogs = watch(page)
    for kind, html in messages:
        page.set_content(html, wait_until="load")
        assert_inert(page, dialogs, listener, f"mail {kind}")
    page.set_content(next(html for kind, html in messages if kind == "agent_reply"))
    assert hostile[0] in page.inner_text("body")  # shown, as text
    context.close()


def test_a_bidirectional_override_ends_with_the_text_that_holds_it(browser, site):
    """A subject holding U+202E (right-to-left override) turns its own text around, never the status and date
    after it: on the customer's list, the status still comes after the subject's link."""
    _, base, seeded = site
    context, page, _ = _context(browser, base, ANN)
    page.goto(base + "/tickets")
    row = page.locator(f"li:has(> a[href$='/tickets/{seeded['bidi']}'])")
    link, status = row.locator("> a").bounding_box(), row.locator("> .status").bounding_box()
    assert abs(status["y"] - link["y"]) < link["height"]  # one line
    assert status["x"] >= link["x"] + link["width"] - 1, (link, status)
    context.close()
