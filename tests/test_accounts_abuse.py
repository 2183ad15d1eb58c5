"""What an attacker learns from self-service accounts: the same bytes whether or not an address has an account,
CSRF refused, limits on mail asked for and links tried."""
from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from kb.helpdesk.account_models import AccountLink
from tests.accounts import freeze_signatures, outbox
from tests.portal import add_people, make_app, post


@pytest.fixture
def limited(portal_index, portal_settings):
    app = make_app(replace(portal_settings, rate_limit_account_mail_address="2/hour",
                           rate_limit_account_mail="5/hour", rate_limit_account_links="3/hour"), portal_index[1])
    add_people(app)
    return app


def test_forgot_password_answers_byte_for_byte_the_same_for_known_and_unknown_addresses(app, client, monkeypatch):
    freeze_signatures(monkeypatch)
    known = post(client, "/forgot-password", {"email": "ann@acme.example"})
    unknown = post(client, "/forgot-password", {"email": "nobody@acme.example"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    assert known.headers.get("Set-Cookie") == unknown.headers.get("Set-Cookie")
    assert len(outbox(app, "ann@acme.example")) == 1 and not outbox(app, "nobody@acme.example")
    with app.extensions["kb.db"]() as db:
        assert db.query(AccountLink).count() == 2  # the unknown address wrote a decoy row, as much work


def test_forgot_password_with_a_malformed_address_keeps_it_and_names_the_field(client):
    response = post(client, "/forgot-password", {"email": "ann(at)acme"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "E-mail: this is not an e-mail address." in text
    assert 'value="ann(at)acme"' in text


def test_forms_without_the_csrf_token_are_refused(app, client):
    for path in ("/forgot-password", "/sign-up"):
        assert client.post(path, data={"email": "ann@acme.example"}).status_code == 400
    assert not outbox(app)


def test_mail_for_one_address_is_limited_whether_or_not_it_has_an_account(limited):
    for email in ("ann@acme.example", "nobody@acme.example"):
        client = limited.test_client()
        assert [post(client, "/forgot-password", {"email": email}).status_code for _ in range(3)] == [200, 200, 429]
    assert len(outbox(limited, "ann@acme.example")) == 2


def test_mail_asked_for_by_one_client_is_limited(limited):
    client = limited.test_client()
    codes = [post(client, path, {"email": f"x{n}@acme.example"}).status_code
             for n, path in enumerate(["/forgot-password", "/sign-up"] * 3)]
    assert codes == [200] * 5 + [429]  # forgot password and sign-up share one budget


def test_link_guessing_is_limited(limited):
    client = limited.test_client()
    codes = [client.get("/reset-password/" + secrets.token_urlsafe(32)).status_code for _ in range(4)]
    assert codes == [400, 400, 400, 429]
    assert client.get("/invitation/" + secrets.token_urlsafe(32)).status_code == 429  # one budget for all links


def test_wrong_current_passwords_are_limited(limited):
    client = limited.test_client()
    from tests.portal import sign_in

    sign_in(client, "ann@acme.example")
    data = {"current": "wrong password", "password": "new passphrase", "confirm": "new passphrase"}
    assert [post(client, "/account/password", data).status_code for _ in range(4)] == [401, 401, 401, 429]
