"""Hypothesis fuzzing of everything the portal reads from a client, through Flask's test client: the search page,
/api/suggest, /api/search, the customer and v1 JSON APIs, and every form a visitor, a customer or an agent sends.
Text is arbitrary Unicode, control characters and bytes read as Latin-1, the XSS payloads, huge values, values
sent twice or of the wrong type, JSON of any shape and bodies that are not JSON at all. No answer is a 500, and a
form that is refused shows again with what was typed in it (less the control characters the forms drop).

Examples are few and derandomized, so the run is the same on every machine."""
from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from markupsafe import escape
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.api_tokens import create_token
from kb.helpdesk.models import User
from kb.helpdesk.notices import create_notice
from kb.helpdesk.tickets import create_ticket
from tests.portal import PASSWORD, add_people, csrf_token, make_app, sign_in
from tests.xss import payloads
from web.forms import clean

FUZZ = settings(max_examples=20, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(FUZZ, max_examples=10)  # for the pages that search: each example costs a search or two
AGENT, ADMIN = "fuzz-agent@desk.example", "fuzz-admin@desk.example"

# Text a client may send: any Unicode (no lone surrogates: a form body is UTF-8), bytes read as Latin-1, the
# XSS payloads, and huge values.
_unicode = st.text(max_size=300)
_bytes = st.binary(max_size=200).map(lambda raw: raw.decode("latin-1"))
_huge = st.tuples(st.text(min_size=1, max_size=8), st.sampled_from([3000, 25_000, 120_000])).map(
    lambda pair: (pair[0] * pair[1])[:pair[1]])
TEXT = st.one_of(_unicode, _bytes, st.sampled_from(payloads()), _huge)
# A form value: one text, the same field sent twice, or an empty list (the field missing)
VALUE = st.one_of(TEXT, TEXT, st.lists(TEXT, min_size=2, max_size=3))
# Fields with a few right answers: those too, so that some forms go through
CHOICES = {"category": ["printers", "accounts", ""], "status": ["in_progress", "resolved", "waiting_on_customer"],
           "priority": ["P1", "P4"], "scope": ["read", "write"], "step": ["ticket"], "action": ["assign", "status"],
           "score": ["1", "7"], "lang": ["en", "ru"], "helpful": ["yes", "no"], "article_id": ["printer-offline"],
           "role": ["agent", "admin", "member"]}


def _value(name: str):
    return st.one_of(st.sampled_from(CHOICES[name]), VALUE) if name in CHOICES else VALUE
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT
                    | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                    max_leaves=12)
# A body that may not be JSON at all: bytes, cut JSON, deep nesting, a lone surrogate escape
RAW_BODY = st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v)[:-1].encode()),
                     st.integers(1, 5000).map(lambda depth: b"[" * depth + b"]" * depth),
                     st.sampled_from([b'{"subject": "\\ud800", "description": "x"}', b"", b"null", b"{",
                                      b"\xff\xfe"]))


@pytest.fixture(scope="module")
def fuzz_app(portal_index, module_database_url, tmp_path_factory):
    """The portal over the small help center with every limit raised (the fuzzing sends hundreds of requests), the
    people of tests.portal, an agent with a write token, a ticket and a community question: (app, seeded)."""
    folder = tmp_path_factory.mktemp("fuzz")
    high = "100000/minute"
    settings_ = replace(portal_index[0], database_url=module_database_url, secret_key="k" * 32,
                        secret_key_file=folder / "key", attachments_dir=folder / "attachments",
                        rate_limit_search=high, rate_limit_suggest=high, rate_limit_tickets=high,
                        rate_limit_replies=high, rate_limit_views=high, rate_limit_sign_in=high,
                        rate_limit_sign_in_account=high, rate_limit_sign_in_address=high,
                        rate_limit_account_mail=high, rate_limit_account_mail_address=high,
                        rate_limit_account_links=high, rate_limit_api=high, rate_limit_community_posts=high,
                        rate_limit_votes=high, rate_limit_new_visitors=high)
    app = make_app(settings_, portal_index[1])
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        agent = add_staff(db, AGENT, PASSWORD, "agent", "general")
        add_staff(db, ADMIN, PASSWORD, "admin", "general")
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        ticket = create_ticket(db, ann, "Printer offline", "It says offline", "printers", group="general")
        cm.ensure_category_topics(db, {"printers": "Printers"})
        question = cm.ask(db, ann, cm.find_topic(db, ann, "printers"), "Printer offline?", "It says offline")
        _, token = create_token(db, agent, "write", "fuzz")
        notice = create_notice(db, agent, "Printers down", "We are on it")
        seeded = {"ref": ticket.ref, "question": question.id, "token": token, "agent": agent.id,
                  "notice": notice.id}
    return app, seeded


def _client(app, email: str | None):
    client = app.test_client()
    if email is not None:
        assert sign_in(client, email).status_code == 302
    return client, csrf_token(client)


@pytest.fixture(scope="module")
def visitor(fuzz_app):
    return _client(fuzz_app[0], None)


@pytest.fixture(scope="module")
def customer(fuzz_app):
    return _client(fuzz_app[0], "ann@acme.example")


@pytest.fixture(scope="module")
def agent(fuzz_app):
    return _client(fuzz_app[0], AGENT)


@pytest.fixture(scope="module")
def admin(fuzz_app):
    return _client(fuzz_app[0], ADMIN)


def _ok(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code}\n{response.get_data(as_text=True)[:2000]}"


def _kept(response, fields: dict, kept: tuple[str, ...], what: str) -> None:
    """A refused form (400, or 401 for a failed sign-in) shows again with the text typed into each field of
    `kept`."""
    if response.status_code not in (400, 401) or not response.mimetype == "text/html":
        return
    page = response.get_data(as_text=True)
    if "<form" not in page:
        return
    for name in kept:
        value = fields.get(name)
        if isinstance(value, str) and value:
            shown = str(escape(clean(value)))
            assert shown in page or shown.replace("\r\n", "\n") in page.replace("\r\n", "\n"), \
                f"{what}: {name!r} not kept ({len(value)} characters)"


# --- GET: queries -------------------------------------------------------------------------------------------------

QUERY_PAGES = [("/search", ("q", "category")), ("/api/suggest", ("q", "session")), ("/api/search", ("q", "k")),
               ("/community/suggest", ("q", "body", "topic")), ("/", ("q",)), ("/contact", ("q",))]


@pytest.mark.parametrize("path,names", QUERY_PAGES, ids=[p for p, _ in QUERY_PAGES])
@FEW
@given(data=st.data())
def test_queries_never_fail(visitor, path, names, data):
    client, _ = visitor
    args = {name: data.draw(VALUE, label=name) for name in names}
    _ok(client.get(path, query_string=args), path)


DESK_FILTERS = ("q", "status", "category", "org", "group", "age", "priority", "sla", "sort", "page", "view")


@FEW
@given(data=st.data())
def test_desk_queue_filters_never_fail(agent, data):
    client, _ = agent
    args = {name: data.draw(_value(name), label=name) for name in data.draw(st.sets(st.sampled_from(DESK_FILTERS)))}
    _ok(client.get("/desk/", query_string=args), "/desk/")


# --- forms ----------------------------------------------------------------------------------------------------------

# (who, path, fields, fields a refused form must show again)
FORMS = [
    ("visitor", "/sign-in", ("email", "password", "next"), ("email",)),
    ("visitor", "/forgot-password", ("email",), ()),
    ("visitor", "/sign-up", ("email",), ()),
    ("customer", "/contact", ("subject", "description", "session", "step"), ("subject", "description")),
    ("customer", "/tickets/new", ("subject", "description", "category", "searched", "session", "idempotency_key",
                                  "notices"), ("subject", "description")),
    ("customer", "/tickets/{ref}/reply", ("body",), ()),
    ("customer", "/contact/solved", ("article_id", "query", "search"), ()),
    ("customer", "/effort", ("score", "article_id", "ticket"), ()),
    ("customer", "/community/printers/ask", ("title", "body", "checked"), ("title", "body")),
    ("customer", "/community/q/{question}/answer", ("body",), ()),
    ("customer", "/community/q/{question}/report", ("reason",), ()),
    ("customer", "/articles/printer-offline/vote", ("helpful", "missing", "value"), ()),
    ("customer", "/account/password", ("current", "password", "confirm"), ()),
    ("customer", "/account/email", ("email", "current"), ()),
    ("customer", "/language", ("lang", "next"), ()),
    ("agent", "/desk/tickets/{ref}/reply", ("body", "kb", "status", "with_summary"), ()),
    ("agent", "/desk/tickets/{ref}/note", ("note",), ()),
    ("agent", "/desk/tickets/{ref}/status", ("status",), ()),
    ("agent", "/desk/tickets/{ref}/category", ("category",), ()),
    ("agent", "/desk/tickets/{ref}/priority", ("priority",), ()),
    ("agent", "/desk/bulk", ("ref", "action", "owner", "status", "back"), ()),
    ("agent", "/desk/macros/new", ("title", "body", "articles", "status", "shared"), ("title", "body")),
    ("agent", "/desk/notices/", ("title", "body", "category", "starts_at", "ends_at"), ("title", "body")),
    ("agent", "/desk/notices/{notice}/resolve", ("resolution",), ()),
    ("agent", "/account/tokens/", ("name", "scope"), ()),
    ("customer", "/community/q/{question}/edit", ("title", "body"), ("title", "body")),
    ("customer", "/account/notifications", ("kinds",), ()),
    ("admin", "/desk/admin/agents", ("email", "name", "role", "group", "password"), ("email", "name", "group")),
    ("admin", "/desk/admin/agents/{agent}", ("name", "role", "group"), ("name", "group")),
    ("admin", "/desk/admin/organisations", ("name",), ("name",)),
    ("admin", "/desk/admin/domains", ("organisation", "domain", "signup"), ("domain",)),
    ("admin", "/community/moderation/topics", ("slug", "title", "description", "organisation"),
     ("slug", "title", "description")),
]


@pytest.mark.parametrize("who,path,names,kept", FORMS, ids=[f"{who}:{path}" for who, path, _, _ in FORMS])
@FUZZ
@given(data=st.data())
def test_forms_never_fail_and_keep_what_was_typed(request, fuzz_app, who, path, names, kept, data):
    client, token = request.getfixturevalue(who)
    path = path.format(**fuzz_app[1])
    fields = {name: data.draw(_value(name), label=name) for name in names}
    response = client.post(path, data={"csrf_token": token, **fields})
    _ok(response, path)
    _kept(response, fields, kept, path)


@FUZZ
@given(body=st.binary(max_size=400), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", "application/json"]))
def test_a_form_body_of_any_bytes_never_fails(customer, body, content_type):
    client, _ = customer
    for path in ("/tickets/new", "/contact", "/sign-in"):
        _ok(client.post(path, data=body, content_type=content_type), path)


# --- JSON APIs -----------------------------------------------------------------------------------------------------

@FUZZ
@given(body=st.one_of(JSON.map(lambda v: json.dumps(v).encode()), RAW_BODY,
                      st.fixed_dictionaries({"subject": JSON, "description": JSON},
                                            optional={"category": JSON, "searched": JSON}).map(
                          lambda v: json.dumps(v).encode())),
       key=st.one_of(st.none(), st.text(max_size=80)))
def test_ticket_api_never_fails(customer, body, key):
    client, _ = customer
    headers = {} if key is None else {"Idempotency-Key": _header(key)}
    response = client.post("/api/tickets", data=body, content_type="application/json", headers=headers)
    _ok(response, "/api/tickets")
    if response.status_code >= 400:
        assert "error" in response.get_json()


V1_POSTS = ("reply", "note", "status", "owner", "priority")


@pytest.mark.parametrize("action", V1_POSTS)
@FUZZ
@given(body=st.one_of(JSON.map(lambda v: json.dumps(v).encode()), RAW_BODY,
                      st.dictionaries(st.sampled_from(["body", "status", "owner", "priority", "x"]), JSON,
                                      max_size=3).map(lambda v: json.dumps(v).encode())))
def test_v1_ticket_endpoints_never_fail(fuzz_app, action, body):
    app, seeded = fuzz_app
    response = app.test_client().post(f"/api/v1/tickets/{seeded['ref']}/{action}", data=body,
                                      content_type="application/json",
                                      headers={"Authorization": f"Bearer {seeded['token']}"})
    _ok(response, action)
    if response.status_code >= 400:
        assert "error" in response.get_json()


V1_GETS = [("/api/v1/search", ("q", "k", "lang")), ("/api/v1/tickets", ("status", "category", "group", "limit",
                                                                         "cursor")),
           ("/api/v1/articles", ("category", "lang", "page", "per_page"))]


@pytest.mark.parametrize("path,names", V1_GETS, ids=[p for p, _ in V1_GETS])
@FEW
@given(data=st.data())
def test_v1_queries_never_fail(fuzz_app, path, names, data):
    app, seeded = fuzz_app
    args = {name: data.draw(VALUE, label=name) for name in names}
    response = app.test_client().get(path, query_string=args,
                                     headers={"Authorization": f"Bearer {seeded['token']}"})
    _ok(response, path)
    if response.status_code >= 400:
        assert "error" in response.get_json()


# --- addresses, headers and cookies --------------------------------------------------------------------------------

PATHS = ["/articles/{}", "/articles/{}/history", "/categories/{}", "/community/{}", "/community/q/{}",
         "/tickets/{}", "/api/tickets/{}", "/desk/tickets/{}", "/desk/articles/{}", "/files/{}",
         "/desk/insights/{}.csv", "/api/v1/tickets/{}", "/api/v1/articles/{}", "/reset-password/{}",
         "/invitation/{}", "/sign-up/{}", "/requests/{}", "/unsubscribe/{}", "/account/email/{}"]


@pytest.mark.parametrize("who", ["customer", "agent"])
@FUZZ
@given(segment=st.one_of(TEXT.filter(lambda t: len(t) < 3000), st.sampled_from(["..", "%00", "%2e%2e%2f", "KB-"])))
def test_any_address_never_fails(request, fuzz_app, who, segment):
    client, _ = request.getfixturevalue(who)
    quoted = quote(segment.encode("utf-8", "surrogatepass"), safe="%")
    for pattern in PATHS:
        _ok(client.get(pattern.format(quoted), headers={"Authorization": f"Bearer {fuzz_app[1]['token']}"}),
            pattern)


def _header(text: str) -> str:
    """`text` as a header's bytes can carry it: UTF-8 read as Latin-1, without line breaks (no client sends
    those: they would end the header)."""
    return text.encode("utf-8", "replace").decode("latin-1").replace("\r", "").replace("\n", "")


@FUZZ
@given(language=st.text(max_size=200), cookie=TEXT.filter(lambda t: len(t) < 3000),
       name=st.sampled_from(["kb_session", "kb_visitor", "kb_lang", "kb_signed_in", "session"]))
def test_any_header_or_cookie_never_fails(fuzz_app, language, cookie, name):
    client = fuzz_app[0].test_client()
    client.set_cookie(name, _header(cookie))
    headers = {"Accept-Language": _header(language)}
    for path in ("/", "/search?q=printer", "/contact", "/sign-in", "/api/suggest?q=printer"):
        _ok(client.get(path, headers=headers), path)
