"""The suggestions' cache (web/suggest_cache.py): a text asked again is answered without searching, yet recorded
as a search of its own; entries are bounded, kept apart per build, audience and interface language, and never
serve an older build's answer; size 0 keeps nothing."""
from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from indexer.build import build_index
from kb.config import Settings
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.analytics import is_token
from kb.helpdesk.models import SearchRecord
from search.community import CommunityIndex, Thread
from tests.concurrency import while_running
from tests.portal import PASSWORD, add_people, make_app, sign_in
from tests.test_community_suggest import seed
from tests.test_community_pages import BOB, OZ, client_of
from tests.test_live import add_round_article
from tests.test_mail_notifications import AGENT, mail_app
from web.notice_snapshot import notice_snapshot
from web.suggest_cache import SuggestCache, suggest_cache
from web.suggestions import suggestion_search

PRINTER = "my printer says offline"  # confident on the small help center (tests/conftest.py)
AGENT_ONLY = "agent procedure caller identity callback number password reset"  # words of its internal article


class CountingSearch:
    """The search service, counting the searches it runs (attribute access goes to the service)."""

    def __init__(self, service) -> None:
        self.service = service
        self.searched: list[str] = []

    def search(self, query: str, **options):
        self.searched.append(query)
        return self.service.search(query, **options)

    def __getattr__(self, name: str):
        return getattr(self.service, name)


def counting_app(portal_index, portal_settings, **changes):
    service = CountingSearch(portal_index[1])
    app = make_app(replace(portal_settings, **changes), service)
    add_people(app)
    return app, service


def asked(client, text: str, **headers) -> dict:
    response = client.get("/api/suggest", query_string={"q": text}, headers=headers)
    assert response.status_code == 200
    return response.get_json()


def recorded(app) -> list[SearchRecord]:
    app.extensions["kb.events"].flush()
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(SearchRecord).order_by(SearchRecord.id)))


def without_tokens(answer: dict) -> dict:
    return {**answer, "search": "", "session": "",
            "suggestions": [{**s, "url": s["url"].split("?")[0]} for s in answer["suggestions"]]}


def test_a_text_asked_again_is_answered_without_searching_and_recorded_again(portal_index, portal_settings):
    app, service = counting_app(portal_index, portal_settings)
    client = app.test_client()
    first, second = asked(client, PRINTER), asked(client, f"  {PRINTER.replace(' ', '   ')} ")
    assert service.searched == [PRINTER]  # whitespace folded: one search for both
    cache = suggest_cache(app)
    assert (cache.hits, cache.misses, len(cache)) == (1, 1, 1)
    assert first["confident"] and first["suggestions"]
    assert without_tokens(second) == without_tokens(first)
    # each answer names its own recorded search, and its links carry that search's token
    assert is_token(first["search"]) and is_token(second["search"]) and first["search"] != second["search"]
    assert f"?s={second['search']}&p=1" in second["suggestions"][0]["url"]
    rows = recorded(app)
    assert [r.token for r in rows] == [first["search"], second["search"]]
    assert {(r.query, r.source, r.top_article, r.confident) for r in rows} == \
        {(PRINTER, "suggest", first["suggestions"][0]["id"], True)}


def test_another_case_or_interface_language_is_searched_apart(portal_index, portal_settings):
    app, service = counting_app(portal_index, portal_settings)
    client = app.test_client()
    asked(client, PRINTER)
    asked(client, PRINTER.upper())  # the multilingual model reads letter case
    asked(client, PRINTER, **{"Accept-Language": "ru"})
    asked(client, PRINTER, **{"Accept-Language": "ru"})
    assert service.searched == [PRINTER, PRINTER.upper(), PRINTER]
    assert len(suggest_cache(app)) == 3


def test_the_cache_holds_at_most_its_size_and_lets_the_least_recent_go(portal_index, portal_settings):
    app, service = counting_app(portal_index, portal_settings, suggest_cache_size=2)
    client = app.test_client()
    for text in ("printer offline", "forgot password", "printer offline", "vpn error"):
        asked(client, text)
    assert len(suggest_cache(app)) == 2
    assert service.searched == ["printer offline", "forgot password", "vpn error"]
    asked(client, "printer offline")  # kept: asked more recently than "forgot password"
    asked(client, "forgot password")  # gone
    assert service.searched[3:] == ["forgot password"] and len(suggest_cache(app)) == 2


def test_size_zero_keeps_nothing(portal_index, portal_settings):
    app, service = counting_app(portal_index, portal_settings, suggest_cache_size=0)
    client = app.test_client()
    answers = [asked(client, PRINTER) for _ in range(3)]
    assert service.searched == [PRINTER] * 3 and len(suggest_cache(app)) == 0
    assert len({a["search"] for a in answers}) == 3 and len(recorded(app)) == 3


def test_an_internal_answer_never_reaches_customers_through_the_cache(portal_index, portal_settings):
    app, service = counting_app(portal_index, portal_settings)
    with app.test_request_context("/"):
        internal = suggestion_search(AGENT_ONLY, "en", audience="internal")
    assert "agent-only" in [h.id for h in internal.response.hits]  # what an agent's search of the text finds
    customer = client_of(app)
    answer = asked(customer, AGENT_ONLY)
    assert service.searched == [AGENT_ONLY, AGENT_ONLY]  # the customers' search ran: no internal entry reused
    assert all(s["id"] != "agent-only" for s in answer["suggestions"])
    with app.test_request_context("/"):
        public = suggestion_search(AGENT_ONLY, "en")
    assert "agent-only" not in [h.id for h in public.response.hits]
    assert len(suggest_cache(app)) == 2


def test_signed_in_staff_and_customers_of_each_organisation_share_only_public_answers(portal_index, portal_settings):
    app = mail_app(portal_index, portal_settings)
    names = {v: k for k, v in seed(app).items()}
    staff = app.test_client()
    assert sign_in(staff, AGENT).status_code == 302
    by_staff = asked(staff, AGENT_ONLY)
    assert all(s["id"] != "agent-only" for s in by_staff["suggestions"])  # the portal suggests public articles
    assert without_tokens(asked(client_of(app), AGENT_ONLY)) == without_tokens(by_staff)

    def community(email):  # the ask form: its articles come from the cache, its questions are the asker's own
        response = client_of(app, email).get("/community/suggest", query_string={"q": "My printer is offline"})
        data = response.get_json()
        return [a["id"] for a in data["articles"]], [names[q["id"]] for q in data["questions"]]

    bob, oz, anonymous = community(BOB), community(OZ), community(None)
    assert suggest_cache(app).hits >= 2
    assert bob[0] == oz[0] == anonymous[0]
    assert "private" in bob[1] and "private" not in oz[1] and "private" not in anonymous[1]


def test_a_new_build_is_never_answered_from_the_older_ones_entries(settings: Settings, encoder, center: Path,
                                                                   tmp_path: Path, monkeypatch):
    from kb.embedding import encoders as encoder_module
    from tests.fakes import HashingEncoder
    from web import create_app

    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing",
                        lambda threads, batch, precision, **options: HashingEncoder())
    build_index(settings, encoder, progress=False)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                                      reload_interval=0.0))
    text = "printer queue stuck round 0"

    def hits() -> tuple[str, list[str]]:
        with app.test_request_context("/"):
            found = suggestion_search(text, "en")
            return app.extensions["kb.search"].index_dir.name, [h.id for h in found.response.hits]

    first_build, before = hits()
    assert hits() == (first_build, before) and suggest_cache(app).hits == 1
    add_round_article(center, 0)
    build_index(settings, encoder, progress=False)
    app.extensions["kb.search"].live.check(wait=True)
    second_build, after = hits()
    assert second_build != first_build
    assert "round-0" not in before and after[0] == "round-0"
    assert suggest_cache(app).misses == 2


def test_a_community_pass_that_changes_what_is_searched_changes_the_version():
    index = CommunityIndex()
    embed = lambda texts: [[1.0, float(len(t))] for t in texts]  # noqa: E731 - two-dimensional stand-in vectors
    one = Thread(1, "q1", "toner smudges", True, False, "shake it")
    index.refresh([one], embed, "m")
    version = index.version
    index.refresh([one], embed, "m")
    assert index.version == version  # a pass that found nothing new keeps the answers kept for it
    index.refresh([replace(one, endorsed=True)], embed, "m")
    assert index.version == version + 1
    index.refresh([replace(one, endorsed=True)], embed, "other model")
    assert index.version == version + 2


def test_threads_sharing_a_small_cache_never_fail_and_keep_it_bounded():
    cache = SuggestCache(8)
    computed: list[int] = []
    lock = threading.Lock()
    counter = iter(range(10 ** 9))

    def work() -> None:
        key = next(counter) % 20
        with lock:
            computed.append(key)
        assert cache.get(key, lambda: ("answer", key)) == ("answer", key)
        assert len(cache) <= 8

    errors = while_running(work, lambda: time.sleep(0.5))
    assert errors == [] and len(cache) == 8
    assert cache.hits + cache.misses == len(computed) and cache.misses >= 20


# --- the notices the suggestions carry ----------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def notices_app(portal_index, portal_settings, seconds: float):
    app, _ = counting_app(portal_index, portal_settings, suggest_notices_seconds=seconds)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
    return app


def shown_notices(client) -> list[int]:
    return [n["id"] for n in asked(client, PRINTER)["notices"]]


def test_notices_are_read_once_per_period_and_each_request_picks_those_active_then(portal_index, portal_settings,
                                                                                   monkeypatch):
    from tests.test_notices import add_notice
    from web import notice_snapshot as module

    clock = Clock()
    monkeypatch.setattr(module.time, "monotonic", clock)
    app = notices_app(portal_index, portal_settings, 5.0)
    client = app.test_client()
    ending = add_notice(app, "Printers down until the fix", "printers", end=timedelta(seconds=1))
    add_notice(app, "VPN down", "vpn")  # another category: never with the printer's suggestions
    assert shown_notices(client) == [ending]
    time.sleep(1.1)  # the notice ends: the next request leaves it out without reading again
    later = add_notice(app, "Maintenance tonight")  # posted after the read
    assert shown_notices(client) == [] and module.notice_snapshot(app).reads == 1
    clock.now += 5.0
    assert shown_notices(client) == [later] and module.notice_snapshot(app).reads == 2


def test_with_zero_seconds_every_request_reads_the_notices(portal_index, portal_settings):
    from tests.test_notices import add_notice

    app = notices_app(portal_index, portal_settings, 0.0)
    client = app.test_client()
    assert shown_notices(client) == []
    posted = add_notice(app, "Printers on floor 3 are down", "printers")
    assert shown_notices(client) == [posted]
    resolved = add_notice(app, "Old outage", "printers", resolved=True)
    assert resolved not in shown_notices(client)
    assert notice_snapshot(app).reads == 3
