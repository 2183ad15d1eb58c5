"""E-mail in: replies land on their ticket, new mail opens one, machines, loops, strangers and forgers are turned
away, and a message delivered twice counts once. Messages are the real-world shapes of tests/mail/."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kb.helpdesk.accounts import authenticate
from kb.helpdesk.db import open_database
from kb.helpdesk.mail_intake import DUPLICATE, IntakeConfig, take_in
from kb.helpdesk.mail_intake_models import AUTO_REPLIED, IGNORED, REPLY_ADDED, TICKET_OPENED, ReceivedMessage
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import (DESCRIPTION_MAX, EVENT_REPLY, IN_PROGRESS, WAITING, OrganisationDomain, Ticket,
                                TicketEvent, User)
from kb.helpdesk.routing import parse_routing
from kb.helpdesk.tickets import find_ticket
from tests.mail_samples import OTHER_REF, REF, SECRET, SUPPORT, add_desk, sample

CONFIG = IntakeConfig(secret=SECRET, support_address=SUPPORT, routing=parse_routing("printers=hardware, *=general"))


class Recorder:
    """The classifier and the automatic answer, remembering what they were asked."""

    def __init__(self, category: str | None = "printers") -> None:
        self.category, self.texts, self.answered = category, [], []

    def classify(self, text: str) -> str | None:
        self.texts.append(text)
        return self.category

    def auto_reply(self, db, address: str, lang: str) -> None:
        self.answered.append((address, lang))


@pytest.fixture
def sessions(database_url: str):
    """A migrated database holding the desk of tests.mail_samples."""
    engine, factory = open_database(database_url, migrate=False)
    with factory() as db:
        add_desk(db)
    yield factory
    engine.dispose()


def receive(sessions, data: bytes, config: IntakeConfig = CONFIG, recorder: Recorder | None = None):
    recorder = recorder or Recorder()
    with sessions() as db:
        return take_in(db, data, config, recorder.classify, recorder.auto_reply)


def replies(sessions, ref: str = REF) -> list[tuple[str, str]]:
    with sessions() as db:
        ticket = find_ticket(db, ref)
        return [(e.author.email, e.body) for e in ticket.events if e.kind == EVENT_REPLY]


def counts(sessions) -> tuple[int, int, int]:
    """(tickets, reply events, outbox messages)"""
    with sessions() as db:
        return (db.scalar(select(func.count(Ticket.id))),
                db.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.kind == EVENT_REPLY)),
                db.scalar(select(func.count(OutboxMessage.id))))


@pytest.mark.parametrize("name, sender, text, absent", [
    ("gmail_reply.eml", "ann@acme.example", "Thanks, restarting the spooler fixed it.\nThe queue is empty now – "
                                            "printing works again.", "please restart"),
    ("outlook_reply.eml", "ann@acme.example", 'It still shows "offline" after the restart.', "Kind regards"),
    ("outlook_ru_reply.eml", "ivan@acme.example", "Здравствуйте!\n\nПринтер снова не печатает, очередь зависла.",
     "Перезапустите"),
    ("iphone_html.eml", "ann@acme.example", "Printed a test page — it works now. Thank you!", "alert"),
    ("reply_with_attachment.eml", "ann@acme.example", "Here is a photo of the error on the display.", "PNG"),
])
def test_a_reply_lands_on_its_ticket_without_the_quote_as_a_portal_reply_would(sessions, name, sender, text, absent):
    outcome = receive(sessions, sample(name))
    assert (outcome.outcome, outcome.ticket_ref) == (REPLY_ADDED, REF)
    assert replies(sessions) == [(sender, text)]
    assert absent not in replies(sessions)[0][1]
    with sessions() as db:
        ticket = find_ticket(db, REF)
        assert ticket.status == IN_PROGRESS  # a customer's reply to a ticket waiting on them, as on the portal
        reply = next(event for event in ticket.events if event.kind == EVENT_REPLY)
        assert ticket.last_customer_at == reply.created_at and reply.author_kind == "customer"
        received = db.scalar(select(ReceivedMessage))
        assert (received.outcome, received.ticket_id, received.sender) == (REPLY_ADDED, ticket.id, sender)


def test_a_later_reply_threads_to_the_ticket_its_earlier_message_reached(sessions):
    receive(sessions, sample("new_ticket.eml"))
    follow_up = sample("new_ticket.eml", **{"Message-ID: <new-ticket-1@acme.example>":
                                            b"Message-ID: <new-ticket-2@acme.example>\nIn-Reply-To: "
                                            b"<new-ticket-1@acme.example>",
                                            "Subject: Cannot reset my password": b"Subject: Re: Cannot reset"})
    outcome = receive(sessions, follow_up)
    assert outcome.outcome == REPLY_ADDED and outcome.ticket_ref not in ("", REF)


def test_a_ukrainian_reply_is_cut_at_thunderbirds_quote_header_but_a_colleague_who_may_not_see_adds_nothing(
        sessions):
    outcome = receive(sessions, sample("thunderbird_uk_reply.eml"))  # Olena is Ann's colleague, a member
    assert outcome.outcome == IGNORED and "may not see ticket" in outcome.reason
    assert replies(sessions) == []
    with sessions() as db:  # on a ticket of her own, her reply lands, cut at Thunderbird's "пише:"
        find_ticket(db, REF).customer = db.scalar(select(User).where(User.email == "olena@acme.example"))
        db.commit()
    assert receive(sessions, sample("thunderbird_uk_reply.eml",
                                    **{"<5f1c": b"<again-5f1c"})).outcome == REPLY_ADDED
    assert replies(sessions) == [("olena@acme.example",
                                  "Дякую, але проблема залишилась: сканер не знаходить мережеву папку.")]


def test_a_reply_from_a_stranger_or_with_a_forged_or_foreign_token_adds_nothing(sessions):
    stranger = receive(sessions, sample("gmail_ru_reply.eml"))  # Maria has no account
    assert stranger.outcome == IGNORED and "may not see" in stranger.reason
    token = sample("gmail_reply.eml").split(b"+t-kb-test0001-")[1][:20]
    forged = receive(sessions, sample("gmail_reply.eml", **{token.decode(): b"0" * 20}))
    assert forged.outcome == IGNORED and "signature is wrong" in forged.reason
    other = sample("gmail_reply.eml", ref=OTHER_REF, **{"<CAF3x9Q=gmail-reply-1": b"<other-1",
                                                       "In-Reply-To: <abc@": b"In-Reply-To: <nothing@",
                                                       "References: <abc@": b"References: <nothing@"})
    foreign = receive(sessions, other)  # Ann's reply to Oz's ticket, through its valid reply address
    assert foreign.outcome == IGNORED and f"may not see ticket {OTHER_REF}" in foreign.reason
    assert replies(sessions) == [] and replies(sessions, OTHER_REF) == []


def test_new_mail_from_a_customer_opens_a_ticket_with_the_predicted_category_and_its_group(sessions):
    recorder = Recorder("accounts")
    outcome = receive(sessions, sample("koi8r_qp.eml"), recorder=recorder)
    assert outcome.outcome == TICKET_OPENED
    with sessions() as db:
        ticket = find_ticket(db, outcome.ticket_ref)
        assert ticket.customer.email == "sergey@acme.example"
        assert ticket.subject == "Не открывается личный кабинет"
        assert 'После обновления не открывается личный кабинет: пишет "ошибка 403".' in ticket.description
        assert (ticket.category, ticket.predicted_category, ticket.agent_group) == ("accounts", "accounts", "general")
    assert recorder.texts and "ошибка 403" in recorder.texts[0]


def test_a_reply_or_a_ticket_taken_in_is_passed_on_to_be_notified(sessions):
    """What the portal tells people of a reply or a new ticket, the intake asks its `notify` to write, with the new
    event and in the message's session (nothing for mail it turns away)."""
    told: list[tuple[str, str, str]] = []

    def notify(db, ticket, event) -> None:
        assert db is session and event.ticket is ticket
        told.append((ticket.ref, event.kind, event.body))

    recorder = Recorder()
    with sessions() as session:
        for name in ("gmail_reply.eml", "koi8r_qp.eml", "dsn_bounce.eml"):
            take_in(session, sample(name), CONFIG, recorder.classify, recorder.auto_reply, notify)
        opened = session.scalar(select(Ticket).order_by(Ticket.id.desc()))
        assert [(ref, kind) for ref, kind, _ in told] == [(REF, EVENT_REPLY), (opened.ref, "submitted")]
    assert told[0][2].startswith("Thanks, restarting the spooler fixed it.")


@pytest.mark.parametrize("name, kept", [
    ("forwarded_inline.eml", 'the invoice export stops at 50% with "timeout"'),
    ("forwarded_rfc822.eml", "Выгрузка в 1С падает с ошибкой «нет доступа к файлу»."),
])
def test_forwarded_mail_keeps_the_forwarded_message_in_the_ticket(sessions, name, kept):
    outcome = receive(sessions, sample(name))
    assert outcome.outcome == TICKET_OPENED
    with sessions() as db:
        ticket = find_ticket(db, outcome.ticket_ref)
        assert kept in ticket.description and ticket.agent_group == "hardware"


@pytest.mark.parametrize("name, why", [
    ("out_of_office.eml", "Auto-Submitted: auto-replied"),
    ("dsn_bounce.eml", "written by a machine"),
    ("loop.eml", "mail loop"),
])
def test_auto_replies_bounces_and_our_own_mail_are_ignored(sessions, name, why):
    before = counts(sessions)
    outcome = receive(sessions, sample(name))
    assert outcome.outcome == IGNORED and why in outcome.reason
    assert counts(sessions) == before


@pytest.mark.parametrize("header, why", [
    (b"Precedence: bulk", "Precedence: bulk"), (b"X-Autoreply: yes", "X-Autoreply"),
    (b"Return-Path: <>", "empty Return-Path"), (b"X-KB-Ticket: KB-TEST0001", "X-KB-Ticket"),
])
def test_each_machine_or_loop_marker_alone_turns_mail_away(sessions, header, why):
    data = sample("new_ticket.eml", **{"Return-Path: <ann@acme.example>": header})
    outcome = receive(sessions, data)
    assert outcome.outcome == IGNORED and why in outcome.reason
    assert counts(sessions)[0] == 2


def test_mail_from_our_own_reply_address_or_message_id_domain_is_a_loop(sessions):
    ours = sample("new_ticket.eml", **{"From: Ann Smith <ann@acme.example>":
                                       b"From: <support+t-kb-x-0@help.example.com>"})
    assert "our own address" in receive(sessions, ours).reason
    our_id = sample("new_ticket.eml", **{"<new-ticket-1@acme.example>": b"<x1@help.example.com>"})
    assert "our own domain" in receive(sessions, our_id).reason
    assert counts(sessions)[0] == 2


def test_the_same_message_twice_is_taken_in_once(sessions):
    first, second = receive(sessions, sample("gmail_reply.eml")), receive(sessions, sample("gmail_reply.eml"))
    assert (first.outcome, second.outcome) == (REPLY_ADDED, DUPLICATE)
    assert len(replies(sessions)) == 1
    without_id = sample("new_ticket.eml", **{"Message-ID: <new-ticket-1@acme.example>\n": b""})
    assert [receive(sessions, without_id).outcome for _ in range(2)] == [TICKET_OPENED, DUPLICATE]


def test_a_sender_is_taken_in_at_most_so_often_an_hour(sessions):
    config = replace(CONFIG, sender_hourly=2)
    outcomes = [receive(sessions, sample("new_ticket.eml", **{"new-ticket-1": f"n{i}".encode()}), config).outcome
                for i in range(3)]
    assert outcomes == [TICKET_OPENED, TICKET_OPENED, IGNORED]


def test_header_injection_in_from_is_refused_and_in_subject_stays_one_line(sessions):
    outcome = receive(sessions, sample("header_injection.eml"))
    assert outcome.outcome == IGNORED and "From" in outcome.reason
    plain_from = sample("header_injection.eml", **{"inject-1": b"inject-2"}).split(b"\n")
    plain_from = b"\n".join(b"From: ann@acme.example" if line.startswith(b"From:") else line for line in plain_from)
    outcome = receive(sessions, plain_from)
    assert outcome.outcome == TICKET_OPENED
    with sessions() as db:
        subject = find_ticket(db, outcome.ticket_ref).subject
    assert subject == "Help Bcc: victim@evil.example X-Injected: 1"
    assert "\r" not in subject and "\n" not in subject


def test_an_oversized_body_is_cut_with_a_note(sessions):
    long = sample("new_ticket.eml", **{"Hello,": ("word " * 9000).encode()})
    outcome = receive(sessions, long)
    with sessions() as db:
        description = find_ticket(db, outcome.ticket_ref).description
    assert len(description) <= DESCRIPTION_MAX
    assert description.endswith("more characters of the e-mail were cut]") and description.startswith("word word")


def test_an_unknown_sender_gets_one_automatic_answer_a_day(sessions):
    recorder = Recorder()
    stranger = sample("new_ticket.eml", **{"ann@acme.example": b"nobody@elsewhere.example"})
    again = sample("new_ticket.eml", **{"ann@acme.example": b"nobody@elsewhere.example", "new-ticket-1": b"n2"})
    outcomes = [receive(sessions, data, recorder=recorder).outcome for data in (stranger, again)]
    assert outcomes == [AUTO_REPLIED, IGNORED]
    assert recorder.answered == [("nobody@elsewhere.example", "")]
    assert counts(sessions)[0] == 2
    russian = sample("koi8r_qp.eml", **{"sergey@acme.example": b"pavel@elsewhere.example"})
    receive(sessions, russian, recorder=recorder)
    assert recorder.answered[-1] == ("pavel@elsewhere.example", "ru")


def test_an_unknown_sender_of_an_organisations_domain_gets_a_ticket_and_an_account_without_password(sessions):
    config = replace(CONFIG, unknown_sender="organisation")
    with sessions() as db:
        acme = db.scalar(select(User).where(User.email == "ann@acme.example")).organisation_id
        db.add(OrganisationDomain(organisation_id=acme, domain="acme.example"))
        db.commit()
    data = sample("new_ticket.eml", **{"ann@acme.example": b"newbie@acme.example"})
    outcome = receive(sessions, data, config)
    assert outcome.outcome == TICKET_OPENED
    stranger = sample("new_ticket.eml", **{"ann@acme.example": b"x@elsewhere.example", "new-ticket-1": b"n2"})
    recorder = Recorder()
    assert receive(sessions, stranger, config, recorder).outcome == AUTO_REPLIED  # no organisation owns it
    with sessions() as db:
        newbie = db.scalar(select(User).where(User.email == "newbie@acme.example"))
        assert (newbie.role, newbie.organisation_id, newbie.name) == ("member", acme, "Ann Smith")
        assert find_ticket(db, outcome.ticket_ref).customer_id == newbie.id
        assert authenticate(db, "newbie@acme.example", "!") is None and authenticate(db, "newbie@acme.example", "")\
            is None


def test_mail_not_for_the_support_address_or_from_staff_opens_nothing(sessions):
    elsewhere = sample("new_ticket.eml", **{"To: support@help.example.com": b"To: sales@help.example.com"})
    assert "not addressed" in receive(sessions, elsewhere).reason
    agent = sample("new_ticket.eml", **{"ann@acme.example": b"agent@help.example.com", "new-ticket-1": b"n2"})
    assert "not an active customer" in receive(sessions, agent).reason
    assert counts(sessions)[0] == 2
    with sessions() as db:
        assert find_ticket(db, REF).status == WAITING


def race(sessions) -> None:
    """The other process commits the message while this one is between its duplicate check and its commit (here:
    while the classifier runs); the unique Message-ID makes this one roll back and answer `duplicate`."""
    data = sample("new_ticket.eml")
    inner: list = []

    class Racing(Recorder):
        def classify(self, text: str) -> str | None:
            if not inner:
                inner.append(receive(sessions, data))
            return super().classify(text)

    outer = receive(sessions, data, recorder=Racing())
    assert (inner[0].outcome, outer.outcome) == (TICKET_OPENED, DUPLICATE)
    assert counts(sessions)[0] == 3


def test_two_processes_taking_in_the_same_message_at_once_open_one_ticket(sessions):
    race(sessions)


@pytest.mark.slow
def test_on_postgresql_a_reply_lands_once_and_a_racing_copy_is_a_duplicate(clean_database):
    engine, factory = open_database(clean_database)
    try:
        with factory() as db:
            add_desk(db)
        assert [receive(factory, sample("outlook_reply.eml")).outcome for _ in range(2)] == [REPLY_ADDED, DUPLICATE]
        assert replies(factory) == [("ann@acme.example", 'It still shows "offline" after the restart.')]
        race(factory)
    finally:
        engine.dispose()


def test_files_of_a_mail_are_attached_as_uploads_are_and_refused_ones_are_named(sessions, tmp_path: Path):
    from email.message import EmailMessage

    from kb.config import Settings
    from kb.helpdesk.attachment_models import Attachment
    from kb.helpdesk.storage import storage_from
    from tests.files import EXE, image

    settings = Settings(attachments_dir=tmp_path / "files", attachments_per_message=2)
    config = replace(CONFIG, storage=storage_from(settings), settings=settings)
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "Ann Smith <ann@acme.example>", SUPPORT, "Scanner error"
    mail["Message-ID"] = "<files-1@acme.example>"
    mail.set_content("The scanner shows this error.")
    photo = image("PNG", (64, 48))
    mail.add_attachment(photo, maintype="image", subtype="png", filename="error.png")
    mail.add_attachment(EXE, maintype="image", subtype="png", filename="screenshot.png")  # a program, named as a photo
    mail.add_attachment(image("JPEG", (32, 32)), maintype="image", subtype="jpeg", filename="second.jpg")
    mail.add_attachment(image("PNG", (16, 16)), maintype="image", subtype="png", filename="third.png")
    outcome = receive(sessions, bytes(mail), config)
    assert outcome.outcome == TICKET_OPENED
    with sessions() as db:
        ticket = find_ticket(db, outcome.ticket_ref)
        kept = list(db.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)))
        assert [(a.filename, a.content_type, a.event_id) for a in kept] == [
            ("error.png", "image/png", ticket.events[0].id), ("second.jpg", "image/jpeg", ticket.events[0].id)]
        with config.storage.open(kept[0].storage_key) as stored:
            assert stored.read() == photo  # kept as received
        note = ticket.description.rpartition("[Not attached: ")[2]
        assert "screenshot.png" in note and "third.png: more files than a message may bring (2)" in note
        assert ticket.description.startswith("The scanner shows this error.")
    # without a storage (the intake's tests, a mail-only setup) the files are only named, never stored
    mail.replace_header("Message-ID", "<files-2@acme.example>")
    outcome = receive(sessions, bytes(mail))
    with sessions() as db:
        ticket = find_ticket(db, outcome.ticket_ref)
        assert db.scalar(select(func.count(Attachment.id)).where(Attachment.ticket_id == ticket.id)) == 0


def test_new_mail_gets_a_predicted_priority_and_its_sla_clocks(sessions):
    from kb.config import Settings
    from kb.helpdesk.ticket_sla import SlaRules

    assert isinstance(IntakeConfig.from_settings(Settings(), SECRET).sla, SlaRules)
    config = replace(CONFIG, sla=SlaRules.from_settings(Settings(priority_categories="accounts=P2")))
    outcome = receive(sessions, sample("koi8r_qp.eml"), config, Recorder("accounts"))
    with sessions() as db:
        ticket = find_ticket(db, outcome.ticket_ref)
        assert (ticket.priority, ticket.predicted_priority) == ("P2", "P2")  # the category's priority
        assert ticket.sla_due_at == ticket.first_response_due is not None
