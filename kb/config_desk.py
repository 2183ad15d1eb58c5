"""The help desk's settings: e-mail, attachments, accounts (one part of the one Settings object, kb/config.py)."""
from __future__ import annotations

from dataclasses import dataclass

from kb.config_fields import _setting

SMTP_SECURITY = ("none", "starttls", "tls")


def _domain(value: str) -> None:
    if value and ("@" in value or any(c.isspace() for c in value) or "." not in value.strip(".")):
        raise ValueError(f"must be a domain like 'reply.example.com' (no '@', no spaces), not {value!r}")


@dataclass(frozen=True)
class DeskSettings:
    public_url: str = _setting("", "The portal's address as customers reach it (e.g. `https://help.example.com`), for links in e-mail; empty: `http://host:port`.")
    mail_from: str = _setting("support@localhost", "The address kb's e-mail comes from; replies to a ticket's notifications go to it with the ticket's signed token after a `+`.")
    smtp_host: str = _setting("", "The SMTP server kb's e-mail is delivered through; empty: mail waits in the outbox and no sender sends it.")
    smtp_port: int = _setting(25, "The SMTP server's port (usually 25, 587 with `starttls`, 465 with `tls`).", minimum=1, maximum=65535)
    smtp_security: str = _setting("none", "How the connection to the SMTP server is protected: `none`, `starttls` (upgraded after connecting) or `tls` (from the start).",
                                  choices=SMTP_SECURITY)
    smtp_user: str = _setting("", "User name for the SMTP server; empty: no login.")
    smtp_password: str = _setting("", "Password for `smtp_user`.")
    mail_reply_domain: str = _setting("", "The domain of the signed reply addresses in notifications (`support+t-<ref>-<signature>@<domain>`); empty: `mail_from`'s domain.",
                                      check=_domain, allowed="empty, or a domain")
    mail_max_attempts: int = _setting(8, "Delivery attempts of one message before it is marked failed (temporary errors are retried with growing pauses: 1, 2, 4... minutes).",
                                      minimum=1, maximum=30)
    mail_sender: str = _setting("on", "Whether `kb serve` delivers the outbox in a background thread (`on`), or leaves delivery to `kb mail send` (`off`); reminders and automatic closes run in `kb serve` either way.",
                                choices=("on", "off"))
    mail_reminder_hours: int = _setting(48, "A customer whose ticket has waited on them this many hours is reminded once by e-mail (0: never).",
                                        minimum=0)
    auto_close_days: int = _setting(0, "A ticket waiting on its customer this many days is resolved by the system, with a notice (0: never).",
                                    minimum=0)
