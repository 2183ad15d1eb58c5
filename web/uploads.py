"""Files sent with the portal's and the desk's forms: the request size they may reach, reading them, and the
refusals worded in the reader's language.

The app's MAX_CONTENT_LENGTH (1 MiB) stays the limit of every other request; the forms that take files get room
for `attachments_per_message` files of `attachment_max_mb` each (plus their text). A request larger still is not
answered with a 413 page: its text fields, which browsers send before the files, are read from the start of the
body, and the form is shown again with what was typed and an error on the files.
"""
from __future__ import annotations

from flask import Flask, current_app, g, request
from flask_babel import format_decimal, gettext as _
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.multipart import NEED_DATA, Data, Epilogue, Field, File, MultipartDecoder

from kb.errors import AttachmentError
from kb.helpdesk.attachments import (EMPTY, MARKUP_TYPE, MB, REQUEST_TOO_LARGE, TOO_LARGE, TOO_MANY, Checked, Limits,
                                     Problem, attach, check_files, limits)
from kb.helpdesk.file_types import KNOWN, describe
from kb.helpdesk.storage import storage_from
from web.context import db

UPLOAD_ENDPOINTS = frozenset({"support.new_ticket", "support.reply", "desk.reply"})
FIELD = "attachments"
_TEXT_PREFIX_MAX = 512 * 1024  # how much of an oversized body is read for its text fields
_CHUNK = 64 * 1024


def init_app(app: Flask) -> None:
    settings = app.config["KB_SETTINGS"]
    app.extensions["kb.storage"] = storage_from(settings)
    app.extensions["kb.attachment_limits"] = limits(settings)
    # First of all before-request functions: CSRF protection reads the form, which must not be refused first.
    app.before_request_funcs.setdefault(None, []).insert(0, _size_request)

    @app.context_processor
    def attachment_context() -> dict:
        rules = attachment_limits()
        return {"attachment_limits": rules, "attachment_accept": accept(rules)}


def attachment_limits() -> Limits:
    return current_app.extensions["kb.attachment_limits"]


def accept(rules: Limits) -> str:
    """The file input's `accept` attribute: the allowed types and their extensions (a hint to the file chooser;
    the server checks every file's content)."""
    return ",".join([*rules.types, *("." + e for t in rules.types for e in KNOWN[t][0])])


def _size_request() -> None:
    if request.method != "POST" or request.endpoint not in UPLOAD_ENDPOINTS:
        return
    limit = attachment_limits().request_bytes
    if request.content_length is not None and request.content_length > limit \
            and request.mimetype == "multipart/form-data" and request.mimetype_params.get("boundary"):
        fields = _leading_fields(request.mimetype_params["boundary"].encode("latin-1"),
                                 min(request.content_length, _TEXT_PREFIX_MAX))
        request.__dict__["form"] = ImmutableMultiDict(fields)
        request.__dict__["files"] = ImmutableMultiDict()
        g.kb_upload_too_large = True
    else:
        request.max_content_length = limit


def _leading_fields(boundary: bytes, budget: int) -> list[tuple[str, str]]:
    """The text fields at the start of a multipart body, up to the first file (or `budget` bytes)."""
    decoder = MultipartDecoder(boundary, max_form_memory_size=budget)
    stream = request.environ["wsgi.input"]
    fields: list[tuple[str, str]] = []
    name, parts, read = None, [], 0
    while True:
        event = decoder.next_event()
        if event is NEED_DATA:
            if read >= budget:
                return fields
            chunk = stream.read(min(_CHUNK, budget - read))
            read += len(chunk)
            decoder.receive_data(chunk or None)
        elif isinstance(event, File) or isinstance(event, Epilogue):
            return fields
        elif isinstance(event, Field):
            name, parts = event.name, []
        elif isinstance(event, Data) and name is not None:
            parts.append(event.data)
            if not event.more_data:
                fields.append((name, b"".join(parts).decode("utf-8", "replace")))
                name = None


def upload_too_large() -> bool:
    """Whether this request was too large to read its files (its text fields were kept)."""
    return bool(g.get("kb_upload_too_large"))


def uploaded_files() -> list[tuple[str, bytes]]:
    """The files of this request's file input, as (file name, bytes); an empty input sends none.
    AttachmentError when the request was too large to read them."""
    if upload_too_large():
        raise AttachmentError([Problem("", REQUEST_TOO_LARGE, limit=attachment_limits().request_bytes // MB)])
    return [(f.filename, f.read()) for f in request.files.getlist(FIELD) if f.filename]


def checked_files(field) -> list[Checked] | None:
    """This request's files if every one may be attached; else None, with the reasons on the form's `field`."""
    try:
        return check_files(current_app.config["KB_SETTINGS"], uploaded_files())
    except AttachmentError as exc:
        field.errors = list(field.errors or []) + messages(exc)
        return None


def store_files(ticket, event, files: list[Checked], uploader) -> None:
    """Attach already checked files to `event` (in the caller's transaction)."""
    if files:
        attach(db(), current_app.extensions["kb.storage"], current_app.config["KB_SETTINGS"], ticket=ticket,
               event=event, files=[(f.filename, f.data) for f in files], uploader=uploader)


def messages(error: AttachmentError) -> list[str]:
    """Each refused file's reason, in the page's language."""
    return [message(p) for p in error.problems]


def message(problem: Problem) -> str:
    name = problem.filename
    if problem.rule == EMPTY:
        return _("“%(name)s” is empty.", name=name)
    if problem.rule == TOO_LARGE:
        return _("“%(name)s” is %(size)s MB; a file may have at most %(max)d MB.", name=name,
                 size=format_decimal(problem.size / MB, "0.0"), max=problem.limit)
    if problem.rule == TOO_MANY:
        return _("“%(name)s” is past the limit: at most %(max)d files may come with one message.", name=name,
                 max=problem.limit)
    if problem.rule == MARKUP_TYPE:
        return _("“%(name)s” is %(type)s, which can carry scripts, so it cannot be attached. Send a screenshot "
                 "(PNG or JPEG) or a PDF instead.", name=name, type=describe(problem.content_type))
    if problem.rule == REQUEST_TOO_LARGE:
        return _("The files together are larger than %(max)d MB. Choose fewer or smaller files.", max=problem.limit)
    return _("“%(name)s” is not a file type we accept (by its content it is %(type)s, whatever its name says). "
             "Allowed: %(allowed)s.", name=name, type=describe(problem.content_type), allowed=problem.allowed)

