"""Ticket search on PostgreSQL (a GIN index over a stored tsvector): the same answers as on SQLite."""
from __future__ import annotations

import pytest
from sqlalchemy import delete

from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.db import open_database
from kb.helpdesk.models import AGENT
from kb.helpdesk.queue import QueueFilter, queue
from kb.helpdesk.ticket_search import reindex_database
from kb.helpdesk.ticket_search_models import TicketSearch
from kb.helpdesk.tickets import add_reply, create_ticket

pytestmark = pytest.mark.slow


def test_ticket_search_on_postgresql(clean_database):
    engine, sessions = open_database(clean_database)
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme")
        agent = add_staff(db, "agent@desk.example", "password-agent", "agent", "general")
        often = create_ticket(db, ann, "Printer offline", "My printer says offline; the printer is on", "printers")
        once = create_ticket(db, ann, "Scanner jam", "The printer beside it works, the scanner jams", "scanners")
        russian = create_ticket(db, ann, "Принтер не печатает", "Принтеры в офисе не печатают", "printers",
                                subject_fixed="")
        add_reply(db, once, agent, "Please send the scanner's model; it's a known case", author_kind=AGENT)
        refs = often.ref, once.ref, russian.ref

    def found(**chosen) -> list[str]:
        with sessions() as db:
            return [t.ref for t in queue(db, QueueFilter(**chosen)).tickets]

    assert found(text="printer") == [refs[0], refs[1]]
    assert found(text="printer", category="scanners") == [refs[1]]
    assert found(text="printer jams") == [refs[1]]
    assert found(text="models") == [refs[1]]  # the agent's reply, stemmed
    assert found(text="принтеры печатать") == [refs[2]]
    assert found(text="'(printer & !:*") == [refs[0], refs[1]]  # tsquery syntax is never passed through
    assert len(found(text="the")) == 3
    with sessions.begin() as db:
        db.execute(delete(TicketSearch))
    assert found(text="printer") == []
    assert reindex_database(clean_database) == 3
    assert found(text="printer") == [refs[0], refs[1]]
    engine.dispose()
