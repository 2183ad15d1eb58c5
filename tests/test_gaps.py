"""Content gaps: the failed texts read from a seeded database, their grouping by meaning, the threshold read from
the help center's own questions, the closest article and priority, and `kb gaps` in both output formats."""
from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlalchemy import event, inspect, text

from kb.cli import cli
from kb.helpdesk.accounts import add_organisation, add_user
from kb.helpdesk.analytics import CLICK, TICKET_FILED, new_token
from kb.helpdesk.db import downgrade, make_engine, open_database, upgrade
from kb.helpdesk.gap_sources import SEARCH, TICKET, GapText, failed_searches, fold, unanswered_tickets
from kb.helpdesk.models import AnalyticsEvent, SearchRecord, Ticket
from search.gaps import calibration_questions, derive_threshold, find_gaps, group_texts

D1, D2, D3 = datetime(2026, 3, 2, 9), datetime(2026, 3, 3, 15), datetime(2026, 3, 10, 8)


# --- grouping on crafted vectors ------------------------------------------------------------------------------------

def unit(*rows) -> np.ndarray:
    vectors = np.array(rows, dtype=np.float64)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_texts_group_by_mean_cosine_most_frequent_first():
    # rows 0, 2 and 4 point one way, rows 1 and 3 another; row 5 is orthogonal to both.
    vectors = unit([1, 0.1, 0], [0, 1, 0.1], [1, 0, 0.1], [0.1, 1, 0], [1, 0.2, 0.1], [0, 0, 1])
    counts = [3, 7, 1, 2, 5, 4]
    groups = group_texts(vectors, counts, threshold=0.8)
    # taken by count: 1 (7), 4 (5), 5 (4), 0 (3), 3 (2), 2 (1)
    assert groups == [[1, 3], [4, 0, 2], [5]]
    assert group_texts(vectors, counts, threshold=-1.0) == [[1, 4, 5, 0, 3, 2]]  # everything is one group
    assert len(group_texts(vectors, counts, threshold=1.01)) == 6  # nothing reaches it


def test_a_text_joins_the_group_it_is_closest_to_on_average_not_its_nearest_member():
    # 0 and 1 form a tight group; 2 is close to 1 alone; with average linkage it must reach the whole group.
    vectors = unit([1, 0, 0], [1, 0.3, 0], [0.5, 1, 0])
    first = vectors[2] @ vectors[1]
    average = (vectors[2] @ vectors[0] + vectors[2] @ vectors[1]) / 2
    threshold = (first + average) / 2  # the nearest member clears it, the group's average does not
    assert group_texts(vectors, [3, 2, 1], threshold) == [[0, 1], [2]]


def test_the_threshold_separates_phrasings_of_one_problem_from_two():
    rng = np.random.default_rng(7)
    centres = rng.normal(size=(4, 16))
    vectors, labels = [], []
    for label, centre in enumerate(centres):
        for _ in range(5):
            vectors.append(centre + rng.normal(scale=0.35, size=16))
            labels.append(f"article-{label}")
    vectors = unit(*vectors)
    threshold = derive_threshold(vectors, labels)
    sims = vectors @ vectors.T
    same = np.array([[a == b for b in labels] for a in labels])
    within = sims[same & ~np.eye(len(labels), dtype=bool)]
    between = sims[~same]
    assert between.max() < threshold <= within.min()  # separable data: every pair falls on its side
    groups = group_texts(vectors, [1] * len(labels), threshold)
    assert sorted(sorted(labels[i] for i in g) for g in groups) == [[f"article-{n}"] * 5 for n in range(4)]


def test_no_threshold_without_two_problems_of_two_phrasings():
    vectors = unit([1, 0], [0.9, 0.1], [0, 1])
    assert derive_threshold(vectors, ["a", "a", "b"]) is None
    assert derive_threshold(vectors, ["a", "b", "c"]) is None


def test_calibration_questions_label_translations_as_one_problem(portal_index):
    _, service = portal_index
    texts, labels = calibration_questions(service.visible_articles("public"))
    assert "my printer says offline" in texts and "не работает впн" in texts
    assert "Verify" not in " ".join(texts)  # internal articles are not read for customers' gaps
    assert dict(zip(texts, labels))["forgot password"] == "reset-password"
    few_texts, _ = calibration_questions(service.visible_articles("public"), limit=2)
    assert len(few_texts) < len(texts)


def test_an_article_without_questions_lends_its_title_and_description():
    from types import SimpleNamespace

    articles = {"a": SimpleNamespace(group="a", questions=(), title="Printer jams", description="Clear a paper jam"),
                "b": SimpleNamespace(group="b", questions=("q1", "q2"), title="B", description="b"),
                "c": SimpleNamespace(group="c", questions=("only one",), title="C", description="")}
    assert calibration_questions(articles) == (["Printer jams", "Clear a paper jam", "q1", "q2"], ["a", "a", "b", "b"])


# --- the texts customers failed with, from a seeded database ------------------------------------------------------

def record(query: str, when: datetime = D1, confident: bool = False, searched: str = "", token: str = "",
           confidence: float = 0.1) -> SearchRecord:
    return SearchRecord(token=token or new_token(), source="portal", visitor="v:x", query=query, searched=searched,
                        confident=confident, confidence=confidence, created_at=when)


@pytest.fixture
def seeded(database_url: str):
    url = database_url
    _, sessions = open_database(url)
    ticketed, clicked = new_token(), new_token()
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        db.flush()
        db.add_all([
            record("Scanner  jams"), record("scanner jams", D2), record("SCANNER JAMS ", D2),
            record("сканер зажевал бумагу", D2), record("сканер зажевал бумагу", D2),
            record("ghbynth", searched="принтер"),  # counted as searched after the layout fix
            record("printer offline", D2, confident=True, confidence=0.9),  # answered: not a gap
            record("reset password", D2, confident=True, confidence=0.8, token=ticketed),  # answered, yet a ticket
            record("vpn drops", D2, confident=True, confidence=0.7, token=clicked),  # answered and clicked
            record("scanner jams", D3),  # a week later
            AnalyticsEvent(kind=TICKET_FILED, search_token=ticketed, ticket_ref="KB-1", created_at=D2),
            AnalyticsEvent(kind=CLICK, search_token=clicked, article_id="vpn", position=1, created_at=D2),
        ])
        no_suggestion = {"query": "", "confidence": 0.1, "shown": [], "search": ""}
        db.add_all([
            Ticket(ref="KB-1", customer_id=ann.id, subject="s", description="d", created_at=D2,
                   deflection={"query": "reset password", "shown": [], "search": ticketed}),  # its search counts
            Ticket(ref="KB-2", customer_id=ann.id, subject="Badge reader", description="  beeps twice ",
                   deflection=no_suggestion, created_at=D2),
            Ticket(ref="KB-3", customer_id=ann.id, subject="x", description="y", created_at=D2,
                   deflection={"query": "wifi is slow", "shown": [], "search": new_token()}),  # search unrecorded
            Ticket(ref="KB-4", customer_id=ann.id, subject="Printer", description="offline", created_at=D2,
                   deflection={"query": "printer offline", "shown": [{"id": "p", "title": "P"}], "search": ""}),
            Ticket(ref="KB-5", customer_id=ann.id, subject="old", description="one", created_at=datetime(2025, 1, 1),
                   deflection=no_suggestion),
        ])
    return sessions


def test_failed_searches_are_the_unconfident_and_the_ticket_ending_ones(seeded):
    with seeded() as db:
        got = failed_searches(db, datetime(2026, 3, 1))
    assert [(g.text, g.count) for g in got] == [("scanner jams", 4), ("сканер зажевал бумагу", 2),
                                                ("reset password", 1), ("принтер", 1)]
    assert {g.source for g in got} == {SEARCH}


def test_failed_searches_follow_the_period_and_the_limit(seeded):
    with seeded() as db:
        assert [(g.text, g.count) for g in failed_searches(db, datetime(2026, 3, 3), limit=2)] == [
            ("scanner jams", 3), ("сканер зажевал бумагу", 2)]  # D2 and D3: three of the four scanner searches
        assert [(g.text, g.count) for g in failed_searches(db, datetime(2026, 3, 2), datetime(2026, 3, 3))] == [
            ("Scanner jams", 1), ("принтер", 1)]  # D1 alone; its one spelling, spaces folded
        assert failed_searches(db, datetime(2026, 4, 1)) == []


def test_unanswered_tickets_are_those_without_suggestions_whose_search_was_not_counted(seeded):
    with seeded() as db:
        got = unanswered_tickets(db, datetime(2026, 3, 1))
        everything = unanswered_tickets(db)
    assert sorted((g.text, g.count, g.source) for g in got) == [("Badge reader beeps twice", 1, TICKET),
                                                                 ("wifi is slow", 1, TICKET)]
    assert "old one" in [g.text for g in everything]


def test_folding_keeps_every_script():
    assert fold("  Сканер   НЕ работает ") == "сканер не работает"
    assert fold("Straße") == fold("STRASSE")


# --- groups with their closest article, and the command ----------------------------------------------------------

TEXTS = [GapText("printer offline status", 6, SEARCH), GapText("printer says offline", 2, TICKET),
         GapText("zebra crossing rules", 5, SEARCH), GapText("!!!", 9, SEARCH)]


def test_gaps_have_a_size_examples_the_closest_article_and_a_priority(portal_index):
    _, service = portal_index
    gaps = find_gaps(service, TEXTS, threshold=0.5)
    assert sum(g.size for g in gaps) == 13  # '!!!' has nothing to search and is left out
    by_first = {g.examples[0]: g for g in gaps}
    printer = by_first["printer offline status"]
    assert printer.examples == ["printer offline status", "printer says offline"] and printer.size == 8
    assert printer.sources == [SEARCH, TICKET]
    assert printer.closest["id"] == "printer-offline" and printer.closest["title"] == "Printer shows Offline"
    for gap in gaps:
        assert gap.score == pytest.approx(gap.size * (1 - gap.closest["score"]), abs=1e-3)
        assert gap.to_dict()["examples"] == gap.examples
    assert [g.score for g in gaps] == sorted((g.score for g in gaps), reverse=True)
    assert find_gaps(service, [GapText("?", 3, SEARCH)]) == []
    # small talk is no gap: it would come first (nothing answers it confidently) while nothing should be written
    assert find_gaps(service, [GapText("hello", 7, SEARCH), GapText("спасибо большое", 4, SEARCH)]) == []


def test_the_threshold_read_from_the_index_is_used_by_default(portal_index, monkeypatch):
    _, service = portal_index
    seen = []
    monkeypatch.setattr("search.gaps.index_threshold", lambda svc, audience, embed: seen.append(audience) or 2.0)
    gaps = find_gaps(service, TEXTS)
    assert seen == ["public"] and len(gaps) == 3  # nothing reaches 2.0: each text is its own group


def kb(*args: str, env: dict | None = None):
    return CliRunner().invoke(cli, list(args), obj={}, env={"KB_EMBEDDING_MODEL": "fake-hashing", **(env or {})})


def test_kb_gaps_json_and_table(portal_index, seeded, database_url: str, tmp_path: Path):
    settings, _ = portal_index
    where = ["--index", str(settings.index_dir), "--database", database_url]
    cache = {"KB_MODEL_CACHE_DIR": str(tmp_path / "models")}
    result = kb("gaps", "--since", "2026-03-01", "--json", *where, env=cache)
    assert (tmp_path / "models" / "gap-vectors-fake-hashing.npz").is_file()
    again = kb("gaps", "--since", "2026-03-01", "--json", *where, env=cache)
    assert again.output == result.output  # the same groups from the cached vectors
    assert result.exit_code == 0, result.output
    groups = [json.loads(line) for line in result.output.splitlines()]
    assert set(groups[0]) >= {"size", "examples", "closest", "score"}
    assert sum(g["size"] for g in groups) == 4 + 2 + 1 + 1 + 2  # searches, then the two unanswered tickets
    assert any("scanner jams" in g["examples"] for g in groups)
    assert [g["score"] for g in groups] == sorted((g["score"] for g in groups), reverse=True)
    limited = kb("gaps", "--since", "2026-03-01", "--json", "--limit", "1", *where, env=cache)
    assert limited.output.splitlines() == result.output.splitlines()[:1]

    table = kb("gaps", "--since", "2026-03-01", *where, env=cache)
    assert table.exit_code == 0 and "closest article" in table.output and "scanner jams" in table.output
    empty = kb("gaps", "--since", "2027-01-01", *where, env=cache)
    assert empty.exit_code == 0 and "no failed searches or unanswered tickets since 2027-01-01" in empty.output


def test_kb_gaps_errors(tmp_path: Path):
    bad = kb("gaps", "--since", "March", "--database", f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    assert bad.exit_code == 2 and "--since" in bad.output
    missing = kb("gaps", "--index", str(tmp_path / "nowhere"), "--database", f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    assert missing.exit_code == 1 and "Traceback" not in missing.output and "nowhere" in missing.output


def test_kb_gaps_reads_and_never_migrates_a_database(portal_index, tmp_path: Path):
    settings, _ = portal_index
    empty = tmp_path / "old.sqlite3"
    result = kb("gaps", "--index", str(settings.index_dir), "--database", f"sqlite:///{empty}")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "cannot read the recorded searches and tickets" in result.output and "kb db upgrade" in result.output
    engine = make_engine(f"sqlite:///{empty}")
    with engine.connect() as connection:  # left as it was: no table was created
        assert connection.execute(text("SELECT count(*) FROM sqlite_master WHERE type = 'table'")).scalar() == 0
    engine.dispose()


def test_a_gap_is_searched_as_recorded_without_fixes(portal_index):
    _, service = portal_index
    assert service.search("pasword expired").corrected == "password expired"
    as_recorded = service.search("pasword expired", as_typed=True)
    assert as_recorded.corrected is None and as_recorded.did_you_mean is None and as_recorded.query == "pasword expired"


@pytest.mark.slow
def test_a_russian_and_an_english_phrasing_of_one_problem_form_one_group():
    """With the multilingual model and the threshold read from the sample help center's own questions."""
    from types import SimpleNamespace

    from kb.check import load_help_center
    from kb.config import Settings
    from kb.embedding.encoders import load_encoder

    root = Path(__file__).resolve().parent.parent / "articles"
    center = load_help_center(root, Settings(articles_dir=root))
    articles = {f"{a.id}@{a.lang}": SimpleNamespace(group=a.id, questions=a.questions) for a in center.articles
                if a.audience == "public" and a.status != "draft"}
    texts, labels = calibration_questions(articles)
    encoder = load_encoder("multilingual-e5-small")
    threshold = derive_threshold(encoder.encode_queries(texts), labels)
    phrasings = ["my printer says it is offline", "принтер пишет что он не в сети",
                 "I forgot my password", "я забыл пароль от учётной записи",
                 "vpn won't connect from home", "не могу подключиться к vpn из дома"]
    groups = group_texts(encoder.encode_queries(phrasings), [1] * len(phrasings), threshold)
    assert sorted(groups) == [[0, 1], [2, 3], [4, 5]]


@pytest.mark.sqlite_only("reads SQLite's query plan")
def test_on_sqlite_the_failed_searches_are_counted_from_their_index(seeded, tmp_path: Path):
    engine = seeded.kw["bind"]
    statements = []
    event.listen(engine, "before_cursor_execute",
                 lambda conn, cursor, statement, parameters, context, many: statements.append((statement, parameters)))
    with seeded() as db:
        failed_searches(db, datetime(2026, 3, 1))
    statement, parameters = statements[0]
    with engine.connect() as connection:
        plan = " ".join(str(row) for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                                       tuple(parameters)))
    assert "ix_searches_failed_text" in plan and "TEMP B-TREE" not in plan  # read from the index, in its order


def test_migration_0005_adds_the_index_and_takes_it_away(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO searches (token, created_at, source, visitor, query, searched, lang, "
                                "results, top_article, confidence, confident, category) VALUES "
                                "('t', '2026-01-01', 'portal', '', 'q', '', 'en', 0, '', 0.1, 0, '')"))
    upgrade(engine)
    indexes = {i["name"] for i in inspect(engine).get_indexes("searches")}
    assert "ix_searches_failed_text" in indexes
    downgrade(engine, "0004")
    assert "ix_searches_failed_text" not in {i["name"] for i in inspect(engine).get_indexes("searches")}
    with engine.connect() as connection:
        assert connection.execute(text("SELECT query FROM searches")).scalar_one() == "q"


def test_with_a_limit_the_same_top_groups_come_back_with_fewer_searches(portal_index, monkeypatch):
    _, service = portal_index
    texts = [GapText(f"{word} problem number {n}", count, SEARCH)
             for n, (word, count) in enumerate([("zebra", 50), ("printer offline", 40), ("quokka", 30),
                                                ("password expired", 9), ("narwhal", 3), ("vpn", 2)])]
    everything = find_gaps(service, texts, threshold=1.01)
    searched = []
    original = service.search
    monkeypatch.setattr(service, "search", lambda text, **kw: searched.append(text) or original(text, **kw))
    top = find_gaps(service, texts, threshold=1.01, limit=2)
    assert [g.to_dict() for g in top] == [g.to_dict() for g in everything[:2]]
    assert len(searched) < len(texts)  # the small groups could not enter the top two and were never searched


def test_the_service_embeds_each_text_once_as_a_search_would(portal_index, monkeypatch):
    _, service = portal_index
    encoder = service._encoder
    texts = ["gaps: sticky keyboard", "gaps:  sticky   keyboard ", "gaps: loud fan"]
    expected = encoder.encode_queries(["gaps: sticky keyboard", "gaps: sticky keyboard", "gaps: loud fan"])
    embedded = []
    original = encoder.encode_queries
    monkeypatch.setattr(encoder, "encode_queries", lambda batch: embedded.append(list(batch)) or original(batch))
    assert np.allclose(service.embed_queries(texts), expected)
    assert np.allclose(service.embed_queries(texts[::-1]), expected[::-1])
    service.search("gaps: loud fan")
    assert embedded == [["gaps: sticky keyboard", "gaps: loud fan"]]  # each text once, then from the cache


def test_the_vector_cache_embeds_a_text_once_and_keeps_the_most_recent(tmp_path: Path):
    from search.vector_cache import VectorCache

    def embed(texts):
        embedded.extend(texts)
        return unit(*[[len(t), 1.0] for t in texts])

    embedded: list[str] = []
    cache = VectorCache(tmp_path, "some/model", 2, limit=2)
    first = cache.vectors(["a", "bb", "a"], embed)
    assert embedded == ["a", "bb"] and np.allclose(first[0], first[2])
    cache.save()
    again = VectorCache(tmp_path, "some/model", 2, limit=2)
    assert np.allclose(again.vectors(["bb", "a"], embed), first[[1, 0]]) and embedded == ["a", "bb"]
    again.vectors(["ccc"], embed)
    again.save()  # keeps the two used last: "a" (then "ccc")
    assert len(VectorCache(tmp_path, "some/model", 2, limit=2)) == 2
    VectorCache(tmp_path, "some/model", 2).vectors(["a", "ccc"], embed)
    assert embedded == ["a", "bb", "ccc"]
    with np.load(tmp_path / "gap-vectors-some-model.npz") as kept:  # digests, never the texts
        assert "ccc" not in set(kept["keys"]) and all(len(key) == 64 for key in kept["keys"])
    (tmp_path / "gap-vectors-some-model.npz").write_bytes(b"not a numpy file")
    assert len(VectorCache(tmp_path, "some/model", 2)) == 0  # unreadable: empty, never an error
    assert len(VectorCache(tmp_path, "other", 3)) == 0


def test_vectors_kept_on_disk_are_not_embedded_again_by_the_groups_searches(portal_index, tmp_path, monkeypatch):
    from search.vector_cache import VectorCache

    _, service = portal_index
    texts = [GapText("gaps: toner smudges pages", 4, SEARCH), GapText("gaps: badge door stuck", 2, SEARCH)]
    cache = VectorCache(tmp_path, "fake-hashing", 64)
    cache.vectors([t.text for t in texts], service._encoder.encode_queries)  # as an earlier run left them
    embedded = []
    original = service._encoder.encode_queries
    monkeypatch.setattr(service._encoder, "encode_queries", lambda batch: embedded.extend(batch) or original(batch))
    gaps = find_gaps(service, texts, threshold=0.99, cache=cache)
    assert len(gaps) == 2 and not set(embedded) & {t.text for t in texts}
