"""The help desk's settings: e-mail, attachments, accounts (one part of the one Settings object, kb/config.py)."""
from __future__ import annotations

from dataclasses import dataclass

from kb.config_fields import _setting


@dataclass(frozen=True)
class DeskSettings:
    public_url: str = _setting("", "The portal's address as customers reach it (e.g. `https://help.example.com`), for links in e-mail; empty: `http://host:port`.")
    mail_from: str = _setting("support@localhost", "The address kb's e-mail comes from; replies to a ticket's notifications go to it with the ticket's signed token after a `+`.")
