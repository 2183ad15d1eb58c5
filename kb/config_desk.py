"""The help desk's settings: e-mail, attachments, accounts (one part of the one Settings object, kb/config.py)."""
from __future__ import annotations

from dataclasses import dataclass

from kb.config_fields import _LIMIT, _setting


@dataclass(frozen=True)
class DeskSettings:
    public_url: str = _setting("", "The portal's address as customers reach it (e.g. `https://help.example.com`), for links in e-mail; empty: `http://host:port`.")
    mail_from: str = _setting("support@localhost", "The address kb's e-mail comes from; replies to a ticket's notifications go to it with the ticket's signed token after a `+`.")
    password_link_hours: int = _setting(2, "A \"forgot password\" link works this many hours, once.", minimum=1)
    invitation_days: int = _setting(7, "An invitation to an organisation works this many days, once (a manager may withdraw it sooner).",
                                    minimum=1)
    account_link_hours: int = _setting(24, "Links that confirm an address (sign-up by domain, a new e-mail address, an anonymous request) work this many hours, once.",
                                       minimum=1)
    anonymous_requests: str = _setting("off", "Whether visitors who are not signed in may file a ticket with an e-mail address (`on`); it enters the queue only once the link mailed to that address is followed.",
                                       choices=("off", "on"))
    rate_limit_account_mail: str = _setting("10/hour", "Account e-mail (forgot password, sign-up, invitations, a new address, anonymous requests) one client address or signed-in user may ask for.",
                                            **_LIMIT)
    rate_limit_account_mail_address: str = _setting("3/hour", "Account e-mail asked for one e-mail address, from everyone together (whether or not it has an account).",
                                                    **_LIMIT)
    rate_limit_account_links: str = _setting("30/hour", "Uses of account links (reset, invitation, sign-up, new address, anonymous request) per client address, and wrong current passwords per signed-in user.",
                                             **_LIMIT)
