"""Owners, the collision notice, bulk actions, the group restriction and admins' staff pages through Flask's test
client: who may use which route, and what each does."""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.attachment_models import Attachment
from kb.helpdesk.models import Ticket, User
from kb.helpdesk.notice_models import Notice
from kb.helpdesk.tickets import create_ticket, find_ticket
from tests.files import image
from tests.portal import PASSWORD, add_people, csrf_token, make_app, post, sign_in

ALEX, BEA, ADA, EDDY = "alex@desk.example", "bea@desk.example", "ada@desk.example", "eddy@desk.example"


def _staff(app) -> None:
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, ALEX, PASSWORD, "agent", "general", "Alex")
        add_staff(db, BEA, PASSWORD, "agent", "billing", "Bea")
        add_staff(db, ADA, PASSWORD, "admin", "", "Ada")
        add_staff(db, EDDY, PASSWORD, "editor", "", "Eddy")


@pytest.fixture
def desk_app(app):
    _staff(app)
    return app


@pytest.fixture
def restricted_app(portal_index, portal_settings):
    app = make_app(replace(portal_settings, desk_restrict_to_groups=True), portal_index[1])
    add_people(app)
    _staff(app)
    return app


def signed_in(app, email: str | None):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def row(app, ref: str) -> Ticket:
    with app.extensions["kb.db"]() as db:
        found = find_ticket(db, ref)
        found.owner  # loaded before the session closes
        return found


def user_id(app, email: str) -> int:
    with app.extensions["kb.db"]() as db:
        return db.scalar(select(User.id).where(User.email == email))


def filed(app, **fields) -> str:
    """A ticket filed by ann@acme.example (routed to the group "general") with a photo attached."""
    client = signed_in(app, "ann@acme.example")
    data = {"csrf_token": csrf_token(client), "subject": "Printer offline", "description": "It says offline",
            "category": "printers", "attachments": [(io.BytesIO(image("PNG")), "photo.png")], **fields}
    response = client.post("/tickets/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


@pytest.fixture
def ref(desk_app) -> str:
    return filed(desk_app)


def presence(client, ref: str, state: str = "viewing"):
    return client.post(f"/desk/tickets/{ref}/presence", json={"state": state},
                       headers={"X-CSRFToken": csrf_token(client, "/desk/")})


def new_routes(ref: str, agent_id: int) -> list[tuple[str, str, dict]]:
    return [("POST", f"/desk/tickets/{ref}/take", {}), ("POST", f"/desk/tickets/{ref}/assign", {"owner": ""}),
            ("POST", "/desk/bulk", {"ref": ref, "action": "assign", "owner": ""}),
            ("POST", f"/desk/tickets/{ref}/presence", {}), ("POST", f"/desk/tickets/{ref}/presence/leave", {})]


def admin_routes(agent_id: int) -> list[tuple[str, str, dict]]:
    return [("GET", f"/desk/admin/agents/{agent_id}", {}), ("POST", f"/desk/admin/agents/{agent_id}", {}),
            ("POST", f"/desk/admin/agents/{agent_id}/active", {"active": "0"})]


def call(client, method: str, path: str, data: dict):
    return client.get(path) if method == "GET" else post(client, path, data)


# --- who may use the new routes ----------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(desk_app, ref):
    client, alex = desk_app.test_client(), user_id(desk_app, ALEX)
    for method, path, data in new_routes(ref, alex) + admin_routes(alex):
        response = call(client, method, path, data)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in?next=/desk"), path
    assert row(desk_app, ref).owner_id is None


@pytest.mark.parametrize("email", ["ann@acme.example", "meg@acme.example", EDDY])
def test_to_customers_and_editors_the_new_routes_do_not_exist(desk_app, ref, email):
    client, alex = signed_in(desk_app, email), user_id(desk_app, ALEX)
    for method, path, data in new_routes(ref, alex) + admin_routes(alex):
        assert call(client, method, path, data).status_code == 404, (email, path)
    assert row(desk_app, ref).owner_id is None and row(desk_app, ref).events[-1].kind == "submitted"


def test_agents_use_the_desk_routes_but_not_the_staff_pages(desk_app, ref):
    agent, alex = signed_in(desk_app, ALEX), user_id(desk_app, ALEX)
    for method, path, data in admin_routes(alex):
        assert call(agent, method, path, data).status_code == 404, path
    assert post(agent, f"/desk/tickets/{ref}/take").status_code == 302
    assert presence(agent, ref).status_code == 200
    admin = signed_in(desk_app, ADA)
    assert admin.get(f"/desk/admin/agents/{alex}").status_code == 200
    assert post(admin, f"/desk/tickets/{ref}/assign", {"owner": ""}).status_code == 302
    assert row(desk_app, ref).owner_id is None


# --- ownership ---------------------------------------------------------------------------------------------------

def test_take_it_and_hand_over_show_in_the_desk_history_but_never_on_the_tracker(desk_app, ref):
    alex, bea = signed_in(desk_app, ALEX), signed_in(desk_app, BEA)
    page = alex.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert "Take it" in page and "Owner: <strong data-owner>nobody</strong>" in page
    options = re.search(r'<select[^>]*id="new-owner".*?</select>', page, re.DOTALL).group(0)
    assert "Alex" in options and "Bea" in options and "Ada" in options and "Eddy" not in options
    assert post(alex, f"/desk/tickets/{ref}/take").headers["Location"] == f"/desk/tickets/{ref}"
    assert row(desk_app, ref).owner_id == user_id(desk_app, ALEX)
    page = alex.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert "Take it" not in page and "<strong data-owner>Alex</strong>" in page
    assert re.search(r"Owner:\s*nobody → Alex", page)
    assert post(alex, f"/desk/tickets/{ref}/assign", {"owner": str(user_id(desk_app, BEA))}).status_code == 302
    assert row(desk_app, ref).owner_id == user_id(desk_app, BEA)
    assert re.search(r"Owner:\s*Alex → Bea", bea.get(f"/desk/tickets/{ref}").get_data(as_text=True))
    ann = signed_in(desk_app, "ann@acme.example")
    tracker = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert "Owner" not in tracker and "Alex" not in tracker and "Bea" not in tracker
    assert [e["kind"] for e in ann.get(f"/api/tickets/{ref}").get_json()["events"]] == ["submitted"]


def test_assign_refuses_a_deactivated_agent_or_an_unknown_value_and_changes_nothing(desk_app, ref):
    admin = signed_in(desk_app, ADA)
    assert post(admin, f"/desk/admin/agents/{user_id(desk_app, BEA)}/active", {"active": "0"}).status_code == 302
    response = post(admin, f"/desk/tickets/{ref}/assign", {"owner": str(user_id(desk_app, BEA))}, follow_redirects=True)
    assert "Owner: choose one of the agents offered." in response.get_data(as_text=True)
    assert post(admin, f"/desk/tickets/{ref}/assign", {"owner": "abc"}).status_code == 302
    assert post(admin, f"/desk/tickets/{ref}/assign", {"owner": str(user_id(desk_app, EDDY))}).status_code == 302
    assert row(desk_app, ref).owner_id is None and len(row(desk_app, ref).events) == 1
    assert admin.post(f"/desk/tickets/{ref}/take").status_code == 400  # no token at all


def test_queue_views_counts_and_owner_column(desk_app, ref):
    other = filed(desk_app, subject="Scanner jams")
    with desk_app.extensions["kb.db"].begin() as db:
        billing = create_ticket(db, db.scalar(select(User).where(User.email == "ann@acme.example")), "Invoice",
                                "wrong amount", group="billing").ref
    alex = signed_in(desk_app, ALEX)
    post(alex, f"/desk/tickets/{ref}/take")
    page = alex.get("/desk/").get_data(as_text=True)
    for view, count in (("all", 3), ("mine", 1), ("unassigned", 2), ("group", 2)):
        assert re.search(rf'data-view="{view}"[^>]*>[^<]+<span class="count">{count}</span>', page), view
    mine = re.search(rf'<tr data-ref="{ref}">.*?</tr>', page, re.DOTALL).group(0)
    assert '<td class="owner" data-label="Owner">Alex</td>' in mine
    listed = alex.get("/desk/?view=mine").get_data(as_text=True)
    assert f'data-ref="{ref}"' in listed and f'data-ref="{other}"' not in listed
    unassigned = alex.get("/desk/?view=unassigned").get_data(as_text=True)
    assert f'data-ref="{other}"' in unassigned and f'data-ref="{billing}"' in unassigned
    assert f'data-ref="{ref}"' not in unassigned
    group = alex.get("/desk/?view=group").get_data(as_text=True)
    assert f'data-ref="{billing}"' not in group and f'data-ref="{other}"' in group
    assert alex.get("/desk/?view=<script>").status_code == 200


# --- bulk actions ------------------------------------------------------------------------------------------------

def test_bulk_assign_and_status_give_each_ticket_its_event(desk_app, ref):
    other = filed(desk_app, subject="Scanner jams")
    alex = signed_in(desk_app, ALEX)
    response = post(alex, "/desk/bulk", {"ref": [ref, other], "action": "assign",
                                          "owner": str(user_id(desk_app, BEA)), "back": "view=unassigned"})
    assert response.status_code == 302 and response.headers["Location"] == "/desk/?view=unassigned"
    for r in (ref, other):
        assert row(desk_app, r).owner_id == user_id(desk_app, BEA) and row(desk_app, r).events[-1].kind == "assigned"
    assert post(alex, "/desk/bulk", {"ref": [ref, other], "action": "status", "status": "resolved"}).status_code == 302
    assert [row(desk_app, r).status for r in (ref, other)] == ["resolved", "resolved"]
    assert [e.kind for e in row(desk_app, other).events] == ["submitted", "assigned", "status"]


def test_a_refused_bulk_change_names_its_field_keeps_the_ticks_and_changes_nothing(desk_app, ref):
    other = filed(desk_app, subject="Scanner jams")
    alex = signed_in(desk_app, ALEX)
    post(alex, "/desk/bulk", {"ref": [ref], "action": "status", "status": "resolved"})
    response = post(alex, "/desk/bulk", {"ref": [ref, other], "action": "status", "status": "waiting_on_customer"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and f"status: {ref} cannot move" in page
    assert re.search(rf'value="{other}" form="bulk" checked', page)
    assert row(desk_app, other).status == "submitted"
    response = post(alex, "/desk/bulk", {"ref": [other], "action": "status", "status": ""})
    assert response.status_code == 400 and "Status: please fill this in." in response.get_data(as_text=True)
    response = post(alex, "/desk/bulk", {"action": "assign", "owner": ""})
    assert response.status_code == 400 and "Tickets: please tick at least one." in response.get_data(as_text=True)
    # An unknown ticket refuses the whole request: nothing is skipped silently.
    assert post(alex, "/desk/bulk", {"ref": [other, "KB-00000000"], "action": "assign", "owner": ""}).status_code == 404
    too_many = [other] * 201
    assert post(alex, "/desk/bulk", {"ref": too_many, "action": "assign", "owner": ""}).status_code == 400
    assert alex.post("/desk/bulk", data={"ref": [other], "action": "assign", "owner": ""}).status_code == 400  # CSRF
    assert len(row(desk_app, other).events) == 1


# --- the collision notice ----------------------------------------------------------------------------------------

def test_presence_tells_who_else_is_viewing_or_replying_until_they_leave(desk_app, ref):
    alex, bea = signed_in(desk_app, ALEX), signed_in(desk_app, BEA)
    assert presence(alex, ref).get_json()["others"] == []
    assert [o["text"] for o in presence(bea, ref).get_json()["others"]] == ["Alex is viewing"]
    assert [o["text"] for o in presence(alex, ref, "replying").get_json()["others"]] == ["Bea is viewing"]
    assert presence(bea, ref).get_json()["others"] == [{"name": "Alex", "state": "replying",
                                                        "text": "Alex is replying"}]
    assert post(alex, f"/desk/tickets/{ref}/presence/leave").status_code == 204
    assert presence(bea, ref).get_json()["others"] == []
    # Without the CSRF header the report is refused; a bad body counts as viewing.
    assert alex.post(f"/desk/tickets/{ref}/presence", json={"state": "viewing"}).status_code == 400
    response = alex.post(f"/desk/tickets/{ref}/presence", data="[1,", content_type="application/json",
                         headers={"X-CSRFToken": csrf_token(alex, "/desk/")})
    assert response.status_code == 200 and presence(bea, ref).get_json()["others"][0]["state"] == "viewing"
    assert presence(alex, "KB-00000000").status_code == 404


def test_a_reply_added_meanwhile_stops_the_send_once_and_keeps_the_text(desk_app, ref):
    alex, bea = signed_in(desk_app, ALEX), signed_in(desk_app, BEA)
    page = bea.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    assert post(alex, f"/desk/tickets/{ref}/reply", {"action": "send", "body": "Restart it, please."}).status_code == 302
    response = post(bea, f"/desk/tickets/{ref}/reply", {"action": "send", "body": "Bea's answer", "seen": seen})
    page = response.get_data(as_text=True)
    assert response.status_code == 409 and "Alex replied meanwhile — review before sending." in page
    assert "Bea&#39;s answer" in page and "Restart it, please." in page
    seen = re.search(r'name="seen" value="(\d+)"', page).group(1)
    assert len(row(desk_app, ref).events) == 2
    response = post(bea, f"/desk/tickets/{ref}/reply", {"action": "send", "body": "Bea's answer", "seen": seen})
    assert response.status_code == 302 and row(desk_app, ref).events[-1].body == "Bea's answer"
    # Her own reply and an ownership change are no one else's reply: they stop nothing.
    post(alex, f"/desk/tickets/{ref}/take")
    response = post(bea, f"/desk/tickets/{ref}/reply", {"action": "send", "body": "More", "seen": seen})
    assert response.status_code == 302 and row(desk_app, ref).events[-1].body == "More"


# --- the group restriction ---------------------------------------------------------------------------------------

def desk_routes(ref: str, attachment: int, notice: int) -> list[tuple[str, str, dict]]:
    return [("GET", f"/desk/tickets/{ref}", {}), ("POST", f"/desk/tickets/{ref}/reply", {"action": "send", "body": "x"}),
            ("POST", f"/desk/tickets/{ref}/status", {"status": "resolved"}),
            ("POST", f"/desk/tickets/{ref}/category", {"category": "vpn"}), ("POST", f"/desk/tickets/{ref}/draft", {}),
            ("POST", f"/desk/tickets/{ref}/take", {}), ("POST", f"/desk/tickets/{ref}/assign", {"owner": ""}),
            ("POST", f"/desk/tickets/{ref}/presence", {}), ("POST", f"/desk/tickets/{ref}/presence/leave", {}),
            ("POST", "/desk/bulk", {"ref": ref, "action": "status", "status": "resolved"}),
            ("GET", f"/tickets/{ref}/attachments/{attachment}", {}),
            ("POST", f"/desk/notices/{notice}/tickets/{ref}/detach", {})]


def test_with_the_restriction_another_groups_ticket_does_not_exist_for_an_agent(restricted_app):
    ref = filed(restricted_app)  # group "general": Alex's, not Bea's
    alex, bea, ada = (signed_in(restricted_app, e) for e in (ALEX, BEA, ADA))
    with restricted_app.extensions["kb.db"]() as db:
        attachment = db.scalar(select(Attachment.id))
    post(alex, "/desk/notices/", {"title": "Printers down", "body": "", "category": "", "starts_at": "",
                                  "ends_at": ""})
    with restricted_app.extensions["kb.db"]() as db:
        notice = db.scalar(select(Notice.id))
    assert post(alex, f"/desk/notices/{notice}/tickets", {"ref": ref}).status_code == 302
    for method, path, data in desk_routes(ref, attachment, notice):
        assert call(bea, method, path, data).status_code == 404, path
    assert bea.get(f"/tickets/{ref}/attachments/{attachment}/preview").status_code == 404
    assert f'data-ref="{ref}"' not in bea.get("/desk/").get_data(as_text=True)
    notice_page = bea.get(f"/desk/notices/{notice}").get_data(as_text=True)
    assert f'data-ref="{ref}"' not in notice_page and "1 more attached ticket belongs to another agent group." in notice_page
    response = post(bea, f"/desk/notices/{notice}/tickets", {"ref": ref, "back": "ticket"}, follow_redirects=True)
    assert f"there is no ticket {ref}" in response.get_data(as_text=True)
    found = row(restricted_app, ref)
    assert (found.status, found.owner_id, found.category, len(found.events)) == ("submitted", None, "printers", 1)
    # Bea's own group's ticket of the same customer lists none of the customer's tickets she may not see.
    with restricted_app.extensions["kb.db"].begin() as db:
        billing = create_ticket(db, db.scalar(select(User).where(User.email == "ann@acme.example")), "Invoice",
                                "wrong amount", group="billing").ref
    page = bea.get(f"/desk/tickets/{billing}").get_data(as_text=True)
    assert "Invoice" in page and ref not in page
    assert ref in ada.get(f"/desk/tickets/{billing}").get_data(as_text=True)
    # Alex (the ticket's group) and Ada (an admin) see and work it.
    for client in (alex, ada):
        assert client.get(f"/desk/tickets/{ref}").status_code == 200
        assert f'data-ref="{ref}"' in client.get("/desk/").get_data(as_text=True)
        assert client.get(f"/tickets/{ref}/attachments/{attachment}").status_code == 200
        assert f'data-ref="{ref}"' in client.get(f"/desk/notices/{notice}").get_data(as_text=True)
    assert post(alex, f"/desk/tickets/{ref}/take").status_code == 302


def test_without_the_restriction_every_agent_sees_every_ticket(desk_app, ref):
    bea = signed_in(desk_app, BEA)
    assert bea.get(f"/desk/tickets/{ref}").status_code == 200
    assert f'data-ref="{ref}"' in bea.get("/desk/").get_data(as_text=True)


# --- staff accounts ----------------------------------------------------------------------------------------------

def test_admins_edit_an_agents_name_role_and_group(desk_app):
    admin, bea = signed_in(desk_app, ADA), user_id(desk_app, BEA)
    response = post(admin, f"/desk/admin/agents/{bea}", {"name": "Bea Torres", "role": "admin", "group": "billing-2"})
    assert response.status_code == 302
    with desk_app.extensions["kb.db"]() as db:
        changed = db.get(User, bea)
        assert (changed.name, changed.role, changed.agent_group) == ("Bea Torres", "admin", "billing-2")
    response = post(admin, f"/desk/admin/agents/{bea}", {"name": "Typed name", "role": "agent", "group": "bad group!"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "group: a group name has" in page and 'value="Typed name"' in page
    response = post(admin, f"/desk/admin/agents/{bea}", {"name": "x", "role": "manager", "group": ""})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = post(admin, f"/desk/admin/agents/{user_id(desk_app, ADA)}", {"name": "Ada", "role": "agent", "group": ""})
    assert response.status_code == 400 and "cannot take their own admin role" in response.get_data(as_text=True)
    assert admin.get(f"/desk/admin/agents/{user_id(desk_app, 'ann@acme.example')}").status_code == 404  # a customer
    assert admin.get("/desk/admin/agents/99999999999").status_code == 404
    page = admin.get("/desk/admin/").get_data(as_text=True)
    assert f'href="/desk/admin/agents/{bea}"' in page


def test_a_deactivated_agent_is_signed_out_cannot_sign_in_or_be_assigned_and_keeps_their_history(desk_app, ref):
    alex_client, admin = signed_in(desk_app, ALEX), signed_in(desk_app, ADA)
    assert post(alex_client, f"/desk/tickets/{ref}/reply", {"action": "send", "body": "Restart it"}).status_code == 302
    post(alex_client, f"/desk/tickets/{ref}/take")
    alex = user_id(desk_app, ALEX)
    response = post(admin, f"/desk/admin/agents/{alex}/active", {"active": "0"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "The account is deactivated" in page and f'data-ref="{ref}"' in page  # their open ticket, to reassign
    assert f'data-ref="{ref}"' in admin.get("/desk/admin/").get_data(as_text=True)
    assert alex_client.get("/desk/").headers["Location"].startswith("/sign-in")  # the session ended
    assert sign_in(desk_app.test_client(), ALEX).status_code == 401  # the form again: no sign-in
    ticket_page = admin.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    options = re.search(r'<select[^>]*id="new-owner".*?</select>', ticket_page, re.DOTALL).group(0)
    assert "Alex" not in options and "Restart it" in ticket_page and "by alex@desk.example" in ticket_page
    assert post(admin, f"/desk/tickets/{ref}/assign", {"owner": ""}).status_code == 302
    assert row(desk_app, ref).owner_id is None
    response = post(admin, f"/desk/admin/agents/{alex}/active", {"active": "1"})
    assert response.status_code == 302 and sign_in(desk_app.test_client(), ALEX).status_code == 302


def test_an_admin_cannot_deactivate_themselves(desk_app):
    admin, ada = signed_in(desk_app, ADA), user_id(desk_app, ADA)
    assert "Deactivate" not in admin.get(f"/desk/admin/agents/{ada}").get_data(as_text=True)
    response = post(admin, f"/desk/admin/agents/{ada}/active", {"active": "0"}, follow_redirects=True)
    assert "You cannot deactivate your own account." in response.get_data(as_text=True)
    assert admin.get("/desk/").status_code == 200
