"""Reading e-mail: encoded Cyrillic headers, bodies in koi8-r, windows-1251 and UTF-8, HTML-only mail as text,
attachments, and what the sender wrote without what they quoted, in English, Russian and Ukrainian clients' shapes."""
from __future__ import annotations

import pytest

from kb.helpdesk.mail_intake import message_language
from kb.helpdesk.mail_parse import parse_message
from kb.helpdesk.mail_quotes import is_forward, latest_reply
from tests.mail_samples import sample


@pytest.mark.parametrize("name, subject, sender_name", [
    ("outlook_ru_reply.eml", "RE: [KB-TEST0001] Принтер не печатает", "Иван Петров"),  # base64, windows-1251
    ("thunderbird_uk_reply.eml", "Re: [KB-TEST0001] Сканер не зберігає файли", "Олена Коваленко"),  # Q, UTF-8
    ("koi8r_qp.eml", "Не открывается личный кабинет", "Сергей Иванов"),  # base64, koi8-r
    ("gmail_ru_reply.eml", "Re: [KB-TEST0001] Нет интернета", "Мария"),
])
def test_rfc_2047_subjects_and_names_are_decoded(name, subject, sender_name):
    parsed = parse_message(sample(name))
    assert (parsed.subject, parsed.sender_name) == (subject, sender_name)


def test_bodies_in_koi8r_quoted_printable_windows_1251_base64_and_8bit_utf8_are_decoded():
    assert 'пишет "ошибка 403"' in parse_message(sample("koi8r_qp.eml")).body
    assert "очередь зависла" in parse_message(sample("outlook_ru_reply.eml")).body
    assert "мережеву папку" in parse_message(sample("thunderbird_uk_reply.eml")).body
    undeclared = ("From: a@acme.example\nTo: support@help.example.com\nSubject: x\nContent-Type: text/plain\n"
                  "Content-Transfer-Encoding: 8bit\n\n").encode() + "Не печатает принтер".encode("cp1251")
    assert parse_message(undeclared).body == "Не печатает принтер"
    unknown = undeclared.replace(b"Content-Type: text/plain", b"Content-Type: text/plain; charset=x-no-such")
    assert parse_message(unknown).body == "Не печатает принтер"


def test_text_plain_is_preferred_and_html_only_mail_becomes_text_without_scripts_or_styles():
    gmail = parse_message(sample("gmail_reply.eml"))
    assert "<div" not in gmail.body and "gmail_quote" not in gmail.body
    iphone = parse_message(sample("iphone_html.eml"))
    assert iphone.body.startswith("Printed a test page — it works now. Thank you!")
    assert "alert" not in iphone.body and "color:red" not in iphone.body and "<" not in iphone.reply
    assert "> Hello Ann," in iphone.body  # the quote, as quote lines
    assert iphone.reply == "Printed a test page — it works now. Thank you!"


def test_attachments_are_listed_with_name_type_and_bytes_and_forwarded_messages_are_read():
    [photo] = parse_message(sample("reply_with_attachment.eml")).attachments
    assert (photo.filename, photo.content_type) == ("display.png", "image/png")
    assert photo.data == b"\x89PNG\r\n\x1a\nfake-image-bytes"
    forwarded = parse_message(sample("forwarded_rfc822.eml"))
    assert [(a.filename, a.content_type, a.data) for a in forwarded.attachments] == \
        [("отчёт.pdf", "application/pdf", b"%PDF-1.4 fake report")]
    assert forwarded.forwarded and "From: Бухгалтерия <buh@acme.example>" in forwarded.body
    assert forwarded.body.endswith("Выгрузка в 1С падает с ошибкой «нет доступа к файлу».")


@pytest.mark.parametrize("name, reason", [
    ("out_of_office.eml", "Auto-Submitted: auto-replied"),
    ("dsn_bounce.eml", "Auto-Submitted: auto-replied"),
    ("new_ticket.eml", ""),
])
def test_mail_written_by_a_machine_says_why(name, reason):
    assert parse_message(sample(name)).automatic == reason


def test_a_report_or_a_daemons_mail_without_auto_submitted_is_still_a_machines():
    dsn = sample("dsn_bounce.eml", **{"Auto-Submitted: auto-replied\n": b"", "Return-Path: <>": b"X-Any: 1"})
    assert parse_message(dsn).automatic == "a delivery status report"
    daemon = sample("new_ticket.eml", **{"ann@acme.example": b"MAILER-DAEMON@mx.acme.example"})
    assert parse_message(daemon).automatic == "from MAILER-DAEMON"


def test_recipients_come_from_to_cc_delivered_to_and_x_original_to():
    parsed = parse_message(b"From: a@acme.example\nTo: Support <support@help.example.com>\nCc: b@acme.example\n"
                           b"Delivered-To: support+t-x@help.example.com\nX-Original-To: help@help.example.com\n\nhi")
    assert parsed.recipients == ["support@help.example.com", "b@acme.example", "support+t-x@help.example.com",
                                 "help@help.example.com"]


@pytest.mark.parametrize("text", [
    # Outlook, Russian
    "Спасибо, работает.\n\nОт: Служба поддержки <support@help.example.com>\nОтправлено: 1 декабря 2026 г. 9:58\n"
    "Кому: Иван\nТема: RE: Принтер\n\nПерезапустите службу.",
    # Outlook, Ukrainian
    "Спасибо, работает.\n\nВід: Служба підтримки <support@help.example.com>\nНадіслано: 1 грудня 2026 р. 9:58\n"
    "Кому: Олена\nТема: RE: Принтер\n\nПерезапустіть службу.",
    # Outlook's older separator, Russian
    "Спасибо, работает.\n\n-----Исходное сообщение-----\nОт: support@help.example.com\nПерезапустите службу.",
    # Thunderbird, Russian
    "Спасибо, работает.\n\n01.12.2026 09:58, Служба поддержки пишет:\n> Перезапустите службу.",
    # Mail.ru and Yandex: "написал(а):"
    "Спасибо, работает.\n\nВторник, 1 декабря 2026, 9:58 +03:00 от Служба поддержки <support@help.example.com>:"
    "\n\n> Перезапустите службу.",
    "Спасибо, работает.\n\n01.12.2026, 09:58, \"Служба поддержки\" <support@help.example.com> написал(а):\n"
    "> Перезапустите службу.",
    # Gmail, Ukrainian, wrapped over two lines
    "Спасибо, работает.\n\nвт, 1 груд. 2026 р. о 09:58 Служба підтримки <\nsupport@help.example.com> пише:\n\n"
    "> Перезапустіть службу.",
    # Signatures
    "Спасибо, работает.\n\nС уважением,\nИван Петров\nтел. +7 900 000-00-00",
    "Спасибо, работает.\n\nЗ повагою,\nОлена",
    "Спасибо, работает.\n\nНадіслано з iPhone",
    "Спасибо, работает.\n\n-- \nИван Петров, ООО Ромашка",
])
def test_russian_and_ukrainian_quote_headers_and_signatures_are_cut(text):
    assert latest_reply(text) == "Спасибо, работает."


def test_lists_and_a_message_that_is_all_quote_are_kept():
    steps = "I tried:\n- restarting\n- a new cable\n\nNothing helps."
    assert latest_reply(steps) == steps
    assert latest_reply("> only a quote\n> of our message") == "> only a quote\n> of our message"


@pytest.mark.parametrize("subject, text, forwarded", [
    ("Fwd: Invoice", "", True), ("FW: Invoice", "", True), ("Пересл: Счёт", "", True),
    ("Invoice", "see below\n\n-------- Пересылаемое сообщение --------\nОт: x", True),
    ("Invoice", "see below\n\nBegin forwarded message:\n\nFrom: x", True),
    ("Re: Invoice", "On Tue, Ann wrote:\n> x", False),
])
def test_forwarded_mail_is_told_by_subject_or_marker(subject, text, forwarded):
    assert is_forward(subject, text) is forwarded


@pytest.mark.parametrize("name, lang", [
    ("koi8r_qp.eml", "ru"), ("thunderbird_uk_reply.eml", "uk"), ("outlook_reply.eml", "en"),
    ("new_ticket.eml", ""),
])
def test_the_answer_language_is_the_messages(name, lang):
    assert message_language(parse_message(sample(name))) == lang


def test_long_quotes_are_read_in_one_pass():
    """20,000 quote lines: those that end the text are cut, those above a line of text kept; a line-by-line pass
    (a backtracking pattern took minutes on this)."""
    quote = "> quoted\n" * 20000
    assert latest_reply("the answer\n" + quote) == "the answer"
    assert latest_reply(quote + "the answer") == (quote + "the answer").strip()


def test_a_forward_of_a_forward_is_read_and_every_attachment_listed_once():
    inner = sample("forwarded_rfc822.eml")
    outer = (b"From: ann@acme.example\nTo: support@help.example.com\nSubject: Fwd: again\nMIME-Version: 1.0\n"
             b"Content-Type: multipart/mixed; boundary=b2\n\n--b2\nContent-Type: text/plain\n\nOnce more.\n--b2\n"
             b"Content-Type: message/rfc822\n\n" + inner + b"\n--b2--\n")
    parsed = parse_message(outer)
    assert parsed.body.startswith("Once more.") and "See the message below." in parsed.body
    assert parsed.body.endswith("Выгрузка в 1С падает с ошибкой «нет доступа к файлу».")
    assert [a.filename for a in parsed.attachments] == ["отчёт.pdf"]
