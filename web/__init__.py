"""The Flask front end: app factory; the search service and the database are opened once per process."""
from __future__ import annotations

from flask import Flask

from kb.config import Settings, validate_settings


def create_app(settings: Settings | None = None, service=None, preview: bool = False) -> Flask:
    """The portal app. `service` may be given (tests); otherwise it is loaded from settings.index_dir, with these
    very settings: the app's `KB_SETTINGS` and its search service's `settings` are one object.

    Settings are validated first, all at once (one ConfigError lists every bad value), before the index is loaded or
    the database opened. The database schema is upgraded to the latest migration before the app answers anything.
    """
    from kb.helpdesk.db import open_database
    from kb.helpdesk.routing import parse_routing
    from search.live import LiveSearch
    from web import (account, account_tokens, admin, analytics, api, api_v1, attachments, auth, builds, community,
                     community_moderation, context, desk, desk_owners, desk_presence, errors, health, i18n, insights, join, macros, mail_preferences, notices, notifications, portal,
                     request_log, security, support, support_requests, uploads)
    from web import article_files, converters
    from web import outages
    from web.builds import PinnedSearch

    settings = validate_settings(settings or Settings())
    app = Flask(__name__)
    converters.init_app(app)
    app.config["KB_SETTINGS"] = settings
    # Every request but the forms that take files (web/uploads.py gives those room for their attachments).
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.extensions["kb.routing"] = parse_routing(settings.routing)
    # Without a given service, the app follows the index: a newly built one is served without a restart.
    app.extensions["kb.search"] = service or PinnedSearch(LiveSearch(settings.index_dir, settings,
                                                                     interval=settings.reload_interval))
    engine, sessions = open_database(settings.database_url)
    app.extensions["kb.engine"] = engine
    app.extensions["kb.db"] = sessions
    outages.init_app(app)
    analytics.init_app(app, settings, engine)
    security.init_app(app, settings)
    uploads.init_app(app)
    context.init_app(app)
    i18n.init_app(app)
    for blueprint in (portal.bp, auth.bp, support.bp, api.bp, desk.bp, desk_owners.bp, desk_presence.bp, admin.bp,
                      insights.bp, notices.bp, notices.portal_bp, macros.bp, attachments.bp, account.bp, join.bp,
                      support_requests.bp, errors.bp, api_v1.bp, account_tokens.bp, article_files.bp, community.bp,
                      community_moderation.bp):
        app.register_blueprint(blueprint)
    mail_preferences.init_app(app)
    notifications.init_app(app)
    builds.init_app(app, preview)
    security.apply_rate_limits(app, settings)
    api_v1.init_app(app, settings)
    health.init_app(app)
    request_log.init_app(app, settings)
    return app
