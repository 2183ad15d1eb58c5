"""Known-issue notices on the portal: which are active, which the contact form shows for what the customer types
(the suggestions' JSON and the page without JavaScript), attaching tickets to them, and what resolving one does."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from babel.dates import format_date
from sqlalchemy import select

from kb.errors import NoticeError
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import User, utcnow
from kb.helpdesk.notice_models import Notice, NoticeTicket
from kb.helpdesk.notices import EVENT_NOTICE_RESOLVED, active_notices, attach, create_notice, resolve_notice
from kb.helpdesk.tickets import find_ticket
from tests.portal import PASSWORD, file_ticket, post, sign_in

AGENT = "agent@desk.example"
PRINTER_TEXT = "my printer says offline"


@pytest.fixture
def desk_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
    return app


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def add_notice(app, title: str, category: str = "", start: timedelta = timedelta(hours=-1),
               end: timedelta | None = None, resolved: bool = False) -> int:
    """A notice posted by the agent, its window relative to now; returns its id."""
    now = utcnow()
    with app.extensions["kb.db"].begin() as db:
        agent = db.scalar(select(User).where(User.email == AGENT))
        notice = create_notice(db, agent, title, f"About {title}.", category, now + start,
                               now + end if end is not None else None)
        if resolved:
            notice.resolved_at = now
        return notice.id


def notice_ids(html: str) -> set[int]:
    return {int(i) for i in re.findall(r'data-notice="(\d+)"', html)}


# --- which notices are active -----------------------------------------------------------------------------------

def test_active_means_started_not_ended_not_resolved(desk_app):
    active = add_notice(desk_app, "Active", end=timedelta(hours=1))
    open_ended = add_notice(desk_app, "Open-ended")
    scheduled = add_notice(desk_app, "Scheduled", start=timedelta(hours=2))
    ended = add_notice(desk_app, "Ended", start=timedelta(hours=-3), end=timedelta(minutes=-1))
    resolved = add_notice(desk_app, "Resolved", resolved=True)
    with desk_app.extensions["kb.db"]() as db:
        assert {n.id for n in active_notices(db)} == {active, open_ended}
        # The same notices three hours on: the scheduled one has started, the first has ended.
        later = utcnow() + timedelta(hours=3)
        assert {n.id for n in active_notices(db, now=later)} == {open_ended, scheduled}
        assert all(n.active_at(later) for n in active_notices(db, now=later))
        assert not db.get(Notice, resolved).active_at(utcnow())
    home = desk_app.test_client().get("/").get_data(as_text=True)
    assert notice_ids(home) == {active, open_ended}
    assert "About Active." in home and "Scheduled" not in home and "Resolved" not in home


def test_a_notice_needs_a_title_and_an_end_after_its_start(desk_app):
    with desk_app.extensions["kb.db"]() as db:
        agent = db.scalar(select(User).where(User.email == AGENT))
        with pytest.raises(NoticeError, match="title"):
            create_notice(db, agent, "  ")
        now = utcnow()
        with pytest.raises(NoticeError, match="ends_at"):
            create_notice(db, agent, "VPN down", starts_at=now, ends_at=now)


# --- the contact form: notices for the predicted category --------------------------------------------------------

def test_suggestions_json_carries_the_notices_of_the_predicted_category(desk_app, client):
    printers = add_notice(desk_app, "Printers on floor 3 are down", "printers")
    everyone = add_notice(desk_app, "Maintenance tonight")
    add_notice(desk_app, "VPN down in Sofia", "vpn")
    add_notice(desk_app, "Old printer outage", "printers", resolved=True)
    data = client.get("/api/suggest", query_string={"q": PRINTER_TEXT}).get_json()
    assert data["category"] == "printers"
    shown = {n["id"]: n for n in data["notices"]}
    assert set(shown) == {everyone, printers}
    assert shown[printers]["title"] == "Printers on floor 3 are down"
    assert shown[printers]["category"] == "printers" and shown[everyone]["category"] is None
    assert data["suggestions"][0]["id"] == "printer-offline"  # the suggestions are still there
    assert client.get("/api/suggest?q=pr").get_json()["notices"] == []  # too short to predict anything


def test_contact_page_without_javascript_shows_matching_notices(desk_app, ann):
    printers = add_notice(desk_app, "Printers on floor 3 are down", "printers")
    vpn = add_notice(desk_app, "VPN down in Sofia", "vpn")
    page = post(ann, "/contact", {"subject": "", "description": PRINTER_TEXT, "step": "suggest"}).get_data(as_text=True)
    assert notice_ids(page) == {printers}
    section = page.index('id="known-issues"')
    assert section < page.index('id="suggestions"')  # above the suggestions
    assert "hidden" not in re.search(r'<section id="known-issues"[^>]*>', page).group(0)
    empty = ann.get("/contact").get_data(as_text=True)
    assert notice_ids(empty) == set() and "hidden" in re.search(r'<section id="known-issues"[^>]*>', empty).group(0)
    # A problem of another category: no printer notice; the VPN one only for a VPN problem.
    vpn_page = post(ann, "/contact", {"subject": "", "description": "не работает впн", "step": "suggest"})
    assert notice_ids(vpn_page.get_data(as_text=True)) == {vpn}


# --- attaching tickets ------------------------------------------------------------------------------------------

def links(app) -> set[tuple[int, str]]:
    with app.extensions["kb.db"]() as db:
        return {(link.notice_id, link.ticket.ref) for link in db.scalars(select(NoticeTicket))}


def test_the_ticket_form_offers_matching_notices_and_attaches_the_ticked_one(desk_app, ann):
    printers = add_notice(desk_app, "Printers on floor 3 are down", "printers")
    vpn = add_notice(desk_app, "VPN down in Sofia", "vpn")
    form = post(ann, "/contact", {"subject": "Printer", "description": PRINTER_TEXT, "step": "ticket"})
    html = form.get_data(as_text=True)
    assert f'name="notices" value="{printers}"' in html and f'value="{vpn}"' not in html
    # A bad form keeps the tick.
    bad = post(ann, "/tickets/new", {"subject": "", "description": PRINTER_TEXT, "category": "printers",
                                     "notices": str(printers)})
    assert bad.status_code == 400 and f'value="{printers}" checked' in bad.get_data(as_text=True)
    ref = post(ann, "/tickets/new", {"subject": "Printer", "description": PRINTER_TEXT, "category": "printers",
                                     "notices": [str(printers), "999", "x"]}).headers["Location"].rsplit("/", 1)[1]
    assert links(desk_app) == {(printers, ref)}
    unticked = file_ticket(ann, "Printer again", PRINTER_TEXT)
    assert (printers, unticked) not in links(desk_app)


def test_a_customer_attaches_and_detaches_their_own_ticket(desk_app, ann):
    printers = add_notice(desk_app, "Printers on floor 3 are down", "printers")
    ref = file_ticket(ann)
    page = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert f"/tickets/{ref}/notices/{printers}" in page and "This is my problem: attach my ticket" in page
    assert post(ann, f"/tickets/{ref}/notices/{printers}").status_code == 302
    assert post(ann, f"/tickets/{ref}/notices/{printers}").status_code == 302  # twice: still one link
    assert links(desk_app) == {(printers, ref)}
    attached = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert "Your ticket is attached" in attached and f"/notices/{printers}/detach" in attached
    assert post(ann, f"/tickets/{ref}/notices/{printers}/detach").status_code == 302
    assert links(desk_app) == set()


def test_attaching_someone_elses_ticket_is_refused(desk_app, ann):
    printers = add_notice(desk_app, "Printers on floor 3 are down", "printers")
    ended = add_notice(desk_app, "Over", "printers", start=timedelta(hours=-2), end=timedelta(hours=-1))
    ref = file_ticket(ann)
    other = signed_in(desk_app, "oz@other.example")  # another organisation's manager
    assert post(other, f"/tickets/{ref}/notices/{printers}").status_code == 404
    colleague = signed_in(desk_app, "bob@acme.example")  # same organisation, not his ticket
    assert post(colleague, f"/tickets/{ref}/notices/{printers}").status_code == 404
    manager = signed_in(desk_app, "meg@acme.example")  # sees it, but it is not hers to attach
    assert manager.get(f"/tickets/{ref}").status_code == 200
    assert f"/notices/{printers}" not in manager.get(f"/tickets/{ref}").get_data(as_text=True)
    assert post(manager, f"/tickets/{ref}/notices/{printers}").status_code == 403
    assert post(ann, f"/tickets/{ref}/notices/99999").status_code == 404
    assert post(ann, f"/tickets/KB-NOPE/notices/{printers}").status_code == 404
    assert post(ann, f"/tickets/{ref}/notices/{10 ** 30}").status_code == 404
    assert post(desk_app.test_client(), f"/tickets/{ref}/notices/{printers}").status_code == 302  # to sign in
    over = post(ann, f"/tickets/{ref}/notices/{ended}", follow_redirects=True)
    assert "This known issue is over" in over.get_data(as_text=True)
    assert links(desk_app) == set()


# --- resolving --------------------------------------------------------------------------------------------------

def test_resolving_tells_each_attached_customer_once_in_their_language(desk_app, ann):
    printers = add_notice(desk_app, "Printers on floor 3 are down", "printers")
    bob = signed_in(desk_app, "bob@acme.example")
    with desk_app.extensions["kb.db"].begin() as db:
        db.scalar(select(User).where(User.email == "bob@acme.example")).language = "ru"
    ann_refs = [file_ticket(ann), file_ticket(ann, "Printer still offline")]
    bob_ref = file_ticket(bob)
    unattached = file_ticket(ann, "Another printer")
    for client, ref in [(ann, ann_refs[0]), (ann, ann_refs[1]), (bob, bob_ref)]:
        assert post(client, f"/tickets/{ref}/notices/{printers}").status_code == 302

    agent = signed_in(desk_app, AGENT)
    response = post(agent, f"/desk/notices/{printers}/resolve", {"resolution": "The print server is back."})
    assert response.status_code == 302
    with desk_app.extensions["kb.db"]() as db:
        messages = {m.to_address: m for m in db.scalars(select(OutboxMessage)
                                                        .where(OutboxMessage.kind == "notice_resolved"))}
        assert sorted(messages) == ["ann@acme.example", "bob@acme.example"]  # one each, ann has two tickets
        to_ann, to_bob = messages["ann@acme.example"], messages["bob@acme.example"]
        assert (to_ann.lang, to_bob.lang) == ("en", "ru")
        assert to_ann.kind == "notice_resolved" and to_ann.state == "pending"
        assert "Printers on floor 3 are down" in to_ann.subject
        assert all(ref in to_ann.text_body for ref in ann_refs) and bob_ref not in to_ann.text_body
        assert f"http://127.0.0.1:8000/tickets/{ann_refs[0]}" in to_ann.text_body
        assert "The print server is back." in to_bob.text_body and '<html lang="ru">' in to_bob.html_body
        resolved_at = db.get(Notice, printers).resolved_at
        assert format_date(resolved_at, "medium", locale="ru") in to_bob.text_body  # a date written in Russian
        assert format_date(resolved_at, "medium", locale="en") in to_ann.text_body
        assert to_ann.headers["Auto-Submitted"] == "auto-generated"
        assert to_ann.headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
        for ref in ann_refs + [bob_ref]:
            lines = [e for e in find_ticket(db, ref).events if e.kind == EVENT_NOTICE_RESOLVED]
            assert len(lines) == 1 and "The print server is back." in lines[0].body
        assert not [e for e in find_ticket(db, unattached).events if e.kind == EVENT_NOTICE_RESOLVED]
    assert "Known issue resolved:" in ann.get(f"/tickets/{ann_refs[0]}").get_data(as_text=True)
    assert printers not in notice_ids(desk_app.test_client().get("/").get_data(as_text=True))

    # Resolving again tells nobody twice.
    again = post(agent, f"/desk/notices/{printers}/resolve", {"resolution": ""}, follow_redirects=True)
    assert "already resolved" in again.get_data(as_text=True)
    with desk_app.extensions["kb.db"]() as db:
        assert len(list(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notice_resolved")))) == 2


def test_a_resolved_notice_takes_no_more_tickets(desk_app, ann):
    ref = file_ticket(ann)
    with desk_app.extensions["kb.db"]() as db:
        agent = db.scalar(select(User).where(User.email == AGENT))
        notice = create_notice(db, agent, "Printers down", category="printers")
        ticket = find_ticket(db, ref)
        attach(db, notice, ticket, agent)
        assert [t.ref for t in resolve_notice(db, notice, agent)] == [ref]
        with pytest.raises(NoticeError, match="already resolved"):
            resolve_notice(db, notice, agent)
        with pytest.raises(NoticeError, match="active"):
            attach(db, notice, ticket, agent)


def resolve_from_two_sessions(sessions) -> None:
    """Two agents who both loaded an unresolved notice resolve it: the second is refused, so its tickets' history
    and the customers' e-mail are written once. (Shared with tests/test_notices_postgres.py.)"""
    with sessions.begin() as db:
        agent = add_staff(db, "race@desk.example", PASSWORD, "agent")
        customer = db.scalar(select(User).where(User.email == "ann@acme.example"))
        from kb.helpdesk.tickets import create_ticket

        ticket = create_ticket(db, customer, "VPN", "The VPN does not connect", "vpn")
        notice = create_notice(db, agent, "VPN down", category="vpn")
        attach(db, notice, ticket, customer)
        assert attach(db, notice, ticket, customer).id == notice.links[0].id  # again: the same link
        notice_id, agent_id, ref = notice.id, agent.id, ticket.ref
    first, second = sessions(), sessions()
    try:
        mine, theirs = first.get(Notice, notice_id), second.get(Notice, notice_id)
        assert mine.resolved_at is None and theirs.resolved_at is None
        assert len(resolve_notice(first, mine, first.get(User, agent_id), "Fixed")) == 1
        first.commit()
        with pytest.raises(NoticeError, match="already resolved"):
            resolve_notice(second, theirs, second.get(User, agent_id), "Fixed too")
        second.rollback()
    finally:
        first.close()
        second.close()
    with sessions() as db:
        events = [e for e in find_ticket(db, ref).events if e.kind == EVENT_NOTICE_RESOLVED]
        assert [e.body for e in events] == ["VPN down\n\nFixed"]
        assert db.get(Notice, notice_id).resolution == "Fixed"


def test_two_agents_resolving_at_once_tell_the_customers_once(app):
    resolve_from_two_sessions(app.extensions["kb.db"])
