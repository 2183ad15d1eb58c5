"""Ticket owners, who sees which ticket, the queue's views, who has a ticket open, bulk changes and admins'
changes to staff accounts, on the database (the desk's pages are in tests/test_owners_desk.py)."""
from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.config import Settings, load_settings
from kb.errors import AccountError, ConfigError, TicketError
from kb.helpdesk.access import staff_can_see, visible_tickets
from kb.helpdesk.accounts import add_organisation, add_staff, add_user, authenticate
from kb.helpdesk.bulk import bulk_assign, bulk_status, tickets_by_ref
from kb.helpdesk.db import open_database
from kb.helpdesk.models import Ticket, TicketEvent, User, utcnow
from kb.helpdesk.ownership import assign, assignable, open_tickets_of
from kb.helpdesk.presence import REPLYING, STALE, VIEWING, leave, others, prune, report
from kb.helpdesk.queue import QueueFilter, parse_filter, queue
from kb.helpdesk.staff_accounts import orphaned_tickets, set_active, update_staff
from kb.helpdesk.tickets import add_reply, create_ticket, ticket_dict

RESTRICTED = replace(Settings(), desk_restrict_to_groups=True)
OPEN = Settings()


@pytest.fixture
def sessions(database_url: str):
    engine, factory = open_database(database_url)
    with factory.begin() as db:
        add_organisation(db, "Acme")
        add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        add_staff(db, "alex@desk.example", "password-alex", "agent", "hardware", "Alex")
        add_staff(db, "bea@desk.example", "password-bea", "agent", "software", "Bea")
        add_staff(db, "ada@desk.example", "password-ada", "admin", "", "Ada")
        add_staff(db, "eddy@desk.example", "password-eddy", "editor", "", "Eddy")
    yield factory
    engine.dispose()


def person(db, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


def ticket(db, group: str = "hardware", subject: str = "Printer") -> Ticket:
    return create_ticket(db, person(db, "ann@acme.example"), subject, "offline", group=group)


def test_assign_records_who_from_and_to_and_customers_never_see_it(sessions):
    with sessions.begin() as db:
        alex, bea, ada = (person(db, e) for e in ("alex@desk.example", "bea@desk.example", "ada@desk.example"))
        t = ticket(db)
        first = assign(db, t, alex, by=alex)
        assert t.owner_id == alex.id and first.kind == "assigned"
        assert (first.owner_from_id, first.owner_to_id, first.author_id) == (None, alex.id, alex.id)
        second = assign(db, t, bea, by=ada)
        assert (second.owner_from.email, second.owner_to.email) == ("alex@desk.example", "bea@desk.example")
        assert assign(db, t, bea, by=ada) is None  # already hers: no event
        unassigned = assign(db, t, None, by=ada)
        assert t.owner_id is None and unassigned.owner_to_id is None
        assert [e.kind for e in t.events] == ["submitted", "assigned", "assigned", "assigned"]
        assert [e.kind for e in t.customer_events] == ["submitted"]
        assert [e["kind"] for e in ticket_dict(t)["events"]] == ["submitted"]


@pytest.mark.parametrize("email, words", [("ann@acme.example", "not an agent or admin"),
                                          ("eddy@desk.example", "not an agent or admin"),
                                          ("bea@desk.example", "deactivated")])
def test_only_active_agents_and_admins_can_own_tickets(sessions, email, words):
    with sessions.begin() as db:
        ada, owner = person(db, "ada@desk.example"), person(db, email)
        set_active(db, person(db, "bea@desk.example"), False, by=ada)
        t = ticket(db)
        with pytest.raises(TicketError, match=f"^owner: .*{words}"):
            assign(db, t, owner, by=ada)
        assert t.owner_id is None and len(t.events) == 1
        assert [u.email for u in assignable(db)] == ["ada@desk.example", "alex@desk.example"]


def test_the_group_rule_for_one_ticket_and_for_queries(sessions):
    with sessions.begin() as db:
        alex, bea, ada, eddy, ann = (person(db, e) for e in ("alex@desk.example", "bea@desk.example",
                                                             "ada@desk.example", "eddy@desk.example",
                                                             "ann@acme.example"))
        hardware, software = ticket(db, "hardware"), ticket(db, "software")
        for settings in (OPEN, RESTRICTED):
            assert staff_can_see(settings, ada, software) and staff_can_see(settings, alex, hardware)
            for nobody in (None, eddy, ann):
                assert not staff_can_see(settings, nobody, hardware)
        assert staff_can_see(OPEN, alex, software) and not staff_can_see(RESTRICTED, alex, software)
        assert not staff_can_see(RESTRICTED, bea, hardware)

        def seen(settings, user):
            return set(db.scalars(select(Ticket).where(*visible_tickets(settings, user))))

        assert seen(RESTRICTED, alex) == {hardware}
        assert seen(RESTRICTED, ada) == {hardware, software} == seen(OPEN, alex)
        assert seen(OPEN, eddy) == set() and seen(OPEN, None) == set()
        set_active(db, alex, False, by=ada)
        assert not staff_can_see(OPEN, alex, hardware)


def test_queue_views_and_their_counts(sessions):
    with sessions.begin() as db:
        alex, bea, ada = (person(db, e) for e in ("alex@desk.example", "bea@desk.example", "ada@desk.example"))
        mine, theirs, nobodys, other_group = (ticket(db, "hardware", "mine"), ticket(db, "hardware", "theirs"),
                                              ticket(db, "hardware", "nobody's"), ticket(db, "software", "sw"))
        assign(db, mine, alex, by=alex)
        assign(db, theirs, bea, by=ada)
        assign(db, other_group, alex, by=ada)

        def subjects(view, settings=OPEN):
            page = queue(db, QueueFilter(view=view), user=alex, visible=visible_tickets(settings, alex))
            return sorted(t.subject for t in page.tickets), page.views

        assert subjects("mine")[0] == ["mine", "sw"]
        assert subjects("unassigned")[0] == ["nobody's"]
        assert subjects("group")[0] == ["mine", "nobody's", "theirs"]
        every, views = subjects("")
        assert len(every) == 4 and views == {"": 4, "mine": 2, "unassigned": 1, "group": 3}
        # With the restriction, other groups' tickets are in no view, not even "mine".
        assert subjects("mine", RESTRICTED) == (["mine"], {"": 3, "mine": 1, "unassigned": 1, "group": 3})
    assert parse_filter({"view": "mine"}).view == "mine" and parse_filter({"view": "<x>"}).view == ""
    assert QueueFilter(view="unassigned").query_args(status="resolved") == {"view": "unassigned",
                                                                            "status": "resolved"}


def test_presence_shows_others_with_their_state_until_they_leave_or_go_stale(sessions):
    with sessions.begin() as db:
        alex, bea, ada = (person(db, e) for e in ("alex@desk.example", "bea@desk.example", "ada@desk.example"))
        t, now = ticket(db), utcnow()
        report(db, t, alex, VIEWING, now)
        report(db, t, alex, VIEWING, now)  # again: one row
        report(db, t, ada, REPLYING, now - timedelta(seconds=5))
        assert [(p.name, p.state) for p in others(db, t, bea, now)] == [("Ada", "replying"), ("Alex", "viewing")]
        assert [p.name for p in others(db, t, alex, now)] == ["Ada"]  # nobody sees themselves
        later = now + STALE - timedelta(seconds=1)
        assert [p.name for p in others(db, t, bea, later)] == ["Alex"]  # Ada's report went stale first
        leave(db, t, alex)
        assert [p.name for p in others(db, t, bea, now)] == ["Ada"]
        report(db, t, alex, "shouting", now)  # an unknown state counts as viewing
        assert {p.name: p.state for p in others(db, t, bea, now)}["Alex"] == VIEWING
        assert prune(db, now + STALE + timedelta(seconds=1)) == 2
        assert others(db, t, bea, now) == []


def test_bulk_changes_give_each_ticket_its_event_and_refuse_as_a_whole(sessions):
    with sessions.begin() as db:
        alex, ada = person(db, "alex@desk.example"), person(db, "ada@desk.example")
        a, b, c = ticket(db, subject="a"), ticket(db, subject="b"), ticket(db, subject="c")
        found, unknown = tickets_by_ref(db, [a.ref.lower(), b.ref, b.ref, "KB-NOSUCH00", ""])
        assert found == [a, b] and unknown == ["KB-NOSUCH00"]
        assert len(bulk_assign(db, [a, b], alex, by=ada)) == 2
        assert a.owner_id == b.owner_id == alex.id and [e.kind for e in b.events][-1] == "assigned"
        moved = bulk_status(db, [a, b], "resolved", by=ada)
        assert [(t.ref, e.status_to) for t, e in moved] == [(a.ref, "resolved"), (b.ref, "resolved")]
        with pytest.raises(TicketError, match=f"^status: {a.ref}, {b.ref} cannot move"):
            bulk_status(db, [c, a, b], "waiting_on_customer", by=ada)
        assert c.status == "submitted"  # nothing changed
        with pytest.raises(TicketError, match="^owner:"):
            bulk_assign(db, [c], person(db, "ann@acme.example"), by=ada)
        assert c.owner_id is None


def test_admins_edit_and_deactivate_staff_but_not_themselves(sessions):
    with sessions.begin() as db:
        alex, ada = person(db, "alex@desk.example"), person(db, "ada@desk.example")
        t = ticket(db)
        reply = add_reply(db, t, alex, "on it", author_kind="agent")
        assign(db, t, alex, by=alex)
        update_staff(db, alex, "  Alex   Agent ", "admin", " software ", by=ada)
        assert (alex.name, alex.role, alex.agent_group) == ("Alex Agent", "admin", "software")
        for args, field in [(("x", "manager", ""), "role"), (("x", "agent", "bad group!"), "group"),
                            (("x" * 200, "agent", ""), "name")]:
            with pytest.raises(AccountError, match=f"^{field}:"):
                update_staff(db, alex, *args, by=ada)
        with pytest.raises(AccountError, match="^role: an admin cannot take their own admin role"):
            update_staff(db, ada, "Ada", "agent", "", by=ada)
        with pytest.raises(AccountError, match="^active: an admin cannot deactivate their own"):
            set_active(db, ada, False, by=ada)
        generation = alex.session_generation
        set_active(db, alex, False, by=ada)
        db.refresh(alex)
        assert not alex.active and alex.session_generation == generation + 1
        assert open_tickets_of(db, alex) == [t] and orphaned_tickets(db) == [t]
        assert db.get(TicketEvent, reply.id).author.name == "Alex Agent"  # the history keeps them
    with sessions.begin() as db:
        assert authenticate(db, "alex@desk.example", "password-alex") is None
        set_active(db, person(db, "alex@desk.example"), True, by=person(db, "ada@desk.example"))
        assert authenticate(db, "alex@desk.example", "password-alex") is not None
        assert orphaned_tickets(db) == []


@pytest.mark.parametrize("value, expected", [("true", True), ("on", True), ("1", True), ("False", False),
                                             ("off", False), ("0", False)])
def test_desk_restrict_to_groups_reads_yes_and_no(value, expected):
    assert Settings().desk_restrict_to_groups is False
    assert load_settings(environ={"KB_DESK_RESTRICT_TO_GROUPS": value}).desk_restrict_to_groups is expected


def test_desk_restrict_to_groups_refuses_anything_else():
    with pytest.raises(ConfigError, match="desk_restrict_to_groups"):
        load_settings(environ={"KB_DESK_RESTRICT_TO_GROUPS": "sometimes"})
