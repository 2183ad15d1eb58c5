"""The Flask front end: app factory; the search service is loaded once per process."""
from __future__ import annotations

from flask import Flask

from kb.config import Settings


def create_app(settings: Settings | None = None, service=None) -> Flask:
    """The portal app. `service` may be given (tests); otherwise it is loaded from settings.index_dir."""
    from search.service import SearchService
    from web import portal

    settings = settings or Settings()
    app = Flask(__name__)
    app.config["KB_SETTINGS"] = settings
    app.extensions["kb.search"] = service or SearchService.load(settings.index_dir, settings)
    app.register_blueprint(portal.bp)
    return app
