"""Signed-in sessions: signing out ends every copy of the cookie, sessions expire when idle and after a maximum
time, nothing personal travels in the cookie, and where sign-in and the language switcher send the browser next."""
from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from kb.errors import ConfigError
from kb.helpdesk.models import User
from tests.portal import PASSWORD, add_people, make_app, post, sign_in
from web.auth import local_path

COOKIE = "kb_session"


def browser_with(app, cookie: str):
    browser = app.test_client()
    browser.set_cookie(COOKIE, cookie)
    return browser


def copy_of(app, client):
    """A second browser holding a copy of `client`'s session cookie, as a thief or a shared computer would."""
    return browser_with(app, client.get_cookie(COOKIE).value)


def signed_in(client) -> bool:
    page, api = client.get("/tickets"), client.get("/api/tickets")
    assert (page.status_code == 200) == (api.status_code == 200), (page.status_code, api.status_code)
    if page.status_code != 200:
        assert page.status_code == 302 and page.headers["Location"].startswith("/sign-in?next=/tickets")
        assert api.status_code == 401
    return page.status_code == 200


def cookie_data(app, value: str) -> dict:
    return app.session_interface.get_signing_serializer(app).loads(value)


def shift(client, **seconds: int) -> None:
    """Move the session's stored times (`since`, `seen`) by the given seconds: the clock, without waiting."""
    with client.session_transaction() as session:
        for key, delta in seconds.items():
            session[key] += delta


def test_signing_out_ends_every_copy_of_the_session(app, client):
    sign_in(client, "ann@acme.example")
    stolen = client.get_cookie(COOKIE).value
    assert signed_in(client) and signed_in(browser_with(app, stolen))
    assert post(client, "/sign-out").status_code == 302
    assert not signed_in(browser_with(app, stolen))  # the copy taken before signing out reads nothing afterwards
    assert not signed_in(client)
    sign_in(client, "ann@acme.example")  # signing in again works, and the old copy stays dead
    assert signed_in(client) and signed_in(copy_of(app, client))
    assert not signed_in(browser_with(app, stolen))


def test_a_copy_refused_after_sign_out_is_dropped_from_its_cookie(app, client):
    sign_in(client, "ann@acme.example")
    copy = copy_of(app, client)
    post(client, "/sign-out")
    copy.get("/tickets")
    kept = copy.get_cookie(COOKIE)
    assert kept is None or "user_id" not in cookie_data(app, kept.value)


def test_signing_out_ends_the_users_other_sessions_but_not_other_users(app):
    laptop, phone, bob = app.test_client(), app.test_client(), app.test_client()
    for browser, email in ((laptop, "ann@acme.example"), (phone, "ann@acme.example"), (bob, "bob@acme.example")):
        sign_in(browser, email)
    post(phone, "/sign-out")
    assert not signed_in(laptop) and not signed_in(phone)
    assert signed_in(bob)
    with app.extensions["kb.db"]() as db:
        generations = dict(db.execute(select(User.email, User.session_generation)).all())
    assert generations["ann@acme.example"] == 1 and generations["bob@acme.example"] == 0


def test_idle_sessions_end(portal_index, portal_settings):
    app = make_app(replace(portal_settings, session_idle_minutes=30), portal_index[1])
    add_people(app)
    client = app.test_client()
    sign_in(client, "ann@acme.example")
    shift(client, since=-29 * 60, seen=-29 * 60)  # 29 minutes without a request: still signed in
    before = cookie_data(app, client.get_cookie(COOKIE).value)["seen"]
    assert signed_in(client)
    assert cookie_data(app, client.get_cookie(COOKIE).value)["seen"] > before  # the request counted as activity
    shift(client, since=-31 * 60, seen=-31 * 60)  # then 31 minutes without one
    copy = copy_of(app, client)
    assert not signed_in(client) and not signed_in(copy)


def test_sessions_end_after_their_maximum_time_however_active(portal_index, portal_settings):
    app = make_app(replace(portal_settings, session_max_hours=2), portal_index[1])
    add_people(app)
    client = app.test_client()
    sign_in(client, "ann@acme.example")
    shift(client, since=-(2 * 3600 - 60))
    assert signed_in(client)
    shift(client, since=-120)  # signed in 2 hours and a minute ago, active a moment ago
    assert not signed_in(client)
    sign_in(client, "ann@acme.example")
    assert signed_in(client)


def test_cookies_without_the_session_stamps_are_refused(app, client):
    """A cookie naming only a user (as issued before sessions carried their generation and times) is refused."""
    sign_in(client, "ann@acme.example")
    with client.session_transaction() as session:
        for key in ("generation", "since", "seen"):
            session.pop(key)
    assert not signed_in(client)
    sign_in(client, "ann@acme.example")
    with client.session_transaction() as session:
        session["seen"] = True  # a bool is an int to Python, and not a time
    assert not signed_in(client)


@pytest.mark.parametrize("name, value", [("session_idle_minutes", 0), ("session_idle_minutes", -5),
                                         ("session_max_hours", 0)])
def test_session_lifetimes_must_be_positive(portal_index, portal_settings, name, value):
    with pytest.raises(ConfigError, match=f"'{name}' must be a positive"):
        make_app(replace(portal_settings, **{name: value}), portal_index[1])


def test_no_email_address_travels_in_the_session_cookie(app, client):
    response = sign_in(client, "ann@acme.example")
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith(f"{COOKIE}=") for c in cookies)
    for header in cookies:
        name, value = header.split(";", 1)[0].split("=", 1)
        assert "ann@acme.example" not in header
        if name == COOKIE:
            assert "@" not in json.dumps(cookie_data(app, value), default=str)
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert "You are signed in." in text and "(ann@acme.example)" in text  # shown from the user, not the cookie
    for header in page.headers.getlist("Set-Cookie"):
        assert "ann@acme.example" not in header


NASTY_NEXT = [
    "/tickets\r\nSet-Cookie: stolen=1", "\r\n/tickets", "/\r\n/evil.example", "/\n/evil.example",
    "/\t/evil.example", "//evil.example", "///evil.example", "/\\evil.example", "\\\\evil.example",
    "https://evil.example/", "http:evil.example", "javascript:alert(1)", " //evil.example", "/tickets\x00",
    "/tickets\u2028x", "/\u00a0/evil.example", "/\ufeff/evil.example", "/%0d%0aSet-Cookie:x=1", "x" * 5000,
    "/" + "a" * 3000, "", "/tickets?q=\r\n", "/tickets#\n",
]


def assert_stays_here(response, target: str) -> None:
    assert response.status_code in (302, 303), (target, response.status_code)
    location = response.headers["Location"]
    parts = urlsplit(location)
    assert location.startswith("/") and not location.startswith("//"), (target, location)
    assert not parts.scheme and not parts.netloc and "\\" not in location, (target, location)
    assert all(33 <= ord(c) < 127 for c in location), (target, location)  # plain ASCII: no header tricks


@pytest.fixture
def lenient(portal_index, portal_settings):
    """The portal without its sign-in rate limit, to sign in once per hostile value."""
    app = make_app(replace(portal_settings, rate_limit_sign_in="1000/minute"), portal_index[1])
    add_people(app)
    return app


def test_nasty_next_after_signing_in_never_errs_nor_leaves_the_site(lenient):
    for target in NASTY_NEXT:
        client = lenient.test_client()
        response = post(client, "/sign-in", {"email": "ann@acme.example", "password": PASSWORD, "next": target})
        assert_stays_here(response, target)


def test_nasty_next_when_already_signed_in_never_errs_nor_leaves_the_site(client):
    sign_in(client, "ann@acme.example")
    for target in NASTY_NEXT:
        assert_stays_here(client.get("/sign-in", query_string={"next": target}), target)


def test_nasty_next_from_the_language_switcher_never_errs_nor_leaves_the_site(client):
    for target in NASTY_NEXT:
        assert_stays_here(post(client, "/language", {"lang": "ru", "next": target}), target)


@pytest.mark.parametrize("target, expected", [
    ("/tickets", "/tickets"), ("/search?q=printer+offline&k=5", "/search?q=printer+offline&k=5"),
    ("/articles/printer-offline#fix", "/articles/printer-offline#fix"),
    ("/search?q=принтер", "/search?q=%D0%BF%D1%80%D0%B8%D0%BD%D1%82%D0%B5%D1%80"),
    ("/a\ud800", None), (None, None), ("tickets", None), ("/tickets\r\n", None), (" /tickets", None),
])
def test_local_path_keeps_clean_paths_on_this_site(target, expected):
    assert local_path(target) == expected
