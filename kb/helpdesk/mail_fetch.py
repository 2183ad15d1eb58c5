"""Reading the support mailbox over IMAP (`kb mail fetch`): every message not yet handled is taken in, and only
once it was handled and committed is it marked (\\Seen, and \\Deleted unless kept), so a crash or a database
outage leaves it in the mailbox for the next run."""
from __future__ import annotations

import imaplib
import ssl
from dataclasses import dataclass, field
from typing import Callable

from kb.errors import MailboxError
from kb.helpdesk.mail_intake import IGNORED, Outcome

TIMEOUT = 60  # seconds for any one exchange with the server


@dataclass
class FetchReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for o in self.outcomes if o.outcome == outcome)


def connect(settings) -> imaplib.IMAP4:
    """Connected and signed in to the `imap_*` settings' mailbox, its folder selected (read-write)."""
    if not settings.imap_host:
        raise MailboxError("no mailbox to fetch: set imap_host (and imap_user, imap_password)")
    where = f"{settings.imap_host}:{settings.imap_port}"
    try:
        if settings.imap_security == "ssl":
            imap = imaplib.IMAP4_SSL(settings.imap_host, settings.imap_port, ssl_context=ssl.create_default_context(),
                                     timeout=TIMEOUT)
        else:
            imap = imaplib.IMAP4(settings.imap_host, settings.imap_port, timeout=TIMEOUT)
            if settings.imap_security == "starttls":
                imap.starttls(ssl_context=ssl.create_default_context())
        imap.login(settings.imap_user, settings.imap_password)
        status, detail = imap.select(_quoted(settings.imap_folder))
        if status != "OK":
            raise MailboxError(f"IMAP {where}: cannot open folder {settings.imap_folder!r}: {_text(detail)}")
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"IMAP {where}: {exc}") from None
    return imap


def fetch(imap: imaplib.IMAP4, handle: Callable[[bytes], Outcome], max_bytes: int, keep: bool = False,
          limit: int | None = None) -> FetchReport:
    """Take in the folder's messages (unseen ones with `keep`, else all not deleted) through `handle`, marking
    each only after `handle` returned; expunge the deleted ones at the end. An exception from `handle` (e.g. the
    database is down) stops the run with that message and the rest left as they were."""
    report = FetchReport()
    try:
        status, found = imap.uid("SEARCH", None, "UNSEEN UNDELETED" if keep else "UNDELETED")
        if status != "OK":
            raise MailboxError(f"IMAP: cannot list the folder's messages: {_text(found)}")
        uids = (found[0] or b"").split()[:limit]
        for uid in uids:
            status, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            data = next((part[1] for part in parts or [] if isinstance(part, tuple)), None)
            if status != "OK" or data is None:
                continue  # removed by another client in between
            if len(data) > max_bytes:
                outcome = Outcome(IGNORED, f"larger than {max_bytes} bytes (setting 'mail_max_bytes')")
            else:
                outcome = handle(data)
            report.outcomes.append(outcome)
            flags = r"(\Seen)" if keep else r"(\Seen \Deleted)"
            imap.uid("STORE", uid, "+FLAGS", flags)
        if not keep and uids:
            imap.expunge()
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailboxError(f"IMAP: {exc}") from None
    return report


def close(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        pass


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(detail) -> str:
    first = (detail or [b""])[0]
    return first.decode("utf-8", "replace") if isinstance(first, bytes) else str(first)
