"""The mail written for e-mail taken in outside the portal's process (kb/helpdesk/mail_intake.py decides when):
the automatic answer to an address without an account (the portal's link, from templates in the sender's language,
with `Auto-Submitted: auto-replied` so that other robots do not answer it; nothing of the received message is
used), and the notifications of a ticket opened or a reply added by e-mail, the same as the portal writes."""
from __future__ import annotations

from typing import Any, Callable

from flask import Flask
from sqlalchemy.orm import Session

from kb.config import Settings
from kb.helpdesk.models import EVENT_SUBMITTED, Ticket, TicketEvent
from web.mail import base_url, compose, external_url, recipient_language

AUTO_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def mail_app(settings: Settings) -> Flask:
    """A small app that renders mail outside the portal's process (the `kb mail` commands): the templates, the
    translations, the URL rules of the portal, the desk and the mail preferences, and the site's secret key (reply
    addresses and unsubscribe links are signed with it), without a search index or a database."""
    from kb.secret_key import secret_key
    from web import desk, i18n, mail_preferences, portal, support

    app = Flask("web")
    app.config["KB_SETTINGS"] = settings
    app.secret_key = secret_key(settings)
    i18n.init_app(app)
    for blueprint in (portal.bp, support.bp, desk.bp, mail_preferences.bp):
        app.register_blueprint(blueprint)
    return app


def unknown_sender_reply(app: Flask) -> Callable[[Session, str, str], None]:
    """The `auto_reply` callable of kb.helpdesk.mail_intake.take_in, rendering with `app`."""
    def answer(db: Session, address: str, lang: str) -> None:
        settings = app.config["KB_SETTINGS"]
        with app.test_request_context(base_url=base_url(settings)):
            language = recipient_language(None, lang)
            compose(db, "unknown_sender", to=address, lang=language, kind="unknown_sender",
                    headers=AUTO_HEADERS, portal_url=external_url("portal.home"))
    return answer


def intake_notifications(app: Flask) -> Callable[[Session, Ticket, TicketEvent], None]:
    """The `notify` callable of kb.helpdesk.mail_intake.take_in, rendering with `app`: a ticket opened by e-mail is
    acknowledged to its customer and announced to its group's agents, a reply by e-mail announced to the agents."""
    def notify(db: Session, ticket: Ticket, event: TicketEvent) -> None:
        from web import notifications

        with app.test_request_context(base_url=base_url(app.config["KB_SETTINGS"])):
            if event.kind == EVENT_SUBMITTED:
                notifications.ticket_filed(db, ticket)
            else:
                notifications.customer_replied(db, ticket, event)
    return notify


class IntakeHooks:
    """The parts of taking in e-mail (kb.helpdesk.mail_intake.take_in) that live above the help desk: a new
    ticket's category from the search service, loaded at the first ticket (none without a usable index, said
    through `report`), and the automatic answer and notifications rendered by `mail_app`, made at the first message
    that needs one."""

    def __init__(self, settings: Settings, report: Callable[[str], None]) -> None:
        self.settings, self.report = settings, report
        self._service: Any = None
        self._loaded = False
        self._app: Flask | None = None

    def classify(self, text: str) -> str | None:
        from kb.errors import KbError
        from search.service import SearchService

        if not self._loaded:
            self._loaded = True
            try:
                self._service = SearchService.load(self.settings.index_dir, self.settings)
            except KbError as exc:
                self.report(f"no category predicted, the index cannot be loaded: {exc}")
        if self._service is None:
            return None
        response = self._service.search(" ".join(text.split())[:self.settings.max_query_chars], k=1)
        return response.category if response.category in self._service.categories else None

    def renderer(self) -> Flask:
        if self._app is None:
            self._app = mail_app(self.settings)
        return self._app

    def auto_reply(self, db: Session, address: str, lang: str) -> None:
        unknown_sender_reply(self.renderer())(db, address, lang)

    def notify(self, db: Session, ticket: Ticket, event: TicketEvent) -> None:
        intake_notifications(self.renderer())(db, ticket, event)

    def close(self) -> None:
        if self._service is not None:
            self._service.close()
