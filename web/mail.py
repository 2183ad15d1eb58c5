"""Writing e-mail from the web layer: a template rendered in the recipient's language (not the page's), with
absolute links, put into the outbox in the caller's database transaction (kb/helpdesk/outbox.py). Messages are
delivered later by the sender; nothing here talks to a mail server."""
from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urljoin

from flask import current_app, g, url_for
from flask_babel import force_locale
from sqlalchemy.orm import Session

from kb.config import Settings
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import Ticket, User
from kb.helpdesk.outbox import enqueue
from web.i18n import DEFAULT_LANGUAGE, LANGUAGES


def settings() -> Settings:
    return current_app.config["KB_SETTINGS"]


def base_url(config: Settings) -> str:
    """The portal's address for links in mail: `public_url`, else the address `kb serve` listens on."""
    return (config.public_url or f"http://{config.host}:{config.port}").rstrip("/") + "/"


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link to `endpoint` under `base_url` (also outside a request, e.g. in a background job)."""
    return urljoin(base_url(settings()), url_for(endpoint, **values).lstrip("/"))


def mail_domain(config: Settings) -> str:
    return config.mail_from.rpartition("@")[2] or "localhost"


def recipient_language(user: User | None, fallback: str = "") -> str:
    """The language mail to `user` is written in: theirs, else `fallback`, else the site's default."""
    for lang in ((user.language if user else ""), fallback):
        if lang in LANGUAGES:
            return lang
    return DEFAULT_LANGUAGE


def render(template: str, *, lang: str, user: User | None = None, ticket: Ticket | None = None,
           **context: Any) -> tuple[str, str, str]:
    """`mail/<template>` rendered in `lang`: (subject, text, html)."""
    values = {**context, "user": user, "ticket": ticket, "base_url": base_url(settings())}
    with force_locale(lang):
        return tuple(current_app.jinja_env.get_template(f"mail/{template}{suffix}").render(values)
                     for suffix in (".subject.txt", ".txt", ".html"))  # type: ignore[return-value]


def compose(db: Session, template: str, *, to: str, lang: str, kind: str, user: User | None = None,
            ticket: Ticket | None = None, headers: Mapping[str, str] | None = None,
            **context: Any) -> OutboxMessage:
    """Render `mail/<template>.subject.txt`, `.txt` and `.html` in `lang` and add the message to `db`'s
    transaction. The templates get `context`, `user`, `ticket` and `base_url`. Every message written so (a
    notification, a password link, an invitation) makes the request wake the sender when it ends."""
    subject, text, html = render(template, lang=lang, user=user, ticket=ticket, **context)
    g.kb_mail_written = True  # the request's end wakes the serving process's sender (web/notifications.init_app)
    return enqueue(db, to=to, subject=subject, text=text, html=html, kind=kind, lang=lang,
                   user_id=user.id if user else None, ticket_id=ticket.id if ticket else None, headers=headers,
                   domain=mail_domain(settings()))
