"""Known-issue notices on the agent desk: who may open its pages, posting and editing a notice (a bad form names
the field and keeps what was typed), the attached tickets a notice lists, detaching one."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.notice_models import Notice, NoticeTicket
from tests.portal import PASSWORD, file_ticket, post, sign_in

AGENT, ADMIN, EDITOR = "agent@desk.example", "admin@desk.example", "editor@desk.example"


@pytest.fixture
def desk_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(session, ADMIN, PASSWORD, "admin", "", "Ada")
        add_staff(session, EDITOR, PASSWORD, "editor", "", "Eve")
    return app


def signed_in(app, email: str):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def notices(app) -> list[Notice]:
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(Notice).order_by(Notice.id)))


def post_notice(client, **fields):
    data = {"title": "VPN down in the Sofia office", "body": "Since 10:00; the provider is on it.",
            "category": "vpn", "starts_at": "", "ends_at": ""}
    return post(client, "/desk/notices/", {**data, **fields})


@pytest.fixture
def notice_id(desk_app) -> int:
    assert post_notice(signed_in(desk_app, AGENT)).status_code == 302
    return notices(desk_app)[0].id


def routes(notice_id: int, ref: str) -> list[tuple[str, str]]:
    return [("GET", "/desk/notices/"), ("POST", "/desk/notices/"), ("GET", f"/desk/notices/{notice_id}"),
            ("POST", f"/desk/notices/{notice_id}"), ("POST", f"/desk/notices/{notice_id}/resolve"),
            ("POST", f"/desk/notices/{notice_id}/tickets"), ("POST", f"/desk/notices/{notice_id}/tickets/{ref}/detach")]


def call(client, method: str, path: str):
    return client.get(path) if method == "GET" else post(client, path, {})


def test_who_may_open_the_notices_pages(desk_app, notice_id):
    ref = file_ticket(signed_in(desk_app, "ann@acme.example"))
    anonymous = desk_app.test_client()
    for method, path in routes(notice_id, ref):
        response = call(anonymous, method, path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=/desk"), path
    for email in ("ann@acme.example", "meg@acme.example", "oz@other.example", EDITOR):
        client = signed_in(desk_app, email)
        for method, path in routes(notice_id, ref):
            assert call(client, method, path).status_code == 404, (email, path)
    for email in (AGENT, ADMIN):
        client = signed_in(desk_app, email)
        assert client.get("/desk/notices/").status_code == 200
        assert client.get(f"/desk/notices/{notice_id}").status_code == 200
        assert client.get("/desk/notices/99999").status_code == 404
        assert client.get(f"/desk/notices/{10 ** 30}").status_code == 404
        assert "/desk/notices/" in client.get("/desk/").get_data(as_text=True)  # linked from the queue
    assert notices(desk_app)[0].resolved_at is None  # nobody but staff got to resolve it


def test_an_agent_posts_and_edits_a_notice(desk_app):
    agent = signed_in(desk_app, AGENT)
    response = post_notice(agent, starts_at="2026-01-05T10:00", ends_at="2026-01-05 18:30")
    assert response.status_code == 302
    [notice] = notices(desk_app)
    assert (notice.title, notice.category) == ("VPN down in the Sofia office", "vpn")
    assert (notice.starts_at.isoformat(), notice.ends_at.isoformat()) == ("2026-01-05T10:00:00", "2026-01-05T18:30:00")
    page = agent.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="2026-01-05T10:00"' in page and "Ended" in page
    listing = agent.get("/desk/notices/").get_data(as_text=True)
    assert "VPN down in the Sofia office" in listing and f'data-notice="{notice.id}"' in listing

    edited = post(agent, f"/desk/notices/{notice.id}", {"title": "VPN down in Sofia and Plovdiv", "body": "",
                                                        "category": "", "starts_at": "", "ends_at": ""})
    assert edited.status_code == 302
    [notice] = notices(desk_app)
    assert (notice.title, notice.category, notice.ends_at) == ("VPN down in Sofia and Plovdiv", "", None)
    assert notice.starts_at.isoformat() == "2026-01-05T10:00:00"  # empty start: kept
    assert "Everyone" in agent.get(f"/desk/notices/{notice.id}").get_data(as_text=True)


@pytest.mark.parametrize("fields, field, message", [
    ({"title": ""}, "title", "Title: please fill this in."),
    ({"title": "x" * 201}, "title", "Title: at most 200 characters (this has 201)."),
    ({"starts_at": "tomorrow-ish"}, "starts_at", "Starts (UTC): write a date and time as YYYY-MM-DD HH:MM (UTC)."),
    ({"ends_at": "2026-13-40 10:00"}, "ends_at", "Ends (UTC): write a date and time as YYYY-MM-DD HH:MM (UTC)."),
    ({"starts_at": "2026-01-05 10:00", "ends_at": "2026-01-05 09:00"}, "ends_at", "Ends (UTC): must be after the start."),
    ({"category": "nope"}, "category", "Not a valid choice"),
])
def test_a_bad_notice_names_the_field_and_keeps_what_was_typed(desk_app, fields, field, message):
    agent = signed_in(desk_app, AGENT)
    response = post_notice(agent, body="Typed <b>text</b> stays", **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*{re.escape(message)}', page), page
    assert "Typed &lt;b&gt;text&lt;/b&gt; stays" in page
    for name, value in fields.items():
        if name != "category":
            assert f'value="{value}"' in page, name
    assert notices(desk_app) == []


def test_a_bad_edit_keeps_the_notice_and_the_typed_text(desk_app, notice_id):
    agent = signed_in(desk_app, AGENT)
    response = post(agent, f"/desk/notices/{notice_id}", {"title": "New title", "category": "vpn",
                                                          "starts_at": "soon", "ends_at": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'value="New title"' in page and 'value="soon"' in page and 'id="starts_at-error"' in page
    assert notices(desk_app)[0].title == "VPN down in the Sofia office"


def test_a_notice_lists_its_tickets_and_an_agent_detaches_one(desk_app, notice_id):
    ann = signed_in(desk_app, "ann@acme.example")
    ref = file_ticket(ann, "VPN", "The VPN does not connect")
    assert post(ann, f"/tickets/{ref}/notices/{notice_id}").status_code == 302
    agent = signed_in(desk_app, AGENT)
    page = agent.get(f"/desk/notices/{notice_id}").get_data(as_text=True)
    assert f'data-ref="{ref}"' in page and f'href="/desk/tickets/{ref}"' in page and "ann@acme.example" in page
    assert ref in agent.get("/desk/notices/").get_data(as_text=True)
    assert post(agent, f"/desk/notices/{notice_id}/tickets/{ref}/detach").status_code == 302
    with desk_app.extensions["kb.db"]() as db:
        assert db.scalar(select(NoticeTicket.id)) is None
    assert post(agent, f"/desk/notices/{notice_id}/tickets/KB-NOPE/detach").status_code == 404


def test_resolving_without_tickets_is_fine_and_shown(desk_app, notice_id):
    agent = signed_in(desk_app, AGENT)
    too_long = post(agent, f"/desk/notices/{notice_id}/resolve", {"resolution": "x" * 20001})
    assert too_long.status_code == 400 and 'id="resolution-error"' in too_long.get_data(as_text=True)
    assert notices(desk_app)[0].resolved_at is None
    response = post(agent, f"/desk/notices/{notice_id}/resolve", {"resolution": "Fixed by the provider."},
                    follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "0 customer(s) will be told" in page and "Fixed by the provider." in page
    assert 'id="resolve"' not in page  # no second resolve form


def test_an_agent_attaches_a_ticket_from_its_page_or_by_reference(desk_app, notice_id):
    ann = signed_in(desk_app, "ann@acme.example")
    ref = file_ticket(ann, "VPN", "The VPN does not connect", category="vpn")
    other = file_ticket(ann, "Printer", "my printer says offline", category="printers")
    agent = signed_in(desk_app, AGENT)
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert f'action="/desk/notices/{notice_id}/tickets"' in page  # a VPN notice, a VPN ticket
    assert f'action="/desk/notices/{notice_id}/tickets"' not in agent.get(f"/desk/tickets/{other}").get_data(as_text=True)
    response = post(agent, f"/desk/notices/{notice_id}/tickets", {"ref": ref, "back": "ticket"})
    assert response.headers["Location"] == f"/desk/tickets/{ref}#known-issues"
    attached = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert f'action="/desk/notices/{notice_id}/tickets"' not in attached and "attached" in attached
    assert post(agent, f"/desk/notices/{notice_id}/tickets", {"ref": other.lower()}).status_code == 302
    missing = post(agent, f"/desk/notices/{notice_id}/tickets", {"ref": "KB-NOPE"}, follow_redirects=True)
    assert "there is no ticket KB-NOPE" in missing.get_data(as_text=True)
    with desk_app.extensions["kb.db"]() as db:
        assert {link.ticket.ref for link in db.scalars(select(NoticeTicket))} == {ref, other}
