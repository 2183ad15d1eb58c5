"""Notifications through the portal: one per event kind, written with the event, in the recipient's language,
with their threading, reply and unsubscribe headers; reminders and the automatic close by moving time; users'
language kept from what they use; and what a real SMTP server receives of them."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.mail_sender import SmtpConfig, send_due
from kb.helpdesk.mail_tokens import ticket_ref_from
from kb.helpdesk.models import RESOLVED, SYSTEM, WAITING, User, utcnow
from kb.helpdesk.tickets import find_ticket
from tests.mail_server import SmtpServer
from tests.portal import PASSWORD, add_people, file_ticket, make_app, post, sign_in

AGENT, ADMIN, OTHER_AGENT = "agent@desk.example", "admin@desk.example", "hw@desk.example"
PUBLIC = "https://help.example.com"


def mail_app(portal_index, portal_settings, **changes):
    settings = replace(portal_settings, public_url=PUBLIC, mail_from="support@desk.example", **changes)
    app = make_app(settings, portal_index[1])
    add_people(app)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(session, ADMIN, PASSWORD, "admin", "", "Ada")
        add_staff(session, OTHER_AGENT, PASSWORD, "agent", "hardware", "Hal")
    return app


@pytest.fixture
def app(portal_index, portal_settings):
    return mail_app(portal_index, portal_settings)


def client_of(app, email: str = ""):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def outbox(app, kind: str | None = None) -> list[OutboxMessage]:
    with app.extensions["kb.db"]() as db:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        return list(db.scalars(query.where(OutboxMessage.kind == kind) if kind else query))


def ticket(app, ref: str):
    with app.extensions["kb.db"]() as db:
        return find_ticket(db, ref)


def agent_reply(client, ref: str, body: str = "Please restart the printer.", status: str = ""):
    response = post(client, f"/desk/tickets/{ref}/reply", {"body": body, "action": "send", "status": status})
    assert response.status_code == 302, response.get_data(as_text=True)


def set_status(client, ref: str, status: str):
    assert post(client, f"/desk/tickets/{ref}/status", {"status": status}).status_code == 302


def label(lang: str, text: str) -> str:
    from flask_babel import gettext

    with force_locale(lang):
        return gettext(text)


def test_filing_a_ticket_tells_the_customer_and_the_groups_agents(app):
    ref = file_ticket(client_of(app, "ann@acme.example"))
    [received] = outbox(app, "ticket_received")
    assert received.to_address == "ann@acme.example" and received.ticket_id == ticket(app, ref).id
    assert ref in received.subject and ref in received.text_body
    assert f"{PUBLIC}/tickets/{ref}" in received.text_body and f'href="{PUBLIC}/tickets/{ref}"' in received.html_body
    headers = received.headers
    assert ticket_ref_from(app.secret_key, headers["Reply-To"]) == ref
    assert headers["Reply-To"].startswith("support+t-") and headers["Reply-To"].endswith("@desk.example")
    assert headers["In-Reply-To"] == headers["References"] == f"<ticket.{ref.lower()}@desk.example>"
    assert headers["Auto-Submitted"] == "auto-generated"
    assert headers["List-Unsubscribe"].startswith(f"<{PUBLIC}/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    [new] = outbox(app, "new_ticket")  # the general group's agent; not the hardware agent, not the admin
    assert new.to_address == AGENT and "Reply-To" not in new.headers
    assert f"{PUBLIC}/desk/tickets/{ref}" in new.text_body and "It says offline since Monday" in new.text_body


def test_a_reply_a_status_change_and_the_resolution_reach_the_customer(app):
    ref = file_ticket(client_of(app, "ann@acme.example"))
    agent = client_of(app, AGENT)
    agent_reply(agent, ref, "Please restart the printer <b>now</b>.")
    [reply] = outbox(app, "agent_reply")
    assert "Please restart the printer <b>now</b>." in reply.text_body
    assert "Please restart the printer &lt;b&gt;now&lt;/b&gt;." in reply.html_body  # escaped in HTML
    set_status(agent, ref, WAITING)
    [status] = outbox(app, "status_change")
    assert "Waiting on customer" in status.subject and "Waiting on customer" in status.text_body
    agent_reply(agent, ref, "Fixed on our side.", status=RESOLVED)
    [resolved] = outbox(app, "resolved")
    assert "Fixed on our side." in resolved.text_body and f"{PUBLIC}/tickets/{ref}#effort" in resolved.text_body
    assert len(outbox(app, "agent_reply")) == 1  # a reply that resolves is one message, the resolution
    page = client_of(app, "ann@acme.example").get(f"/tickets/{ref}").get_data(as_text=True)
    assert 'id="effort"' in page  # where the link leads


def test_a_customer_reply_reaches_the_groups_agents(app):
    ann = client_of(app, "ann@acme.example")
    ref = file_ticket(ann)
    assert post(ann, f"/tickets/{ref}/reply", {"body": "Still offline."}).status_code == 302
    [reply] = outbox(app, "customer_reply")
    assert reply.to_address == AGENT and "Still offline." in reply.text_body


def test_mail_is_written_in_the_recipients_language_not_the_senders(app):
    ann = client_of(app, "ann@acme.example")
    assert post(ann, "/language", {"lang": "ru", "next": "/"}).status_code == 302
    ref = file_ticket(ann)
    with app.extensions["kb.db"]() as db:
        assert db.scalar(select(User.language).where(User.email == "ann@acme.example")) == "ru"
    agent = client_of(app, AGENT)  # the agent works in English
    set_status(agent, ref, WAITING)
    [status] = outbox(app, "status_change")
    with app.app_context():
        russian = label("ru", "Waiting on customer")
    assert status.lang == "ru" and russian != "Waiting on customer" and russian in status.text_body
    assert [m.lang for m in outbox(app, "new_ticket")] == ["en"]


def test_signing_in_keeps_the_interface_language(app):
    client = app.test_client()
    client.set_cookie("kb_lang", "uk")
    assert sign_in(client, "bob@acme.example").status_code == 302
    with app.extensions["kb.db"]() as db:
        assert db.scalar(select(User.language).where(User.email == "bob@acme.example")) == "uk"


def test_api_filed_tickets_are_notified_too(app):
    ann = client_of(app, "ann@acme.example")
    assert post(ann, "/language", {"lang": "uk", "next": "/"}).status_code == 302
    api = client_of(app, "ann@acme.example")  # a client that says no language keeps the one ann chose
    response = api.post("/api/tickets", json={"subject": "VPN down", "description": "It drops every minute"})
    assert response.status_code == 201
    [received] = outbox(app, "ticket_received")
    assert received.to_address == "ann@acme.example" and received.lang == "uk"
    ru = api.post("/api/tickets", json={"subject": "VPN", "description": "Again"}, headers={"Accept-Language": "ru"})
    assert ru.status_code == 201 and outbox(app, "ticket_received")[-1].lang == "ru"


def test_a_reminder_once_per_wait_then_the_automatic_close(portal_index, portal_settings):
    from web.mail_worker import remind_and_close

    app = mail_app(portal_index, portal_settings, mail_reminder_hours=48, auto_close_days=7)
    ref = file_ticket(client_of(app, "ann@acme.example"))
    set_status(client_of(app, AGENT), ref, WAITING)
    start = ticket(app, ref).updated_at
    assert remind_and_close(app, start + timedelta(hours=47)).reminded == 0
    assert remind_and_close(app, start + timedelta(hours=49)).reminded == 1
    assert remind_and_close(app, start + timedelta(hours=50)).reminded == 0  # once per wait
    [reminder] = outbox(app, "waiting_reminder")
    assert ref in reminder.subject and "Reply-To" in reminder.headers
    assert remind_and_close(app, start + timedelta(days=6)).closed == 0
    done = remind_and_close(app, start + timedelta(days=7, minutes=1))
    assert done.closed == 1
    closed = ticket(app, ref)
    assert closed.status == RESOLVED and closed.events[-1].author_kind == SYSTEM
    [notice] = outbox(app, "auto_closed")
    assert ref in notice.text_body
    assert remind_and_close(app, start + timedelta(days=8)).closed == 0


def test_two_processes_at_once_close_and_remind_once(portal_index, portal_settings):
    import threading

    from web.mail_worker import remind_and_close

    app = mail_app(portal_index, portal_settings, mail_reminder_hours=1, auto_close_days=2)
    ann, agent = client_of(app, "ann@acme.example"), client_of(app, AGENT)
    closing, reminded = file_ticket(ann), file_ticket(ann, subject="VPN drops")
    set_status(agent, closing, WAITING)
    set_status(agent, reminded, WAITING)
    with app.extensions["kb.db"].begin() as db:  # the first has waited three days, the second two hours
        for ref, waited in ((closing, timedelta(days=3)), (reminded, timedelta(hours=2))):
            found = find_ticket(db, ref)
            found.updated_at = found.updated_at - waited
    results, start = [], threading.Barrier(3)

    def upkeep():
        start.wait()
        results.append(remind_and_close(app))

    threads = [threading.Thread(target=upkeep) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.closed for r in results) == 1 and sum(r.reminded for r in results) == 1
    assert len(outbox(app, "auto_closed")) == 1 and len(outbox(app, "waiting_reminder")) == 1
    assert [e.status_to for e in ticket(app, closing).events].count(RESOLVED) == 1


def test_no_automatic_close_by_default(app):
    from web.mail_worker import remind_and_close

    ref = file_ticket(client_of(app, "ann@acme.example"))
    set_status(client_of(app, AGENT), ref, WAITING)
    assert remind_and_close(app, utcnow() + timedelta(days=365)).closed == 0
    assert ticket(app, ref).status == WAITING


def test_what_a_real_smtp_server_receives(app):
    ann = client_of(app, "ann@acme.example")
    assert post(ann, "/language", {"lang": "uk", "next": "/"}).status_code == 302
    ref = file_ticket(ann, subject="Printer\r\nBcc: eve@evil.example offline")
    set_status(client_of(app, AGENT), ref, WAITING)
    with SmtpServer() as server:
        report = send_due(app.extensions["kb.db"], SmtpConfig(host="127.0.0.1", port=server.port,
                                                              mail_from="support@desk.example", timeout=10))
    assert report.sent == len(outbox(app)) == 3
    by_kind = {m.kind: m for m in outbox(app)}
    received = {r.message["Message-ID"]: r for r in server.receiver.messages}
    status = received[by_kind["status_change"].message_id]
    assert status.recipients == ["ann@acme.example"]
    with app.app_context():
        ukrainian = label("uk", "Waiting on customer")
    assert ukrainian in status.message.get_body("plain").get_content()
    assert ukrainian in status.message.get_body("html").get_content()
    assert ticket_ref_from(app.secret_key, status.message["Reply-To"]) == ref
    assert status.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    for got in server.receiver.messages:
        header_block = got.raw.split(b"\r\n\r\n", 1)[0]
        assert got.message["Bcc"] is None and b"\nBcc:" not in header_block and len(got.recipients) == 1


def test_the_serving_process_sends_what_a_request_wrote(portal_index, portal_settings, tmp_path):
    from web.mail_worker import MailWorker

    with SmtpServer() as server:
        app = mail_app(portal_index, portal_settings, smtp_host="127.0.0.1", smtp_port=server.port)
        worker = MailWorker(app, interval=3600).start()  # no timed pass during the test: only a wake sends
        try:
            file_ticket(client_of(app, "ann@acme.example"))
            for _ in range(2):  # the customer's and the agent's notifications
                assert server.receiver.accepted.acquire(timeout=60)
        finally:
            worker.close()
    assert {m.state for m in outbox(app)} == {"sent"}
    assert sorted(r.recipients[0] for r in server.receiver.messages) == [AGENT, "ann@acme.example"]
    off = mail_app(portal_index, portal_settings, mail_sender="off", smtp_host="127.0.0.1", smtp_port=server.port,
                   database_url=f"sqlite:///{tmp_path / 'off.sqlite3'}")
    file_ticket(client_of(off, "ann@acme.example"))
    upkeep, report = MailWorker(off).run_once()  # delivery is left to `kb mail send`; reminders still run
    assert report is None and upkeep.closed == 0 and {m.state for m in outbox(off)} == {"pending"}


def test_account_mail_wakes_the_serving_process_sender_too(app):
    """A password link or an invitation is written without a notification: the request wakes the sender all the
    same, so the link goes out at once, not at the sender's next timed pass (30 s later)."""
    class Sender:
        woken = 0

        def wake(self) -> None:
            self.woken += 1

    sender = app.extensions["kb.mail_worker"] = Sender()
    assert post(app.test_client(), "/forgot-password", {"email": "nobody@acme.example"}).status_code == 200
    assert sender.woken == 0  # nothing was written
    assert post(app.test_client(), "/forgot-password", {"email": "ann@acme.example"}).status_code == 200
    assert sender.woken == 1
    manager = client_of(app, "meg@acme.example")
    assert post(manager, "/account/invitations", {"email": "nia@acme.example"}).status_code == 302
    assert sender.woken == 2
    assert [m.kind for m in outbox(app)] == ["password_reset", "invitation"]
