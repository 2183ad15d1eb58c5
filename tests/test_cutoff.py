"""Where a result list stops (search/cutoff.py) and which languages it keeps (search/rank.py), on crafted scores."""
from __future__ import annotations

import pytest

from kb.index.records import IndexedArticle
from search.cutoff import nothing_relevant, relevant_count
from search.rank import listed_languages, without_foreign_tail

# --- the tail --------------------------------------------------------------------------------------------------------


def test_an_empty_list_stays_empty_and_the_first_hit_is_always_kept():
    assert relevant_count([], 0.2, 0.6, 0.7) == 0
    assert relevant_count([(0.1, 0.05)], 0.2, 0.6, 0.7) == 1  # even below the background


def test_the_list_stops_at_the_first_hit_whose_cosine_falls_too_far_below_the_first():
    # first 0.8 over a background of 0.3: a lead of 0.5, 0.6 of it is a gap of 0.3 (hits down to 0.5 stay)
    scores = [(0.8, 1.6), (0.7, 1.5), (0.52, 1.4), (0.48, 1.3), (0.79, 1.2)]
    # the last hit, close to the first again, does not bring the list back: it is cut where relevance fell off
    assert relevant_count(scores, 0.3, 0.6, 0.0) == 3


def test_the_margin_scales_with_how_far_the_first_stands_above_the_background():
    # the same cosines: a model that rates unrelated passages 0.75 leaves a lead of 0.15, one rating them 0.3 0.6
    scores = [(0.9, 1.7), (0.85, 1.6), (0.8, 1.5)]
    assert relevant_count(scores, 0.75, 0.6, 0.0) == 2  # gap allowed 0.09
    assert relevant_count(scores, 0.3, 0.6, 0.0) == 3  # gap allowed 0.36


def test_a_first_hit_at_or_below_the_background_keeps_only_hits_as_close_as_itself():
    assert relevant_count([(0.4, 1.0), (0.4, 0.9), (0.39, 0.8)], 0.5, 0.6, 0.0) == 2


def test_a_hit_must_also_keep_a_share_of_the_first_final_score():
    scores = [(0.8, 2.0), (0.78, 1.5), (0.77, 1.3), (0.76, 1.9)]
    assert relevant_count(scores, 0.3, 0.6, 0.7) == 2  # 1.3 < 0.7 × 2.0
    assert relevant_count(scores, 0.3, 0.6, 0.0) == 4  # share 0: the cosine alone decides
    assert relevant_count(scores, 0.3, 0.6, 0.75) == 2  # exactly 0.75 × 2.0 = 1.5 stays


def test_without_a_positive_first_score_only_the_cosine_counts():
    assert relevant_count([(0.8, 0.0), (0.7, 0.0), (0.2, 0.0)], 0.3, 0.6, 0.9) == 2


def test_a_zero_margin_keeps_only_ties_with_the_first_and_a_wide_one_keeps_everything():
    scores = [(0.8, 1.0), (0.8, 1.0), (0.6, 0.9), (0.1, 0.8)]
    assert relevant_count(scores, 0.3, 0.0, 0.0) == 2
    assert relevant_count(scores, 0.3, 10.0, 0.0) == 4


# --- nothing relevant ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("confident, confidence, floor, empty", [
    (False, 0.1, 0.18, True),
    (False, 0.18, 0.18, False),  # at the floor: listed
    (False, 0.3, 0.18, False),
    (True, 0.1, 0.18, False),  # a confident answer is always listed
    (False, 0.0, 0.0, False),  # floor 0: always list
])
def test_nothing_is_listed_below_the_floor_unless_confident(confident, confidence, floor, empty):
    assert nothing_relevant(confident, confidence, floor) is empty


# --- other languages -------------------------------------------------------------------------------------------------


def article(key: str, lang: str) -> IndexedArticle:
    return IndexedArticle(id=key, title=key, category="general", lang=lang, audience="public", status="published",
                          group=key, translations={}, description="", questions=[], tags=[], related=[],
                          featured=False, path="", hash="", links_key="", sections=[], page=[0, 0], files=[])


ARTICLES = {key: article(key, lang) for key, lang in
            [("en1", "en"), ("en2", "en"), ("ru1", "ru"), ("ru2", "ru"), ("uk1", "uk"), ("pt1", "pt-BR")]}


def ranked(*keys: str) -> list[tuple[str, float]]:
    return [(key, 1.0 - i / 10) for i, key in enumerate(keys)]


@pytest.mark.parametrize("reader, written, languages", [
    ("ru", "en", {"ru", "en"}),  # a Latin query: the reader's language, then English
    (None, "en", {"en"}),
    ("en", "uk", {"uk", "en"}),  # a Cyrillic query's own language and the reader's
    ("uk", "uk", {"uk"}),
    ("en", None, set()),  # Cyrillic without a telling letter, or no letters: no language is known
])
def test_listed_languages_are_the_query_and_the_reader_language(reader, written, languages):
    assert listed_languages(reader, written) == languages


def test_other_languages_after_the_first_article_in_a_listed_language_are_dropped():
    assert without_foreign_tail(ranked("en1", "ru1", "en2", "ru2"), {"en"}, ARTICLES) == \
        ranked("en1", "ru1", "en2", "ru2")[:1] + [("en2", 0.8)]


def test_articles_in_other_languages_ranking_above_it_stay():
    out = without_foreign_tail(ranked("ru1", "en1", "ru2", "en2"), {"en"}, ARTICLES)
    assert [key for key, _ in out] == ["ru1", "en1", "en2"]
    assert out[1] == ("en1", 0.9)  # scores are kept


def test_a_list_without_any_article_in_a_listed_language_is_kept_whole():
    # a Ukrainian query read in Ukrainian, a help center in English and Russian: its best answers are the list
    whole = ranked("ru1", "en1", "ru2")
    assert without_foreign_tail(whole, {"uk"}, ARTICLES) == whole
    assert without_foreign_tail(whole, set(), ARTICLES) == whole


def test_a_regional_language_code_counts_as_its_language():
    assert [k for k, _ in without_foreign_tail(ranked("pt1", "en1", "ru1"), {"pt"}, ARTICLES)] == ["pt1"]
    assert [k for k, _ in without_foreign_tail(ranked("en1", "uk1", "ru1", "en2"), {"uk", "en"}, ARTICLES)] == \
        ["en1", "uk1", "en2"]
