"""Attachments in the help desk's core: the storage, telling a file's type by its content, the rules (size, count,
types) and `attach`, and image previews re-encoded without their metadata."""
from __future__ import annotations

import io
import stat
import zipfile
from dataclasses import replace

import pytest
from PIL import Image
from sqlalchemy import select

from kb.config import Settings
from kb.errors import AttachmentError, ConfigError
from kb.helpdesk.accounts import add_organisation, add_user
from kb.helpdesk.attachment_models import Attachment
from kb.helpdesk.attachments import (EMPTY, MARKUP_TYPE, NOT_ALLOWED, TOO_LARGE, TOO_MANY, attach,
                                     attachments_by_event, check_files)
from kb.helpdesk.db import open_database
from kb.helpdesk.file_types import display_name, sniff
from kb.helpdesk.previews import PREVIEW_SIZE, preview
from kb.helpdesk.storage import LocalStorage, check_key, new_key
from kb.helpdesk.tickets import add_reply, create_ticket
from tests.files import EXE, HTML, LOG, PDF, SVG, image, png_claiming, zip_bomb


@pytest.fixture
def store(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "attachments")


@pytest.fixture
def rules(tmp_path) -> Settings:
    return replace(Settings(), attachments_dir=tmp_path / "attachments", attachment_max_mb=1,
                   attachments_per_message=3)


@pytest.fixture
def desk(database_url):
    """A database with one customer's ticket: (session, ticket, customer)."""
    _engine, sessions = open_database(database_url)
    db = sessions()
    add_organisation(db, "Acme")
    ann = add_user(db, "ann@acme.example", "correct horse battery", "Acme")
    ticket = create_ticket(db, ann, "Printer offline", "It says offline")
    db.commit()
    yield db, ticket, ann
    db.close()


# --- storage ---------------------------------------------------------------------------------------------------

def test_storage_puts_opens_and_deletes_private_files(store):
    key = new_key()
    store.put(key, b"first")
    store.put(key, b"second")  # replaced whole
    with store.open(key) as fh:
        assert fh.read() == b"second"
    path = store.root / key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left behind
    store.delete(key)
    store.delete(key)  # deleting what is gone is no error
    with pytest.raises(FileNotFoundError):
        store.open(key)


@pytest.mark.parametrize("key", ["../secret", "ab/../../etc/passwd", "/etc/passwd", "photo.png", "AB/" + "0" * 32])
def test_storage_refuses_keys_it_did_not_make(store, key):
    with pytest.raises(ValueError):
        store.put(key, b"x")
    with pytest.raises(ValueError):
        check_key(key)


def test_an_attachment_dir_inside_the_web_root_is_refused(tmp_path):
    from kb.config import load_settings

    with pytest.raises(ConfigError, match="attachments_dir"):
        load_settings(environ={}, attachments_dir="web/static/uploads")
    assert load_settings(environ={}, attachments_dir=str(tmp_path)).attachments_dir == tmp_path


def test_the_allow_list_never_takes_markup_or_unknown_types():
    from kb.config import load_settings

    with pytest.raises(ConfigError, match="image/svg\\+xml"):
        load_settings(environ={}, attachment_types="image/png, image/svg+xml")
    with pytest.raises(ConfigError, match="application/x-msdownload"):
        load_settings(environ={}, attachment_types="image/png application/x-msdownload")
    assert load_settings(environ={}, attachment_types="image/png,application/pdf").attachment_types


# --- types by content ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, expected", [
    (image("PNG"), "image/png"), (image("JPEG"), "image/jpeg"), (image("GIF"), "image/gif"),
    (image("WEBP"), "image/webp"), (PDF, "application/pdf"), (LOG, "text/plain"), (b"a,b\n1,2\n", "text/plain"),
    (zip_bomb(1), "application/zip"), (EXE, "application/x-msdownload"), (HTML, "text/html"),
    (SVG, "image/svg+xml"), (b'<?xml version="1.0"?>\n' + SVG, "image/svg+xml"),
    (b"\n  <html><p>hi</p></html>", "text/html"), (bytes(range(256)) * 4, "application/octet-stream"),
    (b"<!--" + b" " * 9000 + b"-->" + SVG, "image/svg+xml"), (b"GET /index.html 200\n" * 10, "text/plain"),
])
def test_a_type_is_told_by_content(data, expected):
    assert sniff(data) == expected


@pytest.mark.parametrize("name, mime, shown", [
    ("photo.exe", "image/png", "photo.png"), ("Screen Shot.PNG", "image/png", "Screen Shot.png"),
    ("../../etc/passwd", "text/plain", "passwd.txt"), ("server.log", "text/plain", "server.log"),
    ("data.csv", "text/plain", "data.csv"), ("\u202egnp.exe", "image/png", "gnp.png"),
    ("отчёт.jpeg", "image/jpeg", "отчёт.jpeg"), ("", "application/pdf", "file.pdf"),
    ('a<b>"c".pdf', "application/pdf", "a_b__c_.pdf"),
])
def test_the_stored_name_is_cleaned_and_agrees_with_the_type(name, mime, shown):
    assert display_name(name, mime) == shown


# --- the rules -------------------------------------------------------------------------------------------------

def refusal(settings, files) -> AttachmentError:
    with pytest.raises(AttachmentError) as caught:
        check_files(settings, files)
    return caught.value


def test_an_exe_renamed_png_is_refused_by_name(rules):
    error = refusal(rules, [("setup.png", EXE)])
    assert (error.filename, error.rule) == ("setup.png", NOT_ALLOWED)
    assert "“setup.png”" in str(error) and "allowed: PNG" in str(error)


@pytest.mark.parametrize("name, data", [("photo.jpg", HTML), ("logo.svg", SVG), ("logo.png", SVG)])
def test_markup_is_refused_whatever_its_name(rules, name, data):
    error = refusal(rules, [(name, data)])
    assert (error.filename, error.rule) == (name, MARKUP_TYPE)
    assert "scripts" in str(error) and name in str(error)


def test_every_refused_file_is_named_once(rules):
    ok = image("PNG", (40, 30))
    error = refusal(rules, [("a.png", ok), ("empty.txt", b""), ("big.pdf", PDF + b"\x00" * (1024 * 1024)),
                            ("d.png", ok), ("e.png", ok)])
    assert [(p.filename, p.rule) for p in error.problems] == [("empty.txt", EMPTY), ("big.pdf", TOO_LARGE),
                                                              ("d.png", TOO_MANY), ("e.png", TOO_MANY)]
    assert "at most 1 MB" in str(error) and "at most 3 files" in str(error)


def test_a_file_of_exactly_the_limit_passes(rules):
    exact = PDF + b"\x00" * (1024 * 1024 - len(PDF))
    assert [c.content_type for c in check_files(rules, [("exact.pdf", exact)])] == ["application/pdf"]
    assert refusal(rules, [("over.pdf", exact + b"\x00")]).rule == TOO_LARGE


def test_types_outside_the_allow_list_are_refused(rules):
    only_images = replace(rules, attachment_types="image/png, image/jpeg")
    error = refusal(only_images, [("report.pdf", PDF)])
    assert error.rule == NOT_ALLOWED and "PDF" in str(error) and "allowed: PNG, JPEG" in str(error)


# --- attach ----------------------------------------------------------------------------------------------------

def test_attach_stores_files_under_random_keys_with_their_facts(desk, rules, store):
    import hashlib

    db, ticket, ann = desk
    png = image("PNG")
    added = attach(db, store, rules, ticket=ticket, event=ticket.events[0], uploader=ann,
                   files=[("../../etc/passwd.exe", png), ("server.log", LOG)])
    db.commit()
    rows = db.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [a.id for a in added] == [a.id for a in rows]
    first, second = rows
    assert (first.filename, first.content_type, first.size) == ("passwd.png", "image/png", len(png))
    assert first.sha256 == hashlib.sha256(png).hexdigest()
    assert (first.ticket_id, first.event_id, first.uploader_id) == (ticket.id, ticket.events[0].id, ann.id)
    assert "passwd" not in first.storage_key and check_key(first.storage_key)
    with store.open(first.storage_key) as fh:
        assert fh.read() == png
    assert first.preview_key and first.preview_type == "image/png"
    assert (second.filename, second.content_type, second.preview_key) == ("server.log", "text/plain", "")
    assert attachments_by_event(db, ticket) == {ticket.events[0].id: [first, second]}


def test_a_refused_batch_stores_nothing(desk, rules, store):
    db, ticket, ann = desk
    with pytest.raises(AttachmentError):
        attach(db, store, rules, ticket=ticket, event=ticket.events[0], uploader=ann,
               files=[("fine.png", image()), ("setup.png", EXE)])
    assert db.scalars(select(Attachment)).all() == []
    assert not store.root.exists() or not any(p.is_file() for p in store.root.rglob("*"))


def test_attachments_belong_to_the_reply_they_came_with(desk, rules, store):
    db, ticket, ann = desk
    reply = add_reply(db, ticket, ann, "Here is the log")
    attach(db, store, rules, ticket=ticket, event=reply, uploader=ann, files=[("printer.log", LOG)])
    db.commit()
    assert list(attachments_by_event(db, ticket)) == [reply.id]


def test_a_zip_bomb_is_stored_but_never_opened(desk, rules, store, monkeypatch):
    db, ticket, ann = desk
    bomb = zip_bomb(200)
    assert len(bomb) < 1024 * 1024  # small on the wire: 200 MB once inflated

    def opened(*args, **kwargs):
        raise AssertionError("the archive was opened")

    monkeypatch.setattr(zipfile.ZipFile, "__init__", opened)
    monkeypatch.setattr(zipfile, "is_zipfile", opened)
    (stored,) = attach(db, store, rules, ticket=ticket, event=ticket.events[0], uploader=ann,
                       files=[("logs.zip", bomb)])
    assert (stored.content_type, stored.size, stored.preview_key) == ("application/zip", len(bomb), "")
    with store.open(stored.storage_key) as fh:
        assert fh.read() == bomb


# --- previews --------------------------------------------------------------------------------------------------

def test_a_preview_is_small_and_carries_no_exif():
    photo = image("JPEG", (1600, 1200), exif=True)
    assert b"SecretCam" in photo and Image.open(io.BytesIO(photo)).getexif()
    data, mime = preview(photo, "image/jpeg")
    assert mime == "image/jpeg"
    thumbnail = Image.open(io.BytesIO(data))
    assert max(thumbnail.size) == PREVIEW_SIZE
    assert not thumbnail.getexif() and b"SecretCam" not in data and b"Exif" not in data


def test_a_preview_drops_what_a_polyglot_hides_after_the_image():
    payload = b"<script>alert(1)</script>PK\x03\x04hidden"
    data, mime = preview(image("PNG", (50, 40)) + payload, "image/png")
    assert mime == "image/png" and b"script" not in data and b"hidden" not in data
    assert Image.open(io.BytesIO(data)).size == (50, 40)


def test_a_pixel_bomb_gets_no_preview_and_is_still_only_a_download(desk, rules, store):
    bomb = png_claiming(50_000, 50_000)
    assert preview(bomb, "image/png") is None
    db, ticket, ann = desk
    (stored,) = attach(db, store, rules, ticket=ticket, event=ticket.events[0], uploader=ann,
                       files=[("huge.png", bomb)])
    assert stored.content_type == "image/png" and stored.preview_key == ""


def test_a_file_is_decoded_only_as_its_sniffed_type():
    assert preview(image("GIF"), "image/png") is None
    assert preview(b"\x89PNG\r\n\x1a\nbroken", "image/png") is None
