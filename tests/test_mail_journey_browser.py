"""A customer's whole life by e-mail, in real Chromium against a live waitress server whose own sender
(web/mail_worker.py) delivers the outbox to a real SMTP server on loopback (aiosmtpd): a manager invites a colleague;
she creates her account from the invitation's link, forgets her password and sets a new one from the mailed link,
files a ticket with a screenshot, is told by e-mail that it arrived and that an agent answered, and answers that
e-mail; `kb mail receive`, run as a mail server's pipe runs it, puts her answer on the ticket, where she reads it.

Every link is followed from the message the SMTP server received, never read from the database. The colleague's
browser speaks Russian, the manager's and the agent's English: mail to her is written in her language whoever
caused it. Screenshots of each step are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from dataclasses import replace
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import pytest
from flask_babel import force_locale, gettext
from PIL import Image

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.mail_tokens import ticket_ref_from
from tests.accounts import LINK_RE
from tests.chromium import shot, sign_in
from tests.mail_server import SmtpServer, free_port
from tests.portal import PASSWORD, add_people, make_app, serving

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
SUPPORT = "support@help.example"
MANAGER, NIA, AGENT = "meg@acme.example", "nia@acme.example", "journey-agent@desk.example"
ENGLISH, RUSSIAN = {"locale": "en-US"}, {"locale": "ru-RU"}


@pytest.fixture(scope="module")
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def desk(portal_index, tmp_path_factory, smtp):
    """The portal served by waitress on a free loopback port, its links in mail pointing there, and its background
    sender delivering to `smtp`: (app, base URL)."""
    from web.mail_worker import MailWorker

    settings, service = portal_index
    folder = tmp_path_factory.mktemp("journey")
    port = free_port()
    settings = replace(settings, database_url=f"sqlite:///{folder / 'kb.sqlite3'}", secret_key_file=folder / "key",
                       attachments_dir=folder / "attachments", public_url=f"http://127.0.0.1:{port}",
                       mail_from=SUPPORT, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                       mail_sender="on")
    app = make_app(settings, service)
    app.testing = False
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general", "Alex")
    worker = MailWorker(app).start()
    with serving(app, port):
        yield app, settings.public_url
    worker.close()


class Mailbox:
    """What the SMTP server received, read as a mail client reads it: the next unread message to an address."""

    def __init__(self, server: SmtpServer) -> None:
        self.receiver, self.read = server.receiver, set()

    def next_to(self, address: str, timeout: float = 30.0) -> EmailMessage:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.receiver.lock:
                unread = [(n, r) for n, r in enumerate(self.receiver.messages)
                          if n not in self.read and r.recipients == [address]]
            if unread:
                number, received = unread[0]
                self.read.add(number)
                assert received.sender == SUPPORT and received.message["From"] == SUPPORT
                assert received.message["To"] == address
                return received.message
            time.sleep(0.05)
        raise AssertionError(f"no mail to {address} within {timeout} s")


def text_of(message: EmailMessage) -> str:
    return message.get_body("plain").get_content()


def link_in(message: EmailMessage, base: str) -> str:
    """The one account link of a message, the same in its text and HTML parts, on the portal's address."""
    found = LINK_RE.findall(text_of(message))
    assert len(found) == 1, text_of(message)
    assert found[0] in message.get_body("html").get_content()
    assert found[0].startswith(base + "/")
    return found[0]


def translate(app, lang: str, text: str, **values: str) -> str:
    """`text` as the interface and the mail say it in `lang`."""
    with app.app_context(), force_locale(lang):
        return gettext(text, **values)


def email_reply(original: EmailMessage, sender: str, answer: str) -> bytes:
    """What a mail client sends when its user answers `original`: to its Reply-To, in its thread, the original
    quoted under an attribution line."""
    reply = EmailMessage()
    reply["From"] = f"Nia New <{sender}>"
    reply["To"] = original["Reply-To"]
    reply["Subject"] = "Re: " + original["Subject"]
    reply["Date"] = formatdate()
    reply["Message-ID"] = make_msgid("reply", domain="mail.acme.example")
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = f"{original['References']} {original['Message-ID']}"
    quoted = "\n".join("> " + line if line else ">" for line in text_of(original).splitlines())
    reply.set_content(f"{answer}\n\nOn {original['Date']}, {original['From']} wrote:\n{quoted}\n")
    return reply.as_bytes()


def kb(settings, *args: str, input: bytes = b"") -> subprocess.CompletedProcess:
    """A `kb` command in a process of its own, as a mail server's pipe or a cron job starts it, configured as the
    serving process is through KB_* variables."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("KB_")}
    environment.update(PYTHONPATH=str(ROOT), KB_DATABASE_URL=settings.database_url,
                       KB_SECRET_KEY_FILE=str(settings.secret_key_file), KB_MAIL_FROM=settings.mail_from,
                       KB_ATTACHMENTS_DIR=str(settings.attachments_dir), KB_PUBLIC_URL=settings.public_url,
                       KB_SMTP_HOST=settings.smtp_host, KB_SMTP_PORT=str(settings.smtp_port),
                       KB_SMTP_SECURITY=settings.smtp_security)
    return subprocess.run([sys.executable, "-m", "kb", *args], input=input, capture_output=True, env=environment,
                          cwd=ROOT, timeout=300)


def test_invitation_sign_up_reset_ticket_with_a_file_reply_by_mail(desk, smtp, browser, tmp_path):
    app, base = desk
    mailbox = Mailbox(smtp)

    def ru(text: str, **values: str) -> str:
        return translate(app, "ru", text, **values)

    assert ru("Set a new password") != "Set a new password"  # the Russian catalogue is there

    # A manager of Acme invites a colleague; the invitation goes out in the manager's language.
    manager, page = sign_in(browser, base, MANAGER, **ENGLISH)
    page.goto(base + "/account/invitations")
    page.get_by_label("E-mail").fill(NIA)
    with page.expect_navigation():
        page.get_by_role("button", name="Send the invitation").click()
    assert "The invitation is sent." in page.locator("main").inner_text()
    shot(page, "journey-01-invited")
    manager.close()
    invitation = mailbox.next_to(NIA)
    assert invitation["Subject"] == "You are invited to the Acme help center"
    assert f"{MANAGER} invites you to join Acme" in text_of(invitation)

    # She opens its link in a Russian browser and chooses her name and a password.
    context = browser.new_context(**RUSSIAN)
    page = context.new_page()
    page.goto(link_in(invitation, base))
    assert page.get_by_role("heading", level=1).inner_text() == ru("Accept the invitation")
    assert NIA in page.locator("main").inner_text()
    page.get_by_label(ru("Your name")).fill("Nia New")
    page.get_by_label(ru("Password"), exact=True).fill("first passphrase")
    page.get_by_label(ru("Password again")).fill("first passphrase")
    shot(page, "journey-02-new-account")
    with page.expect_navigation():
        page.get_by_role("button", name=ru("Create my account")).click()
    assert ru("Welcome! Your account is ready and you are signed in.") in page.locator("main").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name=ru("Sign out")).click()

    # She forgot the password: a link comes by mail, in Russian, and sets a new one.
    page.goto(base + "/sign-in")
    page.get_by_label(ru("Your sign-in address")).fill(NIA)
    with page.expect_navigation():
        page.get_by_role("button", name=ru("Send me a link")).click()
    assert ru("If an account exists for that address, we sent a link to set a new password. "
              "Check your e-mail.") in page.locator("main").inner_text()
    reset = mailbox.next_to(NIA)
    assert reset["Subject"] == ru("Set a new password")
    assert ru("Someone (we hope you) asked to set a new password for your account.") in text_of(reset)
    page.goto(link_in(reset, base))
    page.get_by_label(ru("New password"), exact=True).fill("second passphrase")
    page.get_by_label(ru("New password again")).fill("second passphrase")
    shot(page, "journey-03-new-password")
    with page.expect_navigation():
        page.get_by_role("button", name=ru("Set the password")).click()
    assert page.url == base + "/sign-in"
    page.get_by_label(ru("E-mail")).fill(NIA)
    page.get_by_label(ru("Password"), exact=True).fill("second passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name=ru("Sign in"), exact=True).click()
    assert NIA in page.locator("header").inner_text()

    # She files a ticket with a screenshot; a mail says it arrived.
    screenshot = tmp_path / "printer error.png"
    Image.new("RGB", (640, 480), (200, 40, 40)).save(screenshot, "PNG")
    subject = "Принтер показывает E-42"
    page.goto(base + "/tickets/new")
    page.get_by_label(ru("Subject")).fill(subject)
    page.get_by_label(ru("Describe the problem")).fill("После каждого задания на экране E-42; снимок приложен.")
    page.get_by_label(ru("Attach files")).set_input_files(str(screenshot))
    with page.expect_navigation():
        page.get_by_role("button", name=ru("Submit ticket")).click()
    ref = page.url.rsplit("/", 1)[1]
    assert ru("Ticket %(ref)s is submitted. We will reply here and by e-mail.", ref=ref) in page.locator(
        "main").inner_text()
    assert page.get_by_role("link", name="printer error.png").count() == 1
    shot(page, "journey-04-ticket")
    received = mailbox.next_to(NIA)
    assert received["Subject"] == ru("[%(ref)s] We received your request: %(subject)s", ref=ref, subject=subject)
    assert f"{base}/tickets/{ref}" in text_of(received)

    # The agents of the ticket's group are told in their own language (English), with the desk's link.
    for_agents = mailbox.next_to(AGENT)
    assert for_agents["Subject"] == f"[{ref}] New ticket in general: {subject}"
    assert f"Nia New filed a new ticket {ref} in your group general" in text_of(for_agents)
    desk_link = f"{base}/desk/tickets/{ref}"
    assert desk_link in text_of(for_agents)

    # An agent answers in the desk, in English; the answer reaches her by mail, in Russian, with a reply address.
    agent, desk_page = sign_in(browser, base, AGENT, **ENGLISH)
    assert desk_page.locator(f"tr[data-ref='{ref}']").count() == 1
    desk_page.goto(desk_link)
    assert subject in desk_page.get_by_role("heading", level=1).inner_text()
    answer = "Please switch the printer off for ten seconds, then print a test page."
    desk_page.get_by_label("Reply to the customer").fill(answer)
    with desk_page.expect_navigation():
        desk_page.get_by_role("button", name="Send reply").click()
    assert "Your reply is sent" in desk_page.locator("main").inner_text()
    shot(desk_page, "journey-05-agent-replied")
    agent.close()
    replied = mailbox.next_to(NIA)
    assert replied["Subject"] == ru("[%(ref)s] New reply to your request: %(subject)s", ref=ref, subject=subject)
    assert ru("There is a reply to your request %(ref)s:", ref=ref) in text_of(replied)
    assert answer in text_of(replied)
    reply_to = replied["Reply-To"]
    assert re.fullmatch(r"support\+t-[^@]+@help\.example", reply_to)
    assert ticket_ref_from(app.secret_key, reply_to) == ref

    # She answers that e-mail; the mail server pipes her answer to `kb mail receive`.
    her_answer = "Выключила на десять секунд: тестовая страница напечаталась, E-42 больше нет."
    settings = app.config["KB_SETTINGS"]
    done = kb(settings, "mail", "receive", input=email_reply(replied, NIA, her_answer))
    assert (done.returncode, done.stderr.decode()) == (0, f"kb mail: reply_added: reply added to ticket {ref}\n")

    # `kb mail send` (a cron job) delivers what that process wrote: the agents read her answer, not the quote.
    assert kb(settings, "mail", "send", "--once").returncode == 0
    her_reply = mailbox.next_to(AGENT)
    assert her_reply["Subject"] == f"[{ref}] Customer reply: {subject}"
    assert f"Nia New replied on ticket {ref}:\n\n{her_answer}\n" in text_of(her_reply)
    assert "wrote:" not in text_of(her_reply)

    # The link in the agent's mail opens her ticket: her answer is there, without the quoted mail under it, and
    # the screenshot is still listed.
    ticket_link = f"{base}/tickets/{ref}"
    assert f"{ru('Your request:')} {ticket_link}" in text_of(replied)
    page.goto(ticket_link)
    events = page.locator(".history li.event")
    assert events.last.locator(".body").inner_text() == her_answer
    assert "wrote:" not in page.locator(".history").inner_text()
    assert events.filter(has_text=answer).count() == 1  # the agent's reply, once: not again as a quote
    assert page.get_by_role("link", name="printer error.png").count() == 1
    shot(page, "journey-06-answered-by-mail")
    context.close()
