"""Cheap abuse of the portal, through Flask's test client: forged visitor cookies, one client inflating views,
public routes without limits, one address locking accounts out, and cookie flags behind a TLS proxy."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from itsdangerous import Signer
from sqlalchemy import func, select

from kb.helpdesk.models import ArticleView, Vote
from tests.portal import PASSWORD, add_people, csrf_token, file_ticket, make_app, post, sign_in


def count(app, model, **where) -> int:
    with app.extensions["kb.db"]() as db:
        return db.scalar(select(func.count()).select_from(model).filter_by(**where))


def readers(app, article_id: str) -> int:
    with app.extensions["kb.db"]() as db:
        return db.scalar(select(func.count(ArticleView.visitor.distinct())).filter_by(article_id=article_id))


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def top_questions(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split("Top questions", 1)[1].split("Categories", 1)[0]


def people_app(portal_index, settings):
    app = make_app(settings, portal_index[1])
    add_people(app)
    return app


# --- visitors: issued by the server, counted once ---------------------------------------------------------------

def test_forged_visitor_cookies_add_no_votes(app, client):
    client.get("/articles/printer-offline")  # a real visitor cookie, and the session's CSRF token
    token = csrf_token(client, "/articles/printer-offline")
    other_key = Signer("someone else's key, long enough to look real", salt="kb.visitor")
    for n in range(20):
        forged = f"chosen-by-the-client-{n:04d}"
        cookie = forged if n % 2 else other_key.sign(forged).decode("ascii")
        client.set_cookie("kb_visitor", cookie)
        response = client.post("/articles/printer-offline/vote", data={"csrf_token": token, "helpful": "yes"})
        assert response.status_code == 302
    assert count(app, Vote) == 0
    assert "Reload the page and try again." in client.get("/articles/printer-offline").get_data(as_text=True)
    # The cookie the server issued in place of the last forged one is a visitor's: that vote counts.
    client.post("/articles/printer-offline/vote", data={"csrf_token": token, "helpful": "yes"})
    assert count(app, Vote) == 1


def test_a_visitor_cookie_is_signed_and_kept(app, client):
    client.get("/articles/printer-offline")
    cookie = client.get_cookie("kb_visitor")
    assert cookie is not None and cookie.http_only and "." in cookie.value  # id.signature
    client.get("/articles/reset-password")
    assert client.get_cookie("kb_visitor").value == cookie.value  # not re-issued while valid
    with app.extensions["kb.db"]() as db:
        assert len(set(db.scalars(select(ArticleView.visitor)))) == 1


def test_sixty_views_from_one_client_do_not_make_an_article_top(app, client):
    for _ in range(60):
        client.get("/articles/printer-offline")
    for reader in (app.test_client(), app.test_client()):
        reader.get("/articles/reset-password")
    assert count(app, ArticleView, article_id="printer-offline") == 1  # once per visitor and day
    top = top_questions(client)
    assert top.index("Reset your password") < top.index("Printer shows Offline")


def test_a_client_throwing_cookies_away_counts_as_few_visitors(portal_index, portal_settings):
    app = make_app(replace(portal_settings, rate_limit_new_visitors="3/hour"), portal_index[1])
    for _ in range(60):  # a fresh client each time: no cookie is ever sent back
        from_address(app, "198.51.100.7").get("/articles/printer-offline")
    assert readers(app, "printer-offline") == 4  # three visitor ids, then the address itself
    for n in range(5):  # five real visitors, each from their own address
        from_address(app, f"203.0.113.{n + 1}").get("/articles/reset-password")
    top = top_questions(app.test_client())
    assert top.index("Reset your password") < top.index("Printer shows Offline")


def test_new_visitor_ids_are_counted_per_ipv6_network(portal_index, portal_settings):
    app = make_app(replace(portal_settings, rate_limit_new_visitors="2/hour"), portal_index[1])
    for host in range(10):  # one customer's /64 has more addresses than anyone can count
        from_address(app, f"2001:db8:1:2::{host + 1:x}").get("/articles/printer-offline")
    assert readers(app, "printer-offline") == 3


# --- rate limits on every public route --------------------------------------------------------------------------

def _search(client):
    return client.get("/search?q=printer")


def _home_search(client):
    return client.get("/?q=printer")


def _api_search(client):
    return client.get("/api/search?q=printer")


def _article(client):
    return client.get("/articles/printer-offline")


def _history(client):
    return client.get("/articles/printer-offline/history")


def _vote(client):
    return post(client, "/articles/printer-offline/vote", {"helpful": "yes"})


def _solved(client):
    return post(client, "/contact/solved", {"article_id": "printer-offline", "query": "printer"})


def _reply(client):
    ref = getattr(client, "ticket_ref", None) or file_ticket(client)
    client.ticket_ref = ref
    return post(client, f"/tickets/{ref}/reply", {"body": "Still offline"})


@pytest.mark.parametrize("setting, request_", [
    ("rate_limit_search", _search), ("rate_limit_search", _home_search), ("rate_limit_search", _api_search),
    ("rate_limit_views", _article), ("rate_limit_views", _history),
    ("rate_limit_votes", _vote), ("rate_limit_votes", _solved),
    ("rate_limit_replies", _reply),
], ids=lambda v: v if isinstance(v, str) else v.__name__.strip("_"))
def test_each_public_route_answers_429_past_its_limit(portal_index, portal_settings, setting, request_):
    app = people_app(portal_index, replace(portal_settings, **{setting: "2/minute"}))
    client = app.test_client()
    if request_ is _reply:
        sign_in(client, "ann@acme.example")
    statuses = [request_(client).status_code for _ in range(2)]
    assert 429 not in statuses and 500 not in statuses
    limited = request_(client)
    assert limited.status_code == 429
    if request_ is _api_search:
        assert "Too many requests" in limited.get_json()["error"]
    else:
        assert "Too many requests" in limited.get_data(as_text=True) and limited.mimetype == "text/html"
    assert from_address(app, "192.0.2.9").get("/articles/reset-password").status_code == 200  # others are not


def test_the_home_page_without_a_search_is_not_counted_as_one(portal_index, portal_settings):
    client = make_app(replace(portal_settings, rate_limit_search="2/minute"), portal_index[1]).test_client()
    assert [client.get("/").status_code for _ in range(5)] == [200] * 5
    assert [_home_search(client).status_code for _ in range(3)] == [200, 200, 429]


@pytest.mark.parametrize("name", ["rate_limit_search", "rate_limit_views", "rate_limit_votes",
                                  "rate_limit_replies", "rate_limit_new_visitors", "rate_limit_sign_in_account",
                                  "rate_limit_sign_in_address"])
def test_a_bad_limit_names_its_setting(portal_index, portal_settings, name):
    from kb.errors import ConfigError

    with pytest.raises(ConfigError, match=name):
        make_app(replace(portal_settings, **{name: "often"}), portal_index[1])


# --- sign-in: failures counted per account as well as per address -----------------------------------------------

def test_failed_sign_ins_on_one_account_do_not_lock_out_another(portal_index, portal_settings):
    app = people_app(portal_index, replace(portal_settings, rate_limit_sign_in="3/minute"))
    client = app.test_client()
    statuses = [sign_in(client, "ann@acme.example", "wrong password").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert sign_in(client, "bob@acme.example").status_code == 302  # same address, another account


def test_successful_sign_ins_are_not_counted(portal_index, portal_settings):
    app = people_app(portal_index, replace(portal_settings, rate_limit_sign_in="2/minute",
                                           rate_limit_sign_in_address="2/minute"))
    for _ in range(4):
        client = app.test_client()
        assert sign_in(client, "bob@acme.example").status_code == 302


def test_an_account_is_limited_from_all_addresses_but_not_in_its_owners_browser(portal_index, portal_settings):
    app = people_app(portal_index, replace(portal_settings, rate_limit_sign_in_account="3/hour"))
    owner = app.test_client()
    assert sign_in(owner, "ann@acme.example").status_code == 302  # this browser knows the password
    post(owner, "/sign-out")
    statuses = [sign_in(from_address(app, f"198.51.100.{n}"), "ann@acme.example", "guess").status_code
                for n in range(1, 5)]
    assert statuses == [401, 401, 401, 429]  # a fresh address does not help the guesser
    assert sign_in(from_address(app, "203.0.113.5"), "ann@acme.example").status_code == 429
    assert sign_in(owner, "ann@acme.example").status_code == 302  # the owner is not locked out


def test_one_address_spraying_accounts_is_stopped_but_locks_out_no_known_browser(portal_index, portal_settings):
    # Behind a proxy with proxy_hops=0 every customer has the proxy's address: the attacker shares it.
    app = people_app(portal_index, replace(portal_settings, rate_limit_sign_in_address="3/hour"))
    bob = app.test_client()
    assert sign_in(bob, "bob@acme.example").status_code == 302
    post(bob, "/sign-out")
    attacker = app.test_client()
    statuses = [sign_in(attacker, email, "guess").status_code
                for email in ("ann@acme.example", "meg@acme.example", "oz@other.example", "zed@acme.example")]
    assert statuses == [401, 401, 401, 429]
    assert sign_in(bob, "bob@acme.example").status_code == 302
    assert sign_in(from_address(app, "203.0.113.5"), "meg@acme.example").status_code == 302


def test_a_forged_known_browser_cookie_is_ignored(portal_index, portal_settings):
    app = people_app(portal_index, replace(portal_settings, rate_limit_sign_in_account="2/hour"))
    client = app.test_client()
    client.set_cookie("kb_known", "whatever:device.signature", path="/sign-in")
    statuses = [sign_in(client, "ann@acme.example", "guess").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


# --- cookies behind a TLS proxy ---------------------------------------------------------------------------------

def _set_cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def test_auto_cookies_follow_the_proxys_scheme(portal_index, portal_settings):
    """A TLS proxy on loopback: Secure for what came over HTTPS, not for plain HTTP (a browser would drop it)."""
    settings = replace(portal_settings, host="127.0.0.1", cookie_secure="auto", proxy_hops=1)
    app = people_app(portal_index, settings)
    for scheme, secure in (("https", True), ("http", False)):
        client = app.test_client()  # the proxy speaks plain HTTP to the portal
        client.environ_base.update(HTTP_X_FORWARDED_PROTO=scheme, HTTP_X_FORWARDED_FOR="203.0.113.9")
        cookies = _set_cookies(client.get("/articles/printer-offline"))
        assert {"kb_session", "kb_visitor"} <= set(cookies)  # the session carries the CSRF token
        browser = f"{scheme}://localhost"  # the customer's browser sends a Secure cookie back over HTTPS only
        page = client.get("/sign-in", base_url=browser).get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
        signed_in = client.post("/sign-in", base_url=browser, headers={"Referer": f"{browser}/sign-in"},
                                data={"csrf_token": token, "email": "ann@acme.example", "password": PASSWORD})
        assert signed_in.status_code == 302
        cookies.update(_set_cookies(signed_in))
        for name in ("kb_session", "kb_visitor", "kb_known"):
            assert ("; Secure" in cookies[name]) is secure, cookies[name]
            assert "HttpOnly" in cookies[name]


def test_the_language_cookie_follows_the_proxys_scheme_too(portal_index, portal_settings):
    settings = replace(portal_settings, host="127.0.0.1", cookie_secure="auto", proxy_hops=1)
    app = people_app(portal_index, settings)
    for scheme, secure in (("https", True), ("http", False)):
        client = app.test_client()
        client.environ_base.update(HTTP_X_FORWARDED_PROTO=scheme, HTTP_X_FORWARDED_FOR="203.0.113.9")
        browser = f"{scheme}://localhost"
        page = client.get("/", base_url=browser).get_data(as_text=True)
        token = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
        chosen = client.post("/language", base_url=browser, headers={"Referer": f"{browser}/"},
                             data={"csrf_token": token, "lang": "ru", "next": "/"})
        assert chosen.status_code == 302
        cookie = _set_cookies(chosen)["kb_lang"]
        assert ("; Secure" in cookie) is secure, cookie
