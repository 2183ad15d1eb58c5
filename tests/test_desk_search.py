"""The desk's queue search and the fixed subjects through Flask's test client: staff only, combined with the filters,
a subject typed in the wrong keyboard layout fixed when the ticket is filed and shown fixed on the desk."""
from __future__ import annotations

import re

import pytest

from kb.helpdesk.accounts import add_staff
from search.dictionaries import shared_dictionaries
from tests.portal import PASSWORD, file_ticket, post, sign_in, tickets

AGENT = "agent@desk.example"


@pytest.fixture
def desk_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
    return app


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def queue_refs(page: str) -> list[str]:
    return re.findall(r'<tr data-ref="([^"]+)">', page)


def test_the_queue_searches_ticket_text_with_the_filters(desk_app):
    ann = signed_in(desk_app, "ann@acme.example")
    printer = file_ticket(ann, subject="Printer offline", description="The printer says offline", category="printers")
    vpn = file_ticket(ann, subject="VPN drops", description="It disconnects every hour", category="vpn")
    agent = signed_in(desk_app, AGENT)
    post(agent, f"/desk/tickets/{vpn}/reply", {"body": "Which printer driver do you use?", "action": "send"})

    page = agent.get("/desk/?q=printer").get_data(as_text=True)
    assert queue_refs(page) == [printer, vpn]  # the one that says it twice first; the agent's reply counts
    assert 'name="q" value="printer"' in page and "Best match first." in page
    assert 'href="/desk/?q=printer&amp;status=submitted"' in page  # the status chips keep the search
    assert queue_refs(agent.get("/desk/?q=printer&category=vpn").get_data(as_text=True)) == [vpn]
    assert queue_refs(agent.get("/desk/?q=hourly+disconnecting").get_data(as_text=True)) == [vpn]
    assert queue_refs(agent.get("/desk/?q=" + "x" * 3000).get_data(as_text=True)) == []
    assert agent.get("/desk/?q=%22%28%2A").status_code == 200  # any text, even FTS syntax: never a 500


def test_customers_cannot_search_tickets(desk_app):
    ann = signed_in(desk_app, "ann@acme.example")
    file_ticket(ann, subject="Printer offline", description="offline")
    assert ann.get("/desk/?q=printer").status_code == 404
    anonymous = desk_app.test_client().get("/desk/?q=printer")
    assert anonymous.status_code == 302 and "/sign-in" in anonymous.headers["Location"]


@pytest.mark.skipif(not shared_dictionaries().available, reason="the hunspell dictionaries are not installed")
def test_a_subject_typed_in_the_wrong_layout_is_fixed_at_filing_and_shown_fixed(desk_app):
    ann = signed_in(desk_app, "ann@acme.example")
    ref = file_ticket(ann, subject="ghbynth yt gtxfnftn", description="с утра", category="printers")
    plain = file_ticket(ann, subject="Printer offline", description="offline")
    stored = {t.ref: t.subject_fixed for t in tickets(desk_app)}
    assert stored == {ref: "принтер не печатает", plain: ""}

    agent = signed_in(desk_app, AGENT)
    page = agent.get("/desk/").get_data(as_text=True)
    row = re.search(rf'<tr data-ref="{ref}">.*?</tr>', page, re.DOTALL).group(0)
    assert '<span class="subject" title="Typed as: ghbynth yt gtxfnftn">принтер не печатает</span>' in row
    assert queue_refs(agent.get("/desk/?q=принтеры").get_data(as_text=True)) == [ref]
    view = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert "принтер не печатает</span></h1>" in view and "Typed as: ghbynth yt gtxfnftn" in view
    # the customer's own pages show the subject as they typed it
    assert "ghbynth yt gtxfnftn" in ann.get(f"/tickets/{ref}").get_data(as_text=True)


def test_queue_cells_name_their_column_for_the_phone_layout(desk_app):
    ref = file_ticket(signed_in(desk_app, "ann@acme.example"))
    page = signed_in(desk_app, AGENT).get("/desk/").get_data(as_text=True)
    row = re.search(rf'<tr data-ref="{ref}">.*?</tr>', page, re.DOTALL).group(0)
    assert re.findall(r'<td[^>]*\sdata-label="([^"]+)"', row) == [
        "Ticket", "Customer", "Category", "Group", "Owner", "Priority", "Status", "SLA", "Customer wrote", "Opened"]
    assert re.match(r'<td class="tick">', row.split("\n")[1].strip())  # the tick box: no label of its own
