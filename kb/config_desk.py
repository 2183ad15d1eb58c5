"""The help desk's settings: e-mail, attachments, accounts (one part of the one Settings object, kb/config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.config_fields import _LIMIT, _setting

_WEB_ROOT = Path(__file__).resolve().parent.parent / "web" / "static"


def _attachment_types(value: str) -> None:
    from kb.helpdesk.file_types import parse_types

    parse_types(value)


def _outside_web_root(value: Path) -> None:
    """Attachments are only ever served through the route that checks who may see them."""
    try:
        Path(value).resolve().relative_to(_WEB_ROOT)
    except ValueError:
        return
    raise ValueError(f"must be outside the web root ({_WEB_ROOT}), not {str(value)!r}")

def _sla_targets(value: str) -> None:
    from kb.helpdesk.sla import parse_targets

    parse_targets(value)


def _priorities(value: str) -> None:
    from kb.helpdesk.sla import parse_priorities

    parse_priorities(value)


def _category_priorities(value: str) -> None:
    from kb.helpdesk.priority import parse_category_priorities

    parse_category_priorities(value)


def _business_hours(value: str) -> None:
    from kb.helpdesk.sla import parse_business_hours

    parse_business_hours(value)


def _time_zone(value: str) -> None:
    from kb.helpdesk.sla import parse_zone

    parse_zone(value)


_TARGETS = {"check": _sla_targets, "allowed": "a target per priority like `P1=1h, P2=4h, P3=8h, P4=24h` (units `m`, `h`, `d`)"}
PRIORITY_CHOICES = ("P1", "P2", "P3", "P4")
SMTP_SECURITY = ("none", "starttls", "tls")


def _domain(value: str) -> None:
    if value and ("@" in value or any(c.isspace() for c in value) or "." not in value.strip(".")):
        raise ValueError(f"must be a domain like 'reply.example.com' (no '@', no spaces), not {value!r}")


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
    attachments_dir: Path = _setting(Path("var/attachments"), "Folder where files attached to tickets are kept (outside the web root; only the ticket's people can download them).",
                                     check=_outside_web_root, allowed="a folder outside `web/static`")
    attachment_max_mb: int = _setting(10, "Largest file a customer or an agent may attach, in MB.", minimum=1, maximum=100)
    attachments_per_message: int = _setting(5, "Files that may come with one ticket or reply (0: attachments are off).",
                                            minimum=0, maximum=20)
    attachment_types: str = _setting("image/png, image/jpeg, image/gif, image/webp, application/pdf, text/plain, application/zip",
                                     "File types that may be attached (MIME types, comma-separated), checked against each file's content, not its name; `text/plain` covers .txt, .log and .csv. HTML, SVG and XML are never allowed.",
                                     check=_attachment_types, allowed="MIME types kb recognises (kb/helpdesk/file_types.py)")
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
    rate_limit_api: str = _setting("600/minute", "Requests to `/api/v1` per API token (requests without one: per client address).",
                                   **_LIMIT)
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
    priority_default: str = _setting("P3", "The priority of a new ticket when no rule of kb/helpdesk/priority.py (outage, everyone, security, request words) and no `priority_categories` entry applies.",
                                     choices=PRIORITY_CHOICES)
    priority_categories: str = _setting("", "A new ticket's priority per category when its text shows no rule's words, e.g. `security=P2, billing=P4`.",
                                        check=_category_priorities, allowed="`category=P1`..`P4`, comma-separated")
    sla_first_response: str = _setting("P1=1h, P2=4h, P3=8h, P4=24h", "Target for the first reply the customer sees, per priority, in business time (`business_hours`).",
                                       **_TARGETS)
    sla_resolution: str = _setting("P1=4h, P2=24h, P3=72h, P4=120h", "Target for resolving a ticket, per priority, in business time; time waiting on the customer counts too.",
                                   **_TARGETS)
    sla_always_on: str = _setting("", "Priorities whose targets run round the clock even outside `business_hours`, e.g. `P1`.",
                                  check=_priorities, allowed="priorities `P1`..`P4`, comma-separated")
    business_hours: str = _setting("", "When the service desk works, for SLA targets, e.g. `Mon-Fri 09:00-18:00` or `Mon-Fri 08:00-12:00 13:00-18:00; Sat 09:00-12:00`; empty: 24/7.",
                                   check=_business_hours, allowed="empty, or days and times like `Mon-Fri 09:00-18:00`")
    business_timezone: str = _setting("UTC", "The time zone of `business_hours` (an IANA name like `Europe/Sofia`; daylight-saving changes are followed).",
                                      check=_time_zone, allowed="an IANA time zone name")
    desk_restrict_to_groups: bool = _setting(False, "Whether an agent sees and opens only the tickets of their own agent group (`true`); admins see every ticket either way.",
                                             allowed="`true` or `false`")
    community_hold_first_posts: int = _setting(0, "A customer's first this many community posts (questions and answers) wait for an agent's review before others see them (0: none are held).",
                                               minimum=0, maximum=100)
    rate_limit_community_posts: str = _setting("20/hour", "Community questions, answers, edits and reports one signed-in user may post.",
                                               **_LIMIT)
    community_search_min_votes: int = _setting(2, "A community answer with at least this many up-votes makes its question searchable beside the articles (accepted and agent-endorsed answers always do; private topics never).",
                                               minimum=1, maximum=1000)
    community_index_interval: float = _setting(30.0, "Seconds between the serving process's passes over the community questions, which make newly answered ones searchable (0: no community search).",
                                               minimum=0, maximum=3600)
    community_search_penalty: float = _setting(0.05, "Subtracted from a community question's cosine with the query before it is placed among the articles: it is listed below every article whose best passage is at least that close.",
                                               minimum=0, maximum=1)
    community_search_min_cosine: float = _setting(0.87, "When a search lists no article, a community question is listed only when its cosine with the query is at least this (depends on the embedding model: 0.87 suits multilingual-e5-small; with articles listed, a community question must be as relevant as the last of them).",
                                                  minimum=0, maximum=1)
