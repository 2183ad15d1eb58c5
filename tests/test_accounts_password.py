"""Forgot password, a new password, a new e-mail address: end to end through the test client, links read from
the outbox."""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import select, update

from kb.helpdesk.account_models import AccountLink
from kb.helpdesk.models import User
from tests.accounts import expire_links, freeze_signatures, last_link, outbox, user
from tests.portal import PASSWORD, post, sign_in

NEW = "a brand new passphrase"


def forgot(client, email: str):
    return post(client, "/forgot-password", {"email": email})


def test_sign_in_page_offers_forgot_password_and_sign_up(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert 'action="/forgot-password"' in page and 'href="/sign-up"' in page


def test_forgot_password_end_to_end_ends_other_sessions(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    elsewhere = app.test_client()
    assert sign_in(elsewhere, "ann@acme.example").status_code == 302
    assert elsewhere.get("/tickets").status_code == 200
    response = forgot(client, "ann@acme.example")
    assert response.status_code == 200
    [message] = outbox(app, "ann@acme.example", "password_reset")
    assert message.user_id is not None and message.subject == "Set a new password"
    link = last_link(app, "ann@acme.example")
    token = link.rsplit("/", 1)[1]
    page = client.get(link)
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    done = post(client, link, {"password": NEW, "confirm": NEW})
    assert done.status_code == 302 and done.headers["Location"].endswith("/sign-in")
    assert elsewhere.get("/tickets").status_code == 302  # the other session has ended
    assert sign_in(app.test_client(), "ann@acme.example").status_code == 401  # the old password is gone
    assert sign_in(app.test_client(), "ann@acme.example", NEW).status_code == 302
    again = post(client, link, {"password": "yet another one", "confirm": "yet another one"})
    assert again.status_code == 400 and "This link does not work" in again.get_data(as_text=True)
    with app.extensions["kb.db"]() as db:
        hashes = set(db.scalars(select(AccountLink.token_hash)))
    assert token not in hashes  # only the token's hash is stored
    assert not [r for r in caplog.records if token in r.getMessage()]


def test_a_bad_new_password_keeps_the_link_and_names_the_field(app, client):
    forgot(client, "ann@acme.example")
    link = last_link(app, "ann@acme.example")
    short = post(client, link, {"password": "short", "confirm": "short"})
    assert short.status_code == 400 and "New password: at least 8 characters." in short.get_data(as_text=True)
    differ = post(client, link, {"password": NEW, "confirm": NEW + "x"})
    assert differ.status_code == 400 and "the two passwords differ" in differ.get_data(as_text=True)
    assert post(client, link, {"password": NEW, "confirm": NEW}).status_code == 302


def test_expired_forged_and_superseded_reset_links_are_refused(app, client):
    forgot(client, "ann@acme.example")
    first = last_link(app, "ann@acme.example")
    forgot(client, "ann@acme.example")
    second = last_link(app, "ann@acme.example")
    assert first != second
    assert client.get(first).status_code == 400  # a newer link replaced it
    forged = "/reset-password/" + secrets.token_urlsafe(32)
    assert client.get(forged).status_code == 400
    assert client.get("/reset-password/short").status_code == 400
    assert client.get(second[:-1] + ("A" if second[-1] != "A" else "B")).status_code == 400
    expire_links(app)
    assert client.get(second).status_code == 400
    assert post(client, second, {"password": NEW, "confirm": NEW}).status_code == 400
    assert sign_in(app.test_client(), "ann@acme.example").status_code == 302


def test_a_reset_link_of_a_deactivated_user_does_not_work(app, client):
    forgot(client, "bob@acme.example")
    link = last_link(app, "bob@acme.example")
    with app.extensions["kb.db"].begin() as db:
        db.execute(update(User).where(User.email == "bob@acme.example").values(active=False))
    assert client.get(link).status_code == 400
    before = len(outbox(app))
    forgot(client, "bob@acme.example")
    assert len(outbox(app)) == before  # an inactive account gets no link


def test_change_password_asks_the_current_one_and_ends_other_sessions(app, ann):
    elsewhere = app.test_client()
    sign_in(elsewhere, "ann@acme.example")
    page = ann.get("/account").get_data(as_text=True)
    assert "Change your password" in page and "Invite colleagues" not in page  # a member invites nobody
    wrong = post(ann, "/account/password", {"current": "not it at all", "password": NEW, "confirm": NEW})
    assert wrong.status_code == 401 and "Current password: it is not right." in wrong.get_data(as_text=True)
    done = post(ann, "/account/password", {"current": PASSWORD, "password": NEW, "confirm": NEW})
    assert done.status_code == 302
    assert ann.get("/tickets").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/tickets").status_code == 302
    assert sign_in(app.test_client(), "ann@acme.example", NEW).status_code == 302


def test_change_email_by_a_link_to_the_new_address_with_a_notice_to_the_old(app, ann):
    bad = post(ann, "/account/email", {"email": "not-an-address", "current": PASSWORD})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "New e-mail: this is not an e-mail address." in text
    assert 'value="not-an-address"' in text  # what was typed stays
    response = post(ann, "/account/email", {"email": "Ann.New@Acme.example", "current": PASSWORD})
    assert response.status_code == 200
    [notice] = outbox(app, "ann@acme.example", "email_notice")
    assert "ann.new@acme.example" in notice.text_body
    link = last_link(app, "ann.new@acme.example", "email_confirm")
    assert user(app, "ann@acme.example") is not None  # nothing changes before the link is followed
    bob = app.test_client()
    sign_in(bob, "bob@acme.example")
    assert post(bob, link).status_code == 400  # someone else's link
    assert post(ann, link).status_code == 302
    assert user(app, "ann.new@acme.example") is not None and user(app, "ann@acme.example") is None
    assert post(ann, link).status_code == 400  # used
    assert sign_in(app.test_client(), "ann.new@acme.example").status_code == 302


def test_change_email_to_a_taken_address_answers_the_same_and_sends_no_link(app, ann, monkeypatch):
    freeze_signatures(monkeypatch)
    taken = post(ann, "/account/email", {"email": "bob@acme.example", "current": PASSWORD})
    free = post(ann, "/account/email", {"email": "nobody@acme.example", "current": PASSWORD})
    assert taken.status_code == free.status_code == 200
    assert taken.get_data() == free.get_data()
    assert not outbox(app, "bob@acme.example") and len(outbox(app, "nobody@acme.example")) == 1


def test_account_pages_need_signing_in(client):
    assert client.get("/account").status_code == 302
    assert client.get("/account/email/" + secrets.token_urlsafe(32)).status_code == 302
