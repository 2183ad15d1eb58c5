"""The development set of customer phrasings (bench/data/dev_questions.jsonl, measured by bench/deflection.py)
is well-formed, points only at published public articles of the sample help center, has the mix of languages
and kinds it promises, and repeats no article title, article question, golden query or other row."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from kb.check import load_help_center
from kb.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT / "bench" / "data" / "dev_questions.jsonl"
LANGS = {"en", "ru", "uk", "bg"}
KINDS = {"phrasing", "typo", "layout", "translit", "out-of-scope"}
CYRILLIC = re.compile(r"[а-яёіїєґ]", re.IGNORECASE)
LATIN = re.compile(r"[a-z]", re.IGNORECASE)
MINIMUM_LANGS = {"en": 110, "ru": 20, "uk": 15, "bg": 10}
MINIMUM_KINDS = {"typo": 15, "layout": 8, "translit": 5, "out-of-scope": 35}


def folded(text: str) -> str:
    return " ".join(text.casefold().split())


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    lines = DEV_SET.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def center():
    return load_help_center(ROOT / "articles", Settings())


def test_every_row_is_well_formed(rows: list[dict]):
    assert len(rows) >= 170
    for number, row in enumerate(rows, 1):
        where = f"{DEV_SET.name}:{number}"
        assert set(row) == {"query", "expected", "lang", "kind"}, where
        assert isinstance(row["query"], str) and row["query"].strip(), where
        assert row["lang"] in LANGS and row["kind"] in KINDS, where
        assert isinstance(row["expected"], list) and all(isinstance(e, str) for e in row["expected"]), where
        assert len(set(row["expected"])) == len(row["expected"]), where
        assert (row["kind"] == "out-of-scope") == (not row["expected"]), where


def test_every_expected_article_is_published_and_public(rows: list[dict], center):
    assert not center.errors, center.errors
    public = {a.id for a in center.articles if a.status == "published" and a.audience == "public"}
    unknown = {e for row in rows for e in row["expected"]} - public
    assert not unknown, f"not published public articles of articles/: {sorted(unknown)}"


def test_the_set_has_the_promised_mix(rows: list[dict]):
    langs = Counter(row["lang"] for row in rows)
    kinds = Counter(row["kind"] for row in rows)
    for lang, least in MINIMUM_LANGS.items():
        assert langs[lang] >= least, (lang, langs[lang])
    for kind, least in MINIMUM_KINDS.items():
        assert kinds[kind] >= least, (kind, kinds[kind])


def test_wrong_layout_and_transliterated_rows_are_in_the_other_script(rows: list[dict]):
    for row in rows:
        query = row["query"]
        if row["kind"] == "translit" or (row["kind"] == "layout" and row["lang"] != "en"):
            assert row["lang"] != "en" and not CYRILLIC.search(query) and LATIN.search(query), row
        elif row["kind"] == "layout":
            assert CYRILLIC.search(query) and not LATIN.search(query), row


def test_no_query_repeats_a_title_a_question_a_golden_query_or_another_row(rows: list[dict], center):
    known = {folded(a.title): f"title of {a.id}" for a in center.articles}
    known.update({folded(q): f"a question of {a.id}" for a in center.articles for q in a.questions})
    known.update({folded(g.query): f"golden query {g.where()}" for g in center.golden})
    assert len(center.golden) >= 45
    seen: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        query = folded(row["query"])
        assert query not in known, f"{DEV_SET.name}:{number} repeats the {known[query]}"
        assert query not in seen, f"{DEV_SET.name}:{number} repeats line {seen[query]}"
        seen[query] = number
