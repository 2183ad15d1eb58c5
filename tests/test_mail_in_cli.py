"""`kb mail receive` as a mail server's pipe calls it (exit 0 handled or ignored, 75 retry later, one line on
standard error) and `kb mail fetch` against a real IMAP server (Dovecot, Debian's dovecot-imapd) on loopback: a
message leaves the mailbox only once it was taken in and saved."""
from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from kb.cli import cli
from kb.helpdesk.db import open_database
from kb.helpdesk.mail_intake_models import ReceivedMessage
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.mail_tokens import ticket_ref_from
from kb.helpdesk.models import EVENT_REPLY, Ticket, User
from kb.helpdesk.tickets import find_ticket
from tests.mail_samples import REF, SECRET, SUPPORT, add_desk, sample

DOVECOT = "/usr/sbin/dovecot"
IMAP_PASSWORD = "imap-test-pass"
ANN, AGENT = "ann@acme.example", "agent@help.example.com"


@pytest.fixture
def database(database_url: str) -> str:
    url = database_url
    engine, sessions = open_database(url)
    with sessions() as db:
        add_desk(db)
    engine.dispose()
    return url


@pytest.fixture
def env(portal_index, monkeypatch) -> dict[str, str]:
    """The settings of a help desk answering as SUPPORT, its classifier the small portal index's."""
    monkeypatch.delenv("KB_CONFIG", raising=False)
    return {"KB_MAIL_FROM": SUPPORT, "KB_SECRET_KEY": SECRET, "KB_INDEX_DIR": str(portal_index[0].index_dir),
            "KB_EMBEDDING_MODEL": "fake-hashing", "KB_PUBLIC_URL": "https://help.example.com"}


def kb(env: dict[str, str], *args: str, input: bytes | None = None):
    return CliRunner().invoke(cli, list(args), obj={}, input=input, env=env, catch_exceptions=False)


def read(url: str, query):
    engine, sessions = open_database(url, migrate=False)
    try:
        with sessions() as db:
            return query(db)
    finally:
        engine.dispose()


def reply_bodies(url: str) -> list[str]:
    return read(url, lambda db: [e.body for e in find_ticket(db, REF).events if e.kind == EVENT_REPLY])


def test_receive_adds_a_reply_and_says_so_on_stderr(env, database):
    result = kb(env, "mail", "receive", "--database", database, input=sample("gmail_reply.eml"))
    assert result.exit_code == 0
    assert result.stderr == f"kb mail: reply_added: reply added to ticket {REF}\n"
    assert reply_bodies(database) == ["Thanks, restarting the spooler fixed it.\nThe queue is empty now – printing "
                                      "works again."]


def test_receive_opens_a_ticket_with_the_category_the_search_service_predicts(env, database):
    printer = sample("new_ticket.eml", **{"Cannot reset my password": b"Printer offline",
                                          "the password reset link says it has expired as soon as I open it.":
                                          b"My printer shows offline and does not print."})
    result = kb(env, "mail", "receive", "--database", database, input=printer)
    assert result.exit_code == 0 and "ticket_opened" in result.stderr
    ref = result.stderr.split("ticket ")[1].split()[0]
    assert read(database, lambda db: find_ticket(db, ref).predicted_category) == "printers"


def test_receive_writes_the_notifications_the_portal_would(env, database):
    """The agents of the ticket's group hear of a reply by e-mail; a ticket opened by e-mail is acknowledged to its
    customer with the signed reply address, and announced to the agents."""
    engine, sessions = open_database(database, migrate=False)
    with sessions.begin() as db:
        db.execute(update(User).where(User.email == AGENT).values(agent_group="general"))
        db.execute(update(Ticket).where(Ticket.ref == REF).values(agent_group="general"))
    engine.dispose()
    assert kb(env, "mail", "receive", "--database", database, input=sample("gmail_reply.eml")).exit_code == 0
    opened = kb(env, "mail", "receive", "--database", database, input=sample("new_ticket.eml"))
    ref = opened.stderr.split("ticket ")[1].split()[0]
    written = read(database, lambda db: [(m.kind, m.to_address, m.subject, dict(m.headers or {}))
                                         for m in db.scalars(select(OutboxMessage).order_by(OutboxMessage.id))][1:])
    assert [(kind, to) for kind, to, _, _ in written] == [("customer_reply", AGENT), ("ticket_received", ANN),
                                                          ("new_ticket", AGENT)]
    assert written[0][2] == f"[{REF}] Customer reply: Printer does not print"
    assert ticket_ref_from(SECRET, written[1][3]["Reply-To"]) == ref

def test_receive_exits_0_for_mail_it_ignores_on_purpose(env, database):
    for name, why in (("dsn_bounce.eml", "written by a machine"), ("loop.eml", "mail loop")):
        result = kb(env, "mail", "receive", "--database", database, input=sample(name))
        assert result.exit_code == 0 and result.stderr.startswith("kb mail: ignored: ") and why in result.stderr
    again = kb(env, "mail", "receive", "--database", database, input=sample("loop.eml"))
    assert again.exit_code == 0 and "duplicate" in again.stderr
    huge = kb({**env, "KB_MAIL_MAX_BYTES": "2048"}, "mail", "receive", "--database", database,
              input=sample("new_ticket.eml") + b"x" * 5000)
    assert huge.exit_code == 0 and "larger than 2048 bytes" in huge.stderr
    assert read(database, lambda db: db.scalar(select(Ticket).where(Ticket.subject.like("Cannot%")))) is None


@pytest.mark.parametrize("url", ["postgresql+psycopg://kb@127.0.0.1:1/kb", "sqlite:////proc/no-such/kb.sqlite3"])
def test_receive_exits_75_when_the_database_is_unavailable_so_the_mail_server_retries(env, url):
    result = kb(env, "mail", "receive", "--database", url, input=sample("gmail_reply.eml"))
    assert result.exit_code == 75
    assert result.stderr.startswith("kb mail: ") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_receive_as_a_pipe_runs_it_says_one_line_per_message(env, database):
    """A real process, as Postfix's pipe or Exim's pipe transport starts it (no logging configured)."""
    root = Path(__file__).resolve().parent.parent
    mine = {k: v for k, v in env.items() if k not in ("KB_EMBEDDING_MODEL", "KB_INDEX_DIR")}  # no test encoder there
    environment = {**os.environ, **mine, "PYTHONPATH": str(root)}
    for name, code, line in (("gmail_reply.eml", 0, f"kb mail: reply_added: reply added to ticket {REF}\n"),
                             ("dsn_bounce.eml", 0, "kb mail: ignored: written by a machine (Auto-Submitted: "
                                                   "auto-replied)\n")):
        done = subprocess.run([sys.executable, "-m", "kb", "mail", "receive", "--database", database],
                              input=sample(name), capture_output=True, env=environment, cwd=root, timeout=300)
        assert (done.returncode, done.stderr.decode(), done.stdout) == (code, line, b"")


def test_receive_exits_70_with_one_line_on_a_fault_of_ours(env, database, monkeypatch):
    def broken(data: bytes):
        raise RuntimeError("parser broke")

    monkeypatch.setattr("kb.helpdesk.mail_intake.parse_message", broken)
    result = kb(env, "mail", "receive", "--database", database, input=sample("gmail_reply.eml"))
    assert result.exit_code == 70
    assert result.stderr == "kb mail: not taken in: RuntimeError: parser broke\n"


def test_an_unknown_sender_is_answered_once_in_their_language_with_the_portals_link(env, database):
    stranger = sample("koi8r_qp.eml", **{"sergey@acme.example": b"pavel@elsewhere.example"})
    first = kb(env, "mail", "receive", "--database", database, input=stranger)
    second = kb(env, "mail", "receive", "--database", database,
                input=stranger.replace(b"20261201130000.12345", b"20261201130001.1"))
    assert "auto_replied" in first.stderr and "already answered" in second.stderr
    answers = read(database, lambda db: list(db.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == "unknown_sender"))))
    assert len(answers) == 1
    answer = answers[0]
    assert (answer.to_address, answer.lang) == ("pavel@elsewhere.example", "ru")
    assert answer.headers == {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
    assert "https://help.example.com/" in answer.text_body and 'href="https://help.example.com/"' in answer.html_body
    assert "личный кабинет" not in answer.subject + answer.text_body  # nothing of theirs is sent back


# --- kb mail fetch against Dovecot ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImapServer:
    port: int  # plain IMAP, STARTTLS offered
    tls_port: int  # IMAPS
    certificate: Path  # the server's self-signed certificate (for 127.0.0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def imap_server():
    """Dovecot serving mailboxes on free loopback ports (any user, one password), with a self-signed certificate
    for IMAPS and STARTTLS."""
    if not os.path.exists(DOVECOT) or not shutil.which("openssl"):
        pytest.skip("Dovecot (Debian package dovecot-imapd) or openssl is not installed")
    folder = Path(tempfile.mkdtemp(prefix="kb-imap-"))
    folder.chmod(0o755)
    uid, gid = (65534, 65534) if os.geteuid() == 0 else (os.getuid(), os.getgid())  # never mail as root
    for name in ("mail", "home"):
        (folder / name).mkdir()
        os.chown(folder / name, uid, gid)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True, timeout=120)
    port, tls_port = _free_port(), _free_port()
    (folder / "dovecot.conf").write_text(f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = static
  args = password={IMAP_PASSWORD}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
""")
    server = subprocess.Popen([DOVECOT, "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:  # until it accepts connections (or gives up)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = folder / "dovecot.log"
                    pytest.skip("Dovecot did not start: " + (log.read_text(errors="replace") if log.exists() else ""))
                time.sleep(0.05)
        yield ImapServer(port, tls_port, folder / "cert.pem")
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)


def mailbox(port: int, user: str) -> imaplib.IMAP4:
    imap = imaplib.IMAP4("127.0.0.1", port)
    imap.login(user, IMAP_PASSWORD)
    imap.select("INBOX")
    return imap


def deliver(port: int, user: str, *messages: bytes) -> None:
    imap = mailbox(port, user)
    for data in messages:
        assert imap.append("INBOX", None, None, data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))[0] == "OK"
    imap.logout()


def left(port: int, user: str) -> list[tuple[bytes, bytes]]:
    """(flags, Message-ID line) of each message still in the mailbox."""
    imap = mailbox(port, user)
    _, found = imap.uid("SEARCH", None, "ALL")
    result = []
    for uid in (found[0] or b"").split():
        _, parts = imap.uid("FETCH", uid, "(FLAGS BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
        result.append((parts[0][0], parts[0][1].strip()))
    imap.logout()
    return result


def imap_env(env: dict[str, str], port: int, user: str) -> dict[str, str]:
    return {**env, "KB_IMAP_HOST": "127.0.0.1", "KB_IMAP_PORT": str(port), "KB_IMAP_SECURITY": "none",
            "KB_IMAP_USER": user, "KB_IMAP_PASSWORD": IMAP_PASSWORD}


@pytest.mark.slow
def test_fetch_takes_in_the_mailbox_and_deletes_only_what_it_saved(imap_server, env, database):
    port = imap_server.port
    deliver(port, "fetch", sample("gmail_reply.eml"), sample("dsn_bounce.eml"), sample("new_ticket.eml"))
    result = kb(imap_env(env, port, "fetch"), "mail", "fetch", "--database", database)
    assert result.exit_code == 0, result.output
    assert result.stdout == "3 message(s): 1 reply added, 1 ticket opened, 0 auto replied, 1 ignored, 0 duplicate\n"
    assert left(port, "fetch") == []
    assert len(reply_bodies(database)) == 1
    assert read(database, lambda db: len(list(db.scalars(select(ReceivedMessage))))) == 3


@pytest.mark.slow
def test_fetch_leaves_the_message_when_the_database_is_down_and_keep_only_marks_it_seen(imap_server, env, database):
    port = imap_server.port
    keep = f"keep-{make_url(database).get_backend_name()}"  # a mailbox of its own on each database: kept mail stays
    deliver(port, keep, sample("gmail_reply.eml"))
    down = kb(imap_env(env, port, keep), "mail", "fetch", "--database",
              "postgresql+psycopg://kb@127.0.0.1:1/kb")
    assert down.exit_code == 75
    [(flags, _)] = left(port, keep)
    assert b"\\Seen" not in flags and b"\\Deleted" not in flags
    kept = kb(imap_env(env, port, keep), "mail", "fetch", "--keep", "--database", database)
    assert kept.exit_code == 0 and kept.stdout.startswith("1 message(s): 1 reply added")
    [(flags, message_id)] = left(port, keep)
    assert b"\\Seen" in flags and b"\\Deleted" not in flags and b"gmail-reply-1" in message_id
    again = kb(imap_env(env, port, keep), "mail", "fetch", "--keep", "--database", database)
    assert again.stdout.startswith("0 message(s)")  # seen ones are not read again
    assert len(reply_bodies(database)) == 1


def test_fetch_names_the_mailbox_it_cannot_reach(env, database):
    port = _free_port()
    result = kb(imap_env(env, port, "x"), "mail", "fetch", "--database", database)
    assert result.exit_code == 1 and f"IMAP 127.0.0.1:{port}" in result.stderr
    unset = kb(env, "mail", "fetch", "--database", database)
    assert unset.exit_code == 1 and "set imap_host" in unset.stderr


@pytest.mark.slow
@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_fetch_over_tls_checks_the_servers_certificate(imap_server, env, database, security, monkeypatch):
    port = imap_server.tls_port if security == "ssl" else imap_server.port
    user = f"tls-{security}"
    deliver(imap_server.port, user, sample("gmail_reply.eml"))
    settings = {**imap_env(env, port, user), "KB_IMAP_SECURITY": security}
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_server.certificate.parent / "no-such.pem"))  # trusts nothing
    untrusted = kb(settings, "mail", "fetch", "--database", database)
    assert untrusted.exit_code == 1 and "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr
    assert len(left(imap_server.port, user)) == 1
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_server.certificate))  # trusts this server's certificate
    trusted = kb(settings, "mail", "fetch", "--database", database)
    assert trusted.exit_code == 0 and trusted.stdout.startswith("1 message(s): 1 reply added")
    assert left(imap_server.port, user) == []
