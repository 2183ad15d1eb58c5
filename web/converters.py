"""The converter of every `<name>` segment in the portal's addresses: one path segment without control characters.

No ticket reference, token, slug or id the portal makes holds a control character, so an address with one names
nothing: routing answers 404 before any view runs, instead of each view looking the segment up to find no row.
(What does reach the database is text it can hold on every engine: kb.helpdesk.db.holdable.)"""
from __future__ import annotations

from werkzeug.routing import Map, UnicodeConverter


class PrintableSegment(UnicodeConverter):
    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        self.regex = r"[^/\x00-\x1f\x7f]" + self.regex.removeprefix("[^/]")


def init_app(app) -> None:
    """Before any blueprint is registered: a rule takes its converters when it is added."""
    app.url_map.converters.update(default=PrintableSegment, string=PrintableSegment)
