"""Which index build answers: the app's search service follows newly built indexes, and one request sees one
build (the one it is pinned to) from start to end.

With `preview` on (`kb serve --watch`), every page polls the index version and reloads itself when a rebuild
has been published, so an editor sees a saved article without reloading by hand.
"""
from __future__ import annotations

from flask import Blueprint, Flask, current_app, g, has_request_context, jsonify

from search.live import LiveSearch

bp = Blueprint("builds", __name__)


class PinnedSearch:
    """Stands for the serving SearchService: attribute access goes to the build pinned for this request."""

    def __init__(self, live: LiveSearch) -> None:
        self.live = live

    def pinned(self):
        if not has_request_context():
            return self.live.current()
        service = g.get("kb_search")
        if service is None:
            service = g.kb_search = self.live.current()
        return service

    def __getattr__(self, name: str):
        return getattr(self.pinned(), name)


def build_id() -> str:
    """The serving build's id (its folder name)."""
    return current_app.extensions["kb.search"].index_dir.name


@bp.get("/_index")
def index_version():
    """Which build answers now: pages in preview poll this and reload when it changes."""
    return jsonify(build=build_id(), built_at=current_app.extensions["kb.search"].manifest.built_at)


def init_app(app: Flask, preview: bool) -> None:
    app.config["KB_PREVIEW"] = preview
    app.register_blueprint(bp)

    @app.context_processor
    def preview_build() -> dict:
        return {"kb_preview_build": build_id() if app.config["KB_PREVIEW"] else None}
