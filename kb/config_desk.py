"""The help desk's settings: e-mail, attachments, accounts (one part of the one Settings object, kb/config.py)."""
from __future__ import annotations

from dataclasses import dataclass

from kb.config_fields import _setting


@dataclass(frozen=True)
class DeskSettings:
    public_url: str = _setting("", "The portal's address as customers reach it (e.g. `https://help.example.com`), for links in e-mail; empty: `http://host:port`.")
    mail_from: str = _setting("support@localhost", "The address kb's e-mail comes from; replies to a ticket's notifications go to it with the ticket's signed token after a `+`.")
    mail_unknown_sender: str = _setting("reply", "Mail to the support address from an address with no account: `reply` sends one automatic answer a day with the portal's link; `organisation` opens a ticket for the organisation owning the sender's e-mail domain (a member account without a password is created), else answers as `reply`.", choices=("reply", "organisation"))
    mail_sender_hourly: int = _setting(20, "At most this many e-mails from one sender are taken in per hour; more are ignored (a mail loop, a flood).", minimum=1)
    mail_max_bytes: int = _setting(10 * 1024 * 1024, "The largest e-mail taken in (bytes); a larger one is ignored. A body longer than a ticket holds is cut, with a note.", minimum=1024)
    imap_host: str = _setting("", "The IMAP server `kb mail fetch` reads the support mailbox from; empty: no mailbox to fetch.")
    imap_port: int = _setting(993, "The IMAP server's port (993 for `ssl`, 143 for `starttls` or `none`).", minimum=1, maximum=65535)
    imap_security: str = _setting("ssl", "How `kb mail fetch` connects: `ssl` (TLS from the start), `starttls`, or `none` (a server on this machine only). With TLS the server's certificate must be valid for `imap_host` and signed by a CA the system trusts.", choices=("ssl", "starttls", "none"))
    imap_user: str = _setting("", "The IMAP account's user name.")
    imap_password: str = _setting("", "The IMAP account's password (better given as `KB_IMAP_PASSWORD`).")
    imap_folder: str = _setting("INBOX", "The mailbox folder `kb mail fetch` reads; a message is deleted from it once it was handled and saved.")
