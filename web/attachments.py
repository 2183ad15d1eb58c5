"""Downloading a ticket's attachments and viewing their previews, for the people who may see the ticket.

A customer sees the attachments of the tickets they see (kb.helpdesk.accounts.can_see_ticket); agents and admins
those of the tickets they see on the desk (kb.helpdesk.access.staff_can_see). To anyone else an attachment does
not exist (404), whatever its number. Every response names the detected type, forbids sniffing another (`nosniff`) and sandboxes the document (CSP), and
an original is always a download (`Content-Disposition: attachment`): only the re-encoded preview of an image is
ever shown inline.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, send_file, url_for

from kb.helpdesk.accounts import can_see_ticket
from kb.helpdesk.attachment_models import Attachment
from kb.helpdesk.attachments import find_attachment
from kb.helpdesk.tickets import find_ticket
from web.context import current_user, db
from web.desk_access import may_see

bp = Blueprint("attachments", __name__)
SANDBOX = "default-src 'none'; img-src 'self'; sandbox"


def _visible_attachment(ref: str, attachment_id: int) -> Attachment:
    user = current_user()
    ticket = find_ticket(db(), ref) if len(ref) <= 16 else None
    if ticket is None or not (may_see(ticket) or can_see_ticket(user, ticket)):
        abort(404)
    found = find_attachment(db(), ticket, attachment_id)
    if found is None:
        abort(404)
    return found


def _send(key: str, content_type: str, name: str, as_attachment: bool):
    try:
        handle = current_app.extensions["kb.storage"].open(key)
    except (FileNotFoundError, ValueError):
        abort(404)
    response = send_file(handle, mimetype=content_type, as_attachment=as_attachment, download_name=name,
                         conditional=False, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = SANDBOX
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.get("/tickets/<ref>/attachments/<int:attachment_id>")
def download(ref: str, attachment_id: int):
    if current_user() is None:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    found = _visible_attachment(ref, attachment_id)
    return _send(found.storage_key, found.content_type, found.filename, as_attachment=True)


@bp.get("/tickets/<ref>/attachments/<int:attachment_id>/preview")
def preview(ref: str, attachment_id: int):
    if current_user() is None:
        abort(404)
    found = _visible_attachment(ref, attachment_id)
    if not found.preview_key:
        abort(404)
    extension = "jpg" if found.preview_type == "image/jpeg" else "png"
    stem = found.filename.rsplit(".", 1)[0]
    return _send(found.preview_key, found.preview_type, f"{stem}-preview.{extension}", as_attachment=False)
