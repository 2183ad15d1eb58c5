"""Attachments through the portal and the desk (Flask's test client): filing and replying with files, refusals
that keep what was typed, who may download what, and the headers every download carries."""
from __future__ import annotations

import io
import re
from dataclasses import replace

import pytest
from PIL import Image
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.attachment_models import Attachment
from kb.helpdesk.models import TicketEvent
from tests.files import EXE, HTML, LOG, PDF, SVG, image
from tests.portal import PASSWORD, add_people, csrf_token, make_app, sign_in, tickets

AGENT, ADMIN, EDITOR = "agent@desk.example", "admin@desk.example", "editor@desk.example"
SUBJECT, DESCRIPTION = "Printer shows an error", "The display says E-42 after every job, photo attached"


@pytest.fixture
def files_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general")
        add_staff(session, ADMIN, PASSWORD, "admin", "")
        add_staff(session, EDITOR, PASSWORD, "editor", "")
    return app


def signed_in(app, email: str | None):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def upload(client, path: str, fields: dict, files: list[tuple[str, bytes]]):
    """A multipart form POST as a browser sends it: the text fields, then the chosen files."""
    data = {"csrf_token": csrf_token(client), **fields,
            "attachments": [(io.BytesIO(content), name) for name, content in files]}
    return client.post(path, data=data, content_type="multipart/form-data")


def file_with(client, files, subject=SUBJECT, description=DESCRIPTION):
    return upload(client, "/tickets/new", {"subject": subject, "description": description, "category": "printers"},
                  files)


def rows(app) -> list[Attachment]:
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(Attachment).order_by(Attachment.id)))


@pytest.fixture
def filed(files_app):
    """ann's ticket with a photo (with EXIF) and a log: (ref, [photo, log])."""
    response = file_with(signed_in(files_app, "ann@acme.example"),
                         [("error.jpg", image("JPEG", (1200, 900), exif=True)), ("printer.log", LOG)])
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1], rows(files_app)


# --- filing and replying ---------------------------------------------------------------------------------------

def test_a_ticket_is_filed_with_its_files_listed_under_the_request(files_app, filed):
    ref, (photo, log) = filed
    page = signed_in(files_app, "ann@acme.example").get(f"/tickets/{ref}").get_data(as_text=True)
    request_part = page.split('<h2 id="history">')[0]
    assert f'href="/tickets/{ref}/attachments/{photo.id}"' in request_part
    assert f'src="/tickets/{ref}/attachments/{photo.id}/preview"' in request_part
    assert "error.jpg" in request_part and "printer.log" in request_part
    assert f"/attachments/{log.id}/preview" not in page  # a log has no preview
    assert (photo.content_type, log.content_type) == ("image/jpeg", "text/plain")
    assert photo.event_id == tickets(files_app)[0].id and photo.ticket_id == tickets(files_app)[0].id


def test_the_form_takes_files(files_app):
    page = signed_in(files_app, "ann@acme.example").get("/tickets/new").get_data(as_text=True)
    form = re.search(r'<form[^>]*id="ticket-form"[^>]*>', page).group(0)
    assert 'enctype="multipart/form-data"' in form
    field = re.search(r'<input[^>]*name="attachments"[^>]*>', page).group(0)
    assert "multiple" in field and "image/png" in field and ".log" in field
    assert "Up to 5 files of at most 10 MB each" in page


@pytest.mark.parametrize("name, content, words", [
    ("setup.png", EXE, "it is a Windows program"), ("photo.jpg", HTML, "can carry scripts"),
    ("logo.svg", SVG, "can carry scripts"),
])
def test_a_refused_file_is_named_and_the_typed_text_kept(files_app, name, content, words):
    client = signed_in(files_app, "ann@acme.example")
    response = file_with(client, [("fine.png", image()), (name, content)],
                         subject="Typed subject <kept>", description="Typed description, every word of it")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f"“{name}”" in page and words in page
    assert 'value="Typed subject &lt;kept&gt;"' in page and "Typed description, every word of it</textarea>" in page
    assert "choose the files again" in page
    assert tickets(files_app) == [] and rows(files_app) == []


def test_a_customer_reply_carries_its_files(files_app, filed):
    ref, _ = filed
    client = signed_in(files_app, "ann@acme.example")
    response = upload(client, f"/tickets/{ref}/reply", {"body": "Here is the error page"}, [("page.pdf", PDF)])
    assert response.status_code == 302
    reply_file = rows(files_app)[-1]
    assert (reply_file.filename, reply_file.content_type) == ("page.pdf", "application/pdf")
    history = client.get(f"/tickets/{ref}").get_data(as_text=True).split('<h2 id="history">')[1]
    reply_item = history.split("Here is the error page")[1].split("</li>")[0]
    assert f"/tickets/{ref}/attachments/{reply_file.id}" in reply_item


def test_a_refused_reply_keeps_its_text(files_app, filed):
    ref, _ = filed
    client = signed_in(files_app, "ann@acme.example")
    response = upload(client, f"/tickets/{ref}/reply", {"body": "My reply as typed"}, [("shot.png", EXE)])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "“shot.png”" in page and "My reply as typed</textarea>" in page
    assert len(rows(files_app)) == 2


def test_an_agent_reply_carries_its_files_and_a_refusal_keeps_the_draft(files_app, filed):
    ref, _ = filed
    agent = signed_in(files_app, AGENT)
    refused = upload(agent, f"/desk/tickets/{ref}/reply", {"body": "Try this driver", "action": "send", "status": ""},
                     [("driver.png", EXE)])
    assert refused.status_code == 400
    assert "“driver.png”" in refused.get_data(as_text=True) and "Try this driver</textarea>" in refused.get_data(True)
    sent = upload(agent, f"/desk/tickets/{ref}/reply", {"body": "See the steps", "action": "send", "status": ""},
                  [("steps.png", image("PNG", (300, 200)))])
    assert sent.status_code == 302
    steps = rows(files_app)[-1]
    assert steps.filename == "steps.png" and steps.preview_type == "image/png"
    customer_page = signed_in(files_app, "ann@acme.example").get(f"/tickets/{ref}").get_data(as_text=True)
    assert "See the steps" in customer_page and f"/attachments/{steps.id}/preview" in customer_page
    desk_page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert f"/attachments/{steps.id}" in desk_page.split("See the steps")[1]


# --- limits ----------------------------------------------------------------------------------------------------

@pytest.fixture
def small_app(portal_index, portal_settings):
    """At most two files of 1 MB each per message: requests of up to 3 MB are read."""
    app = make_app(replace(portal_settings, attachment_max_mb=1, attachments_per_message=2), portal_index[1])
    add_people(app)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general")
    return app


def test_a_file_over_the_size_limit_is_refused_by_name(small_app):
    big = PDF + b"\x00" * (1024 * 1024 + 1)
    response = file_with(signed_in(small_app, "ann@acme.example"), [("manual.pdf", big)])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "“manual.pdf”" in page and "at most 1 MB" in page
    assert tickets(small_app) == []


def test_too_many_files_are_refused(small_app):
    response = file_with(signed_in(small_app, "ann@acme.example"),
                         [("a.log", LOG), ("b.log", LOG), ("c.log", LOG)])
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "“c.log”" in page and "at most 2 files" in page
    assert tickets(small_app) == []


def test_a_request_too_large_to_read_is_a_form_error_with_the_text_kept(small_app):
    huge = PDF + b"\x00" * (4 * 1024 * 1024)  # beyond what two files of 1 MB and their text can add up to
    response = file_with(signed_in(small_app, "ann@acme.example"), [("scan.pdf", huge)],
                         subject="Scanner jams", description="It jams on page two")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The files together are larger than 3 MB" in page
    assert 'value="Scanner jams"' in page and "It jams on page two</textarea>" in page
    assert tickets(small_app) == []


def test_an_agent_reply_too_large_to_read_keeps_the_draft(small_app):
    ref = file_with(signed_in(small_app, "ann@acme.example"), []).headers["Location"].rsplit("/", 1)[1]
    agent = signed_in(small_app, AGENT)
    # The send button comes after the file input: the request is taken as a send, and refused, not as a search.
    response = upload(agent, f"/desk/tickets/{ref}/reply", {"body": "Draft kept as typed", "status": ""},
                      [("trace.log", LOG * 4000)])
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The files together are larger than 3 MB" in page and "Draft kept as typed</textarea>" in page
    with small_app.extensions["kb.db"]() as db:
        assert db.scalars(select(TicketEvent.kind)).all() == ["submitted"]
    assert rows(small_app) == []


def test_other_requests_keep_the_small_limit(small_app):
    client = signed_in(small_app, "ann@acme.example")
    response = client.post("/contact", data={"csrf_token": csrf_token(client), "subject": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


# --- who may download ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("email, allowed", [
    (None, False), ("ann@acme.example", True), ("bob@acme.example", False), ("meg@acme.example", True),
    ("oz@other.example", False), (AGENT, True), (ADMIN, True), (EDITOR, False),
])
def test_only_people_who_see_the_ticket_get_its_files(files_app, filed, email, allowed):
    ref, (photo, log) = filed
    client = signed_in(files_app, email)
    for path in (f"/tickets/{ref}/attachments/{log.id}", f"/tickets/{ref}/attachments/{photo.id}/preview"):
        response = client.get(path)
        if allowed:
            assert response.status_code == 200, path
        else:
            assert response.status_code in (302, 404), path
            assert b"2026-12-02" not in response.data and not response.data.startswith(b"\xff\xd8")
            if response.status_code == 302:
                assert "/sign-in" in response.headers["Location"]


def test_an_attachment_is_reachable_only_through_its_own_ticket(files_app, filed):
    ref, (photo, _) = filed
    other = file_with(signed_in(files_app, "ann@acme.example"), [], subject="Another one")
    other_ref = other.headers["Location"].rsplit("/", 1)[1]
    ann = signed_in(files_app, "ann@acme.example")
    assert ann.get(f"/tickets/{other_ref}/attachments/{photo.id}").status_code == 404
    assert ann.get(f"/tickets/{ref}/attachments/{photo.id + 100}").status_code == 404
    assert ann.get(f"/tickets/{ref}/attachments/{photo.id}/../{photo.id}").status_code in (200, 308, 404)


def test_downloads_are_attachments_of_the_detected_type_sandboxed(files_app, filed):
    ref, (photo, log) = filed
    client = signed_in(files_app, "ann@acme.example")
    response = client.get(f"/tickets/{ref}/attachments/{log.id}")
    assert response.data == LOG
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "printer.log" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    original = client.get(f"/tickets/{ref}/attachments/{photo.id}")
    assert original.mimetype == "image/jpeg" and original.headers["Content-Disposition"].startswith("attachment;")
    assert b"SecretCam" in original.data  # the original is kept as sent; only downloads serve it


def test_a_disguised_file_is_served_as_what_it_is(files_app):
    from kb.helpdesk.storage import storage_from

    response = file_with(signed_in(files_app, "ann@acme.example"), [("invoice.exe", PDF)])
    ref = response.headers["Location"].rsplit("/", 1)[1]
    (stored,) = rows(files_app)
    assert stored.filename == "invoice.pdf"
    download = signed_in(files_app, "ann@acme.example").get(f"/tickets/{ref}/attachments/{stored.id}")
    assert download.mimetype == "application/pdf" and "invoice.pdf" in download.headers["Content-Disposition"]
    assert storage_from(files_app.config["KB_SETTINGS"]).open(stored.storage_key).read() == PDF


def test_the_preview_is_a_re_encoded_inline_image_without_exif(files_app, filed):
    ref, (photo, _) = filed
    response = signed_in(files_app, "meg@acme.example").get(f"/tickets/{ref}/attachments/{photo.id}/preview")
    assert response.mimetype in ("image/jpeg", "image/png")
    assert response.headers["Content-Disposition"].startswith("inline")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    thumbnail = Image.open(io.BytesIO(response.data))
    assert max(thumbnail.size) <= 320 and not thumbnail.getexif()
    assert b"SecretCam" not in response.data


def test_a_file_missing_from_the_storage_is_404_not_500(files_app, filed):
    from kb.helpdesk.storage import storage_from

    ref, (_, log) = filed
    storage_from(files_app.config["KB_SETTINGS"]).delete(log.storage_key)
    assert signed_in(files_app, "ann@acme.example").get(f"/tickets/{ref}/attachments/{log.id}").status_code == 404


def test_attachments_can_be_switched_off(portal_index, portal_settings):
    app = make_app(replace(portal_settings, attachments_per_message=0), portal_index[1])
    add_people(app)
    client = signed_in(app, "ann@acme.example")
    assert 'name="attachments"' not in client.get("/tickets/new").get_data(as_text=True)
    response = file_with(client, [("a.log", LOG)])
    assert response.status_code == 400 and "at most 0 files" in response.get_data(as_text=True)
