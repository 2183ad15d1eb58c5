from __future__ import annotations

import pytest

from search.spelling import _TRANSLIT_RU, _TRANSLIT_UK, Vocabulary, correct_spelling, fix_layout, layout_variants, \
    transliterate

KNOWN = {"принтер", "печатает", "не", "пароль", "printer", "offline", "password", "reset", "outlook", "звук",
         "друкує", "підключення"}


def known(word: str) -> bool:
    return word.lower() in KNOWN | {"my"}


def test_layout_variants_both_ways():
    assert layout_variants("ghbynth")[0] == "принтер"
    assert layout_variants("зфыыцщкв")[0] == "password"
    assert layout_variants("ghbynth")[1] == "принтер"  # same keys in the Ukrainian layout
    assert layout_variants("123") == []


@pytest.mark.parametrize("typed, meant", [
    ("ghbynth yt gtxfnftn", "принтер не печатает"),  # the stop word follows the words around it
    ("my ghbynth", "my принтер"),
    ("зфыыцщкв reset", "password reset"),
    ("printer offline", "printer offline"),  # known words are left alone
    ("weather today", "weather today"),  # unknown in both layouts: left alone
    ("", ""),
    ("ne pechataet printer", "не печатает printer"),  # Russian typed in Latin letters
    ("parol'", "пароль"),
    ("ne drukuye pidklyuchennya", "не друкує підключення"),  # Ukrainian transliteration
    ("zebracorn", "zebracorn"),  # no reading is a word of the help center
])
def test_fix_layout(typed, meant):
    assert fix_layout(typed, known) == meant


@pytest.mark.parametrize("typo, fix", [
    ("pasword", "password"),  # a letter missing
    ("resett", "reset"),  # a letter too many
    ("prinetr", "printer"),  # two letters swapped
    ("offkine", "offline"),  # one letter wrong
    ("пороль", "пароль"),
])
def test_one_edit_corrections(typo, fix):
    vocabulary = Vocabulary((w, 5) for w in KNOWN)
    assert vocabulary.corrections(typo) == [fix]


def test_corrections_prefer_frequent_words_and_skip_short_or_known():
    vocabulary = Vocabulary([("print", 10), ("paint", 2), ("pint", 1)])
    assert vocabulary.corrections("pgint") == ["print", "paint", "pint"]
    assert vocabulary.corrections("pgint", limit=1) == ["print"]
    assert vocabulary.corrections("print") == []
    assert vocabulary.corrections("abc") == []
    assert vocabulary.corrections("zzzzzz") == []


def test_correct_spelling_keeps_known_numbers_and_case_of_untouched_words():
    vocabulary = Vocabulary((w, 5) for w in KNOWN)
    assert correct_spelling("Pasword resett for VPN 2024", vocabulary) == "password reset for VPN 2024"


def test_transliteration_tables():
    assert transliterate("shchetka zhurnal", _TRANSLIT_RU) == "щетка журнал"
    assert transliterate("Yizhak", _TRANSLIT_UK) == "їжак"
    assert transliterate("hroshi", _TRANSLIT_UK) == "гроші"
