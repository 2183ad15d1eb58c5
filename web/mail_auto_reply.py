"""The automatic answer to e-mail from an address without an account (kb/helpdesk/mail_intake.py decides when):
the portal's link, written from templates in the sender's language, put into the outbox with
`Auto-Submitted: auto-replied` so that other robots do not answer it. Nothing of the received message is used."""
from __future__ import annotations

from typing import Callable

from flask import Flask
from sqlalchemy.orm import Session

from kb.config import Settings
from web.mail import base_url, compose, external_url, recipient_language

AUTO_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}


def mail_app(settings: Settings) -> Flask:
    """A small app that renders mail outside the portal's process (the `kb mail` commands): the templates, the
    translations and the portal's URL rules, without a search index or a database."""
    from web import i18n, portal, support

    app = Flask("web")
    app.config["KB_SETTINGS"] = settings
    i18n.init_app(app)
    for blueprint in (portal.bp, support.bp):
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
