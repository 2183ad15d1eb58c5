"""Typo fixes never "correct" a word that is right in English, Russian, Ukrainian or Bulgarian (Debian's hunspell
dictionaries, search.dictionaries); uncertain fixes are only suggested; without dictionaries nothing is changed."""
from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

import pytest

from search.dictionaries import FILES, FOLDERS, SCRIPT_LANGUAGES, Dictionaries, script_of
from search.prepare import prepare_query
from search.spelling import NEIGHBOUR_SEARCHES, Vocabulary, layout_variants, spelling_fixes

ROOT = Path(__file__).resolve().parent.parent

# Words of the help center, each a tempting "fix" of a correct word of another language (or of a rare one).
TEMPTING = {"могу": 40, "дома": 30, "подключиться": 20, "печать": 25, "line": 50, "принтер": 12, "пароль": 9,
            "password": 15, "printer": 14, "offline": 6, "print": 3, "paint": 2}


@pytest.fixture(scope="module")
def dictionaries() -> Dictionaries:
    loaded = Dictionaries.load()
    assert loaded.available, "the hunspell dictionaries are installed by scripts/install"
    return loaded


@pytest.fixture(scope="module")
def words() -> Vocabulary:
    return Vocabulary(TEMPTING.items())


def prepare(text: str, words: Vocabulary, dictionaries: Dictionaries):
    return prepare_query(text, lambda word: word.lower() in words, words, dictionaries)


@pytest.mark.parametrize("query, tempting", [
    ("не можу підключитися до VPN з дому", {"можу": "могу", "дому": "дома"}),  # Ukrainian
    ("печата", {"печата": "печать"}),  # Bulgarian: "prints"
    ("life", {"life": "line"}),  # English
])
def test_a_correct_word_of_any_language_is_left_as_typed(query, tempting, words, dictionaries):
    for word, fix in tempting.items():  # what the help center's vocabulary alone would have made of it
        assert words.corrections(word, limit=1) == [fix]
    prepared = prepare(query, words, dictionaries)
    assert (prepared.searched, prepared.corrected, prepared.suggested) == (query, None, None)


def test_a_layout_slip_is_still_fixed(words, dictionaries):
    prepared = prepare("ghbynth", words, dictionaries)
    assert (prepared.searched, prepared.corrected, prepared.suggested) == ("принтер", "принтер", None)
    assert prepare("ghbynth yt gtxfnftn", Vocabulary([("принтер", 3), ("печатает", 2)]),
                   dictionaries).searched == "принтер не печатает"


def test_a_correct_word_does_not_follow_a_layout_slip_beside_it(dictionaries):
    words = Vocabulary([("принтер", 3), ("дшау", 1)])
    assert prepare("ghbynth life", words, dictionaries).searched == "принтер life"


@pytest.mark.parametrize("typo, fix", [("pasword", "password"), ("принтр", "принтер"), ("Printr", "printer")])
def test_a_typo_with_one_clear_candidate_of_the_help_center_is_fixed(typo, fix, words, dictionaries):
    prepared = prepare(typo, words, dictionaries)
    assert (prepared.searched, prepared.corrected, prepared.suggested) == (fix, fix, None)


def test_a_typo_with_two_close_candidates_is_only_suggested(words, dictionaries):
    # "pgint" is one edit from "print" (3 articles) and "paint" (2): neither is clearly what was meant.
    prepared = prepare("pgint colors", words, dictionaries)
    assert (prepared.searched, prepared.corrected, prepared.suggested) == ("pgint colors", None, "print colors")


def test_a_dictionary_word_the_help_center_uses_in_another_form_is_suggested_not_searched(dictionaries):
    # The index knows "keyboard" and "принтер" (from "keyboards", "принтера" through its stemmers), the
    # vocabulary of words as the articles write them has neither.
    index_knows = {"keyboard", "принтер", "not", "working"}.__contains__
    prepared = prepare_query("keybord not working", index_knows, Vocabulary([("printer", 3)]), dictionaries)
    assert (prepared.searched, prepared.suggested) == ("keybord not working", "keyboard not working")
    prepared = prepare_query("принтр", index_knows, Vocabulary([]), dictionaries)
    assert (prepared.searched, prepared.suggested) == ("принтр", "принтер")


def test_a_dictionary_word_the_help_center_never_uses_is_not_offered(dictionaries):
    assert "тимус" in dictionaries.neighbours("тимс")  # "Teams", as Russian speakers write it
    prepared = prepare_query("не работает тимс", lambda word: False, Vocabulary([]), dictionaries)
    assert (prepared.searched, prepared.suggested) == ("не работает тимс", None)


def test_certain_and_uncertain_fixes_of_one_query(words, dictionaries):
    fixes = spelling_fixes("pasword pgint", words, dictionaries)
    assert (fixes.searched, fixes.suggested) == ("password pgint", "password print")


def test_a_long_query_of_non_words_searches_the_dictionaries_for_few_of_them(dictionaries, monkeypatch):
    searched = []
    real = dictionaries.neighbours
    monkeypatch.setattr(dictionaries, "neighbours", lambda word, langs=None: searched.append(word) or real(word, langs))
    fixes = spelling_fixes("keybord mouze scrren monittor", Vocabulary([]), dictionaries, lambda word: True)
    assert searched == ["keybord", "mouze"] and len(searched) == NEIGHBOUR_SEARCHES
    assert fixes.suggested.startswith("keyboard ") and fixes.suggested.endswith(" scrren monittor")


def test_a_fix_must_fit_the_language_the_query_is_written_in(dictionaries):
    words = Vocabulary([("могу", 10)])  # Russian only
    ukrainian = prepare("не могуу підключитися", words, dictionaries)
    assert ukrainian.searched == "не могуу підключитися" and "могу" not in (ukrainian.suggested or "").split()
    assert prepare("мы не могуу войти", words, dictionaries).searched == "мы не могу войти"  # ы: Russian


def test_a_word_with_an_apostrophe_is_one_word(dictionaries):
    words = Vocabulary([("компа", 5), ("ютерн", 5)])  # one edit from "комп" and from "ютер"
    assert prepare("мій комп'ютер", words, dictionaries).searched == "мій комп'ютер"


def dictionary_words(dictionaries: Dictionaries, lang: str, count: int = 250) -> list[str]:
    """`count` lower-case words of at least four letters spread over a dictionary's word list."""
    folder = next(Path(f) for f in FOLDERS if (Path(f) / f"{FILES[lang]}.dic").is_file())
    script = next(s for s, langs in SCRIPT_LANGUAGES.items() if lang in langs)
    lines = (folder / f"{FILES[lang]}.dic").read_text(encoding="utf-8").splitlines()[1:]
    stems = [line.split("/")[0].strip() for line in lines]
    stems = [s for s in stems if len(s) >= 4 and s == s.lower() and re.fullmatch(r"[^\W\d_]+", s)
             and script_of(s) == script]
    step = max(1, len(stems) // (2 * count))
    chosen = [s for s in stems[::step] if lang in dictionaries.languages(s)][:count]
    assert len(chosen) >= 200
    return chosen


@pytest.mark.parametrize("lang", sorted(FILES))
def test_no_dictionary_word_is_changed(lang, dictionaries):
    """Every word comes with a help center that uses a word one letter longer and knows its other-layout
    readings: the vocabulary alone would change each of them."""
    valid = dictionary_words(dictionaries, lang)
    words = Vocabulary((w + w[-1], 100) for w in valid)
    readings = {r for w in valid for r in layout_variants(w)}
    changed = {}
    for word in valid:
        prepared = prepare_query(word, lambda w: w.lower() in readings, words, dictionaries)
        if (prepared.searched, prepared.suggested) != (word, None):
            changed[word] = (prepared.searched, prepared.suggested)
    assert changed == {}
    assert all(words.corrections(w, limit=1) == [w + w[-1]] for w in valid[:20])


def test_without_dictionaries_fixes_are_only_suggested(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="search.dictionaries"):
        missing = Dictionaries.load([tmp_path])
    assert not missing.available and not missing.is_word("life") and missing.neighbours("pasword") == {}
    assert sum("spelling dictionaries" in r.getMessage() for r in caplog.records) == 1
    words = Vocabulary([("password", 5), ("принтер", 3)])
    knows = lambda word: word in words  # noqa: E731
    for typed, meant in [("pasword", "password"), ("ghbynth", "принтер")]:
        prepared = prepare_query(typed, knows, words, missing)
        assert (prepared.searched, prepared.corrected, prepared.suggested) == (typed, None, meant)
    assert prepare_query("life", knows, Vocabulary([("line", 9)]), missing).suggested == "line"  # only offered


def test_without_the_binding_nothing_breaks(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "hunspell", None)  # `import hunspell` raises ImportError
    with caplog.at_level(logging.WARNING, logger="search.dictionaries"):
        loaded = Dictionaries.load()
    assert not loaded.available and "not installed" in caplog.text
    assert prepare_query("pasword", lambda w: False, Vocabulary([("password", 2)]), loaded).searched == "pasword"


def test_importing_the_search_pipeline_loads_no_dictionary():
    code = ("import sys, search.service, search.prepare, search.spelling, search.dictionaries as d; "
            "assert d._shared is None and 'hunspell' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
