"""Notification preferences and the one-click unsubscribe link: who may open which page (anonymous visitors,
customers, agents, admins), what turning a kind off stops, and that a forged link changes nothing."""
from __future__ import annotations

import re

import pytest
from itsdangerous import URLSafeSerializer

from kb.helpdesk.models import WAITING
from tests.portal import file_ticket, post
from tests.test_mail_notifications import ADMIN, AGENT, PUBLIC, client_of, mail_app, outbox, set_status


@pytest.fixture
def app(portal_index, portal_settings):
    return mail_app(portal_index, portal_settings)


def boxes(page: str) -> dict[str, bool]:
    """The preference page's checkboxes: kind -> ticked."""
    return {m.group(2): bool(m.group(3)) for m in
            re.finditer(r'<input type="checkbox" name="(kinds)" value="([a-z_]+)"( checked)?>', page)}


def unsubscribe_path(message) -> str:
    return message.headers["List-Unsubscribe"].strip("<>").removeprefix(PUBLIC)


def test_the_preferences_page_by_role(app):
    anonymous = app.test_client().get("/account/notifications")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]
    customer = boxes(client_of(app, "ann@acme.example").get("/account/notifications").get_data(as_text=True))
    assert customer == {k: True for k in ("ticket_received", "agent_reply", "status_change", "waiting_reminder",
                                          "resolved", "auto_closed", "notice_resolved")}
    for staff in (AGENT, ADMIN):
        page = client_of(app, staff).get("/account/notifications")
        assert page.status_code == 200 and boxes(page.get_data(as_text=True)) == {"new_ticket": True,
                                                                                   "customer_reply": True}


def test_the_tickets_page_and_the_desk_link_the_preferences(app):
    page = client_of(app, "ann@acme.example").get("/tickets").get_data(as_text=True)
    assert 'href="/account/notifications"' in page
    assert 'href="/account/notifications"' in client_of(app, AGENT).get("/desk/").get_data(as_text=True)


def test_a_kind_turned_off_is_not_sent_and_the_others_are(app):
    ann = client_of(app, "ann@acme.example")
    kept = ["ticket_received", "agent_reply", "waiting_reminder", "resolved", "auto_closed"]  # not status_change
    response = post(ann, "/account/notifications", {"kinds": kept})
    assert response.status_code == 302
    assert boxes(ann.get("/account/notifications").get_data(as_text=True))["status_change"] is False
    ref = file_ticket(ann)
    set_status(client_of(app, AGENT), ref, WAITING)
    assert outbox(app, "status_change") == [] and len(outbox(app, "ticket_received")) == 1


def test_saving_preferences_needs_the_forms_token(app):
    ann = client_of(app, "ann@acme.example")
    assert ann.post("/account/notifications", data={"kinds": []}).status_code == 400
    assert all(boxes(ann.get("/account/notifications").get_data(as_text=True)).values())


def test_unknown_kinds_are_ignored(app):
    agent = client_of(app, AGENT)
    assert post(agent, "/account/notifications", {"kinds": ["new_ticket", "ticket_received", "x" * 500]}) \
        .status_code == 302
    assert boxes(agent.get("/account/notifications").get_data(as_text=True)) == {"new_ticket": True,
                                                                                  "customer_reply": False}


@pytest.mark.parametrize("who", ["", "ann@acme.example", AGENT, ADMIN])
def test_one_click_unsubscribe_works_for_anyone_holding_the_link(app, who):
    file_ticket(client_of(app, "ann@acme.example"))
    [received] = outbox(app, "ticket_received")
    path = unsubscribe_path(received)
    client = client_of(app, who)
    asked = client.get(path)
    assert asked.status_code == 200 and "My request is received" in asked.get_data(as_text=True)
    assert boxes(client_of(app, "ann@acme.example").get("/account/notifications").get_data(as_text=True))[
        "ticket_received"] is True  # opening the link (a link checker) changes nothing
    done = client.post(path, data={"List-Unsubscribe": "One-Click"})  # RFC 8058: no form token, no session
    assert done.status_code == 200 and "no longer" in done.get_data(as_text=True)
    ticks = boxes(client_of(app, "ann@acme.example").get("/account/notifications").get_data(as_text=True))
    assert ticks["ticket_received"] is False and ticks["agent_reply"] is True
    file_ticket(client_of(app, "ann@acme.example"))
    assert len(outbox(app, "ticket_received")) == 1


@pytest.mark.parametrize("forge", ["signature", "other_key", "other_user", "garbage", "long"])
def test_a_forged_unsubscribe_link_is_refused(app, forge):
    file_ticket(client_of(app, "ann@acme.example"))
    path = unsubscribe_path(outbox(app, "ticket_received")[0])
    token = path.rsplit("/", 1)[1]
    if forge == "signature":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif forge == "other_key":
        token = URLSafeSerializer("x" * 40, salt="kb.unsubscribe").dumps([1, "ticket_received"])
    elif forge == "other_user":  # a payload changed under the original signature
        payload, signature = token.split(".")
        token = URLSafeSerializer("y" * 40).dumps([2, "ticket_received"]).split(".")[0] + "." + signature
    elif forge == "garbage":
        token = "not-a-token"
    else:
        token = "a" * 5000
    client = app.test_client()
    assert client.get(f"/unsubscribe/{token}").status_code in (400, 404)
    assert client.post(f"/unsubscribe/{token}").status_code in (400, 404)
    ticks = boxes(client_of(app, "ann@acme.example").get("/account/notifications").get_data(as_text=True))
    assert all(ticks.values())


def test_the_unsubscribe_page_offers_a_button_that_posts(app):
    file_ticket(client_of(app, "ann@acme.example"))
    path = unsubscribe_path(outbox(app, "ticket_received")[0])
    page = app.test_client().get(path).get_data(as_text=True)
    assert f'<form method="post" action="{path}">' in page
