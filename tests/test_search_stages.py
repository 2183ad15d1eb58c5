"""Each stage of a search on its own, without a model: prepare, retrieve, rank, confidence."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kb.index.classifier import CONFIDENCE_FEATURES, ConfidenceModel
from kb.index.keyword import KeywordDoc, KeywordIndex, write_index
from kb.index.records import IndexedArticle, IndexedPassage
from search import rank as rank_stage
from search.confidence import answer_confidence, predicted_category
from search.prepare import clean_query, is_searchable, prepare_query
from search.rank import fuse, keyword_weight, one_version_each, preferred_languages, rank
from search.retrieve import Candidates, keyword_candidates, passage_candidates, PassagePointers, with_centroids
from search.spelling import Vocabulary

# --- prepare ---------------------------------------------------------------------------------------------------------


def test_clean_query_drops_control_characters_extra_spaces_and_length():
    assert clean_query("\x00printer\x07  \t offline\n", 100) == "printer offline"
    assert clean_query("a" * 50, 10) == "a" * 10
    assert clean_query(None, 10) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize("text, searchable", [("printer", True), ("809", True), ("!!! ?", False), ("", False),
                                              ("впн", True), ("hello, how are you", False), ("дякую", False),
                                              ("hi, printer offline", True)])
def test_a_query_is_searchable_only_with_a_letter_or_digit_and_a_topic(text, searchable):
    assert is_searchable(text) is searchable


def test_prepare_fixes_a_layout_slip_into_a_known_word_and_tells_the_language():
    prepared = prepare_query("ghbynths", lambda word: word == "принтеры", Vocabulary([]))
    assert (prepared.searched, prepared.language, prepared.corrected) == ("принтеры", "ru", "принтеры")
    assert prepare_query("ghbynths", lambda word: False, Vocabulary([])).corrected is None


def test_prepare_fixes_a_typo_from_the_vocabulary_only():
    words = Vocabulary([("password", 3), ("printer", 2)])
    prepared = prepare_query("pasword", lambda word: False, words)
    assert (prepared.text, prepared.searched, prepared.language) == ("pasword", "password", "en")
    untouched = prepare_query("password", lambda word: True, words)
    assert untouched.corrected is None and untouched.searched == "password"


# --- retrieve --------------------------------------------------------------------------------------------------------


def indexed(article_id: str, audience: str, translations: dict[str, str] | None = None,
            group: str | None = None) -> IndexedArticle:
    """An indexed article with only what the search stages read filled in."""
    return IndexedArticle(id=article_id, title=article_id, category="general", lang="en", audience=audience,
                          status="published", group=group or article_id, translations=translations or {},
                          description="", questions=[], tags=[], related=[], featured=False, path="", hash="",
                          links_key="", sections=[], page=[0, 0], files=[])


ARTICLES = {"a": indexed("a", "public"), "b": indexed("b", "public"), "secret": indexed("secret", "internal")}
PASSAGES = PassagePointers([
    IndexedPassage("a", "windows", "Windows", "section", "h1"), IndexedPassage("a", "", "", "summary", "h2"),
    IndexedPassage("secret", "steps", "Steps", "section", "h3"),
    IndexedPassage("b", "ignored", "", "question", "h4"), IndexedPassage("b", "later", "Later", "section", "h5")])


def test_passage_candidates_keep_visible_passages_and_the_best_passage_anchor():
    ranking, anchors, scores = passage_candidates([0.9, 0.8, 0.7, 0.6, 0.5, 0.0], [2, 0, 3, 1, 4, -1], PASSAGES,
                                                  ARTICLES, n=5, allowed=("public",))
    assert ranking == [("a", pytest.approx(0.8)), ("b", pytest.approx(0.7))]
    assert anchors == {"a": "windows", "b": ""}  # a question points at the article's top
    assert scores == pytest.approx([0.8, 0.7, 0.6, 0.5])


def test_passage_candidates_let_agents_see_internal_passages_and_cut_to_n():
    ranking, anchors, _ = passage_candidates([0.9, 0.8, 0.7], [2, 0, 3], PASSAGES, ARTICLES, n=2,
                                             allowed=("public", "internal"))
    assert [a for a, _ in ranking] == ["secret", "a"] and anchors["secret"] == "steps"


def test_with_centroids_adds_the_weighted_centroid_cosine_and_reorders():
    ranked, best = with_centroids([("a", 0.8), ("b", 0.7)], np.array([0.1, 0.9]), weight=0.5)
    assert ranked == [("b", pytest.approx(1.15)), ("a", pytest.approx(0.85))]
    assert best == pytest.approx(0.9)
    assert with_centroids([], np.zeros(0), 0.5) == ([], 0.0)


def test_keyword_candidates_give_one_score_per_visible_article(tmp_path: Path):
    write_index(tmp_path / "kw", [
        KeywordDoc("printer#0", "printer", "public", "c", "en", title="Printer offline", body="printer offline"),
        KeywordDoc("printer#1", "printer", "public", "c", "en", title="Windows", body="the printer again"),
        KeywordDoc("admin#0", "admin", "internal", "c", "en", title="Printer admin", body="printer"),
    ])
    index = KeywordIndex(tmp_path / "kw")
    try:
        public = keyword_candidates(index, "printer", 10, ("public",))
        everyone = keyword_candidates(index, "printer", 10, ("public", "internal"))
    finally:
        index.close()
    assert [a for a, _ in public] == ["printer"]
    assert {a for a, _ in everyone} == {"printer", "admin"}


# --- rank ------------------------------------------------------------------------------------------------------------

CANDIDATES = Candidates(keyword=[("k", 10.0), ("both", 5.0)], vector=[("both", 0.6), ("v", 0.5)],
                        vector_ranked=[("v", 0.9), ("both", 0.8)], anchors={}, passage_scores=[0.6, 0.5],
                        centroid_best=0.4)


def test_keyword_weight_drops_for_a_language_no_article_is_written_in():
    assert keyword_weight("en", {"en", "ru"}, 0.2, 0.0) == 0.2
    assert keyword_weight(None, {"en"}, 0.2, 0.0) == 0.2
    assert keyword_weight("uk", {"en", "ru"}, 0.2, 0.5) == pytest.approx(0.1)


def test_fuse_by_scores_or_by_reciprocal_rank():
    by_score = fuse(CANDIDATES.keyword, CANDIDATES.vector_ranked, 1.0, "score")
    assert dict(by_score) == pytest.approx({"v": 0.9, "both": 1.3, "k": 1.0})
    assert [a for a, _ in by_score] == ["both", "k", "v"]
    by_rank = fuse(CANDIDATES.keyword, CANDIDATES.vector_ranked, 1.0, "rrf")
    assert [a for a, _ in by_rank] == ["both", "k", "v"]


def test_hybrid_fuses_then_reweights_by_category_where_passage_matches_are_close():
    close = replace(CANDIDATES, vector=[("both", 0.52), ("v", 0.5), ("k", 0.5), ("far", 0.1)])
    ranked, fused = rank("hybrid", close, 1.0, "score", {"k": "c1", "both": "c2", "v": "c1"},
                         {"c1": 1.0, "c2": 0.0}, category_weight=1.0)
    assert dict(fused) == pytest.approx({"v": 0.9, "both": 1.3, "k": 1.0})
    assert ranked == [("k", pytest.approx(2.0)), ("v", pytest.approx(1.8)), ("both", pytest.approx(1.3))]


def test_hybrid_category_prior_keeps_a_clearly_stronger_passage_match_first():
    # 'both' leads the fusion with the best passage (0.6 against 0.5 and k's none): the prior may not bury it.
    ranked, _ = rank("hybrid", CANDIDATES, 1.0, "score", {"k": "c1", "both": "c2", "v": "c1"},
                     {"c1": 1.0, "c2": 0.0}, category_weight=1.0)
    assert [a for a, _ in ranked] == ["both", "k", "v"]
    assert ranked[0][1] == pytest.approx(2.0)  # raised to the score of the article it stays ahead of


@pytest.mark.parametrize("mode, expected", [("keyword", CANDIDATES.keyword), ("vector", CANDIDATES.vector_ranked)])
def test_single_index_modes_never_compute_the_hybrid(monkeypatch, mode, expected):
    def no_fusion(*args, **kwargs):
        raise AssertionError("the hybrid was computed")

    monkeypatch.setattr(rank_stage, "fuse", no_fusion)
    monkeypatch.setattr(rank_stage, "apply_category_prior", no_fusion)
    assert rank(mode, CANDIDATES, 1.0, "score", {}, {}, 1.0) == (expected, [])


def test_preferred_languages_put_a_cyrillic_query_first_and_the_reader_first_for_latin():
    assert preferred_languages("ru", "en") == ["ru", "en"]
    assert preferred_languages("en", "uk") == ["uk", "en"]
    assert preferred_languages(None, None) == [None, None]


def test_one_version_each_keeps_the_best_place_and_the_preferred_visible_language():
    versions = {"en": "r", "ru": "r@ru", "uk": "r@uk"}
    articles = {"r": indexed("r", "public", versions), "r@ru": indexed("r@ru", "public", versions, group="r"),
                "r@uk": indexed("r@uk", "internal", versions, group="r"), "x": indexed("x", "public")}
    ranked = [("r", 0.9), ("x", 0.5), ("r@ru", 0.4)]
    assert one_version_each(ranked, ["ru", "en"], articles, ("public",)) == [("r@ru", 0.9), ("x", 0.5)]
    # the Ukrainian version is internal: customers get the version that ranked
    assert one_version_each(ranked, ["uk", None], articles, ("public",)) == [("r", 0.9), ("x", 0.5)]
    assert one_version_each(ranked, ["uk", None], articles, ("public", "internal"))[0] == ("r@uk", 0.9)


# --- confidence ------------------------------------------------------------------------------------------------------


def test_predicted_category_is_the_most_probable_one():
    assert predicted_category(["a", "b"], np.array([0.3, 0.7])) == ("b", pytest.approx(0.7))
    assert predicted_category([], np.zeros(0)) == (None, 0.0)


def test_confidence_follows_the_curve_and_is_zero_without_an_answer():
    curve = ConfidenceModel(list(CONFIDENCE_FEATURES), np.array([10.0, 0.0, 0.0]), -5.0)
    assert answer_confidence(curve, True, [0.9, 0.2], 0.3) == pytest.approx(1 / (1 + np.exp(-4.0)))
    assert answer_confidence(curve, True, [0.1], 0.3) < 0.5
    assert answer_confidence(curve, False, [0.9], 0.3) == 0.0
    assert answer_confidence(curve, True, [], 0.3) == 0.0


def test_an_english_only_model_is_never_confident_about_text_it_cannot_read():
    from search.confidence import model_reads

    assert model_reads("all-MiniLM-L6-v2", "printer offline again, café wifi")
    assert not model_reads("all-MiniLM-L6-v2", "принтер не печатает")
    assert not model_reads("all-MiniLM-L6-v2", "VPN ошибка 809")
    assert model_reads("multilingual-e5-small", "принтер не печатает")


def test_passage_pointers_give_each_rows_article_and_the_anchor_a_hit_opens():
    assert len(PASSAGES) == 5
    assert [tuple(PASSAGES[row]) for row in range(5)] == [("a", "windows"), ("a", ""), ("secret", "steps"),
                                                          ("b", ""), ("b", "later")]  # a question opens the top
    assert PASSAGES[np.int64(4)].anchor == "later" and PASSAGES[-1] == PASSAGES[4] and PASSAGES[1:3][1].article == "secret"
