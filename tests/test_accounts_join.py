"""Invitations and sign-up by domain: end to end through the test client, links read from the outbox; who may
invite whom."""
from __future__ import annotations

import re

from click.testing import CliRunner
from sqlalchemy import select

from kb.cli import cli
from kb.helpdesk.models import OrganisationDomain
from tests.accounts import expire_links, freeze_signatures, last_link, outbox, user
from tests.portal import post, sign_in

NEW = "a brand new passphrase"
ACCOUNT = {"name": "Nia New", "password": NEW, "confirm": NEW}


def manager(app):
    client = app.test_client()
    assert sign_in(client, "meg@acme.example").status_code == 302
    return client


def withdraw_path(client) -> str:
    """The withdraw button's address of the one pending invitation on the page."""
    [path] = re.findall(r'action="(/account/invitations/\d+/withdraw)"',
                        client.get("/account/invitations").get_data(as_text=True))
    return path


def test_a_manager_invites_a_colleague_who_joins_their_organisation(app):
    meg = manager(app)
    page = meg.get("/account/invitations")
    assert page.status_code == 200 and "Acme" in page.get_data(as_text=True)
    assert post(meg, "/account/invitations", {"email": "nia@somewhere.example"}).status_code == 302
    assert "nia@somewhere.example" in meg.get("/account/invitations").get_data(as_text=True)  # pending
    link = last_link(app, "nia@somewhere.example", "invitation")
    assert user(app, "nia@somewhere.example") is None  # no account before the link is followed
    invitee = app.test_client()
    form = invitee.get(link)
    assert form.status_code == 200 and "nia@somewhere.example" in form.get_data(as_text=True)
    done = post(invitee, link, ACCOUNT)
    assert done.status_code == 302
    assert invitee.get("/tickets").status_code == 200  # signed in at once
    joined = user(app, "nia@somewhere.example")
    assert joined.role == "member" and joined.name == "Nia New" and joined.active
    assert joined.organisation_id == user(app, "meg@acme.example").organisation_id
    assert post(app.test_client(), link, ACCOUNT).status_code == 400  # used
    assert "nia@somewhere.example" not in meg.get("/account/invitations").get_data(as_text=True)


def test_a_new_account_keeps_the_language_it_was_made_in_for_its_mail(app):
    """Making the account signs its owner in: like a sign-in, it keeps the interface language, so mail to them (a
    ticket they open by e-mail, before they ever sign in again) is in it."""
    post(manager(app), "/account/invitations", {"email": "nia@somewhere.example"})
    invitee = app.test_client()
    invitee.set_cookie("kb_lang", "uk")
    link = last_link(app, "nia@somewhere.example", "invitation")
    assert post(invitee, link, ACCOUNT).status_code == 302
    assert user(app, "nia@somewhere.example").language == "uk"

def test_bad_name_or_password_keeps_what_was_typed(app):
    meg = manager(app)
    post(meg, "/account/invitations", {"email": "nia@somewhere.example"})
    link = last_link(app, "nia@somewhere.example")
    invitee = app.test_client()
    bad = post(invitee, link, {"name": "Nia Typed", "password": "short", "confirm": "short"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and 'value="Nia Typed"' in text and "Password: at least 8 characters." in text
    assert post(invitee, link, ACCOUNT).status_code == 302


def test_bad_invitation_address_names_the_field(app):
    meg = manager(app)
    bad = post(meg, "/account/invitations", {"email": "nia at somewhere"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "E-mail: this is not an e-mail address." in text
    assert 'value="nia at somewhere"' in text


def test_a_withdrawn_or_expired_invitation_does_not_work(app):
    meg = manager(app)
    post(meg, "/account/invitations", {"email": "nia@somewhere.example"})
    link = last_link(app, "nia@somewhere.example")
    withdraw = withdraw_path(meg)
    assert post(meg, withdraw).status_code == 302
    assert app.test_client().get(link).status_code == 400
    post(meg, "/account/invitations", {"email": "zed@somewhere.example"})
    later = last_link(app, "zed@somewhere.example")
    expire_links(app)
    assert post(app.test_client(), later, ACCOUNT).status_code == 400
    assert user(app, "zed@somewhere.example") is None


def test_members_cannot_invite_and_managers_only_touch_their_own_organisation(app, ann):
    assert ann.get("/account/invitations").status_code == 404
    assert post(ann, "/account/invitations", {"email": "nia@somewhere.example"}).status_code == 404
    assert not outbox(app, "nia@somewhere.example")
    meg = manager(app)
    post(meg, "/account/invitations", {"email": "nia@somewhere.example"})
    withdraw = withdraw_path(meg)
    oz = app.test_client()
    sign_in(oz, "oz@other.example")
    assert "nia@somewhere.example" not in oz.get("/account/invitations").get_data(as_text=True)
    assert post(oz, withdraw).status_code == 404  # another organisation's invitation
    assert post(ann, withdraw).status_code == 404
    post(oz, "/account/invitations", {"email": "pia@somewhere.example"})  # into Other, whatever the form says
    post(app.test_client(), last_link(app, "pia@somewhere.example"), ACCOUNT)
    assert user(app, "pia@somewhere.example").organisation_id == user(app, "oz@other.example").organisation_id
    agent = app.test_client()
    with app.extensions["kb.db"].begin() as db:
        from kb.helpdesk.accounts import add_staff
        add_staff(db, "agent@desk.example", NEW)
    sign_in(agent, "agent@desk.example", NEW)
    assert agent.get("/account/invitations").status_code == 302  # staff work on the desk


def test_inviting_an_existing_account_lists_it_but_its_link_makes_no_second_account(app):
    meg = manager(app)
    assert post(meg, "/account/invitations", {"email": "oz@other.example"}).status_code == 302
    [message] = outbox(app, "oz@other.example", "invitation")
    assert "/invitation/" not in message.text_body and "/sign-in" in message.text_body


def domain(app, *args: str):
    return CliRunner().invoke(cli, ["org", "domain", "add", *args, "--database",
                                    app.config["KB_SETTINGS"].database_url])


def test_kb_org_domain_add(app):
    result = domain(app, "Acme", "@ACME.example", "--signup")
    assert result.exit_code == 0, result.output
    assert "acme.example" in result.output and "open" in result.output
    assert domain(app, "Acme", "acme.example").exit_code == 0  # again: sign-up closed
    with app.extensions["kb.db"]() as db:
        [row] = db.scalars(select(OrganisationDomain)).all()
    assert (row.domain, row.signup) == ("acme.example", False)
    taken = domain(app, "Other", "acme.example")
    assert taken.exit_code == 1 and "another organisation" in taken.output
    assert domain(app, "Nope", "nope.example").exit_code == 1
    assert "not a domain name" in domain(app, "Acme", "not_a domain").output


def test_sign_up_by_domain_end_to_end(app, client):
    domain(app, "Acme", "acme.example", "--signup")
    response = post(client, "/sign-up", {"email": "newbie@acme.example"})
    assert response.status_code == 200
    assert user(app, "newbie@acme.example") is None  # no account until the address is confirmed
    link = last_link(app, "newbie@acme.example", "signup")
    assert post(client, link, {**ACCOUNT, "name": "Newbie"}).status_code == 302
    created = user(app, "newbie@acme.example")
    assert created.active and created.role == "member"
    assert created.organisation_id == user(app, "ann@acme.example").organisation_id
    assert post(app.test_client(), link, ACCOUNT).status_code == 400  # used


def test_sign_up_answers_the_same_for_every_address(app, client, monkeypatch):
    freeze_signatures(monkeypatch)
    domain(app, "Acme", "acme.example", "--signup")
    domain(app, "Other", "other.example")  # a domain, but closed to sign-up
    answers = {email: post(client, "/sign-up", {"email": email}) for email in
               ("fresh@acme.example", "ann@acme.example", "someone@elsewhere.example", "x@other.example")}
    assert {r.status_code for r in answers.values()} == {200}
    assert len({r.get_data() for r in answers.values()}) == 1
    assert len(outbox(app, "fresh@acme.example", "signup")) == 1
    assert "/forgot-password" in outbox(app, "ann@acme.example", "signup")[0].text_body  # no link, a hint
    assert not outbox(app, "someone@elsewhere.example") and not outbox(app, "x@other.example")


def test_a_sign_up_link_dies_when_the_domain_closes(app, client):
    domain(app, "Acme", "acme.example", "--signup")
    post(client, "/sign-up", {"email": "newbie@acme.example"})
    link = last_link(app, "newbie@acme.example")
    domain(app, "Acme", "acme.example")
    assert client.get(link).status_code == 400


def test_admins_add_domains_on_the_desk(app):
    with app.extensions["kb.db"].begin() as db:
        from kb.helpdesk.accounts import add_staff
        add_staff(db, "admin@desk.example", NEW, role="admin")
    admin = app.test_client()
    sign_in(admin, "admin@desk.example", NEW)
    bad = post(admin, "/desk/admin/domains", {"organisation": "Acme", "domain": "bad domain"})
    assert bad.status_code == 400 and 'value="bad domain"' in bad.get_data(as_text=True)
    assert "Domain: not a domain name" in bad.get_data(as_text=True)
    ok = post(admin, "/desk/admin/domains", {"organisation": "Acme", "domain": "acme.example", "signup": "y"})
    assert ok.status_code == 302
    assert "acme.example" in admin.get("/desk/admin/").get_data(as_text=True)
    meg = manager(app)
    assert post(meg, "/desk/admin/domains", {"organisation": "Acme", "domain": "x.example"}).status_code == 404
