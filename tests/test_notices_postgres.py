"""Known-issue notices on PostgreSQL: attaching once and resolving once when two agents race."""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.portal import add_people, make_app
from tests.test_notices import resolve_from_two_sessions

pytestmark = pytest.mark.slow


def test_two_agents_resolving_at_once_on_postgresql(portal_index, clean_database):
    settings, service = portal_index
    app = make_app(replace(settings, database_url=clean_database, secret_key="k" * 32), service)
    add_people(app)
    resolve_from_two_sessions(app.extensions["kb.db"])
