"""Which language a short query is written in, from the letters only a language uses (no model, no guessing)."""
from __future__ import annotations

import re

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LATIN = re.compile(r"[A-Za-z]")
_UKRAINIAN = set("іїєґ")
_RUSSIAN = set("ыэё")
# Bulgarian writes ъ as a vowel ("свързва", "пълна", "принтерът"); Russian only as a hard sign before е, ё, ю, я
# ("подъезд").
_BULGARIAN_WORD = re.compile(r"ъ(?![еёюя])")


_NON_LATIN_LETTER = re.compile(r"[^\W\da-zA-Z_\u00c0-\u024f]")


def latin_only(text: str) -> bool:
    """Whether every letter of `text` is a Latin one (with its accented forms): what an English-only model reads."""
    return not _NON_LATIN_LETTER.search(text)


def query_language(text: str) -> str | None:
    """'uk', 'ru' or 'bg' when the letters say so, 'en' for Latin-only text, None when it cannot be told."""
    lower = text.lower()
    if not _CYRILLIC.search(lower):
        return "en" if _LATIN.search(lower) else None
    letters = set(lower)
    if letters & _UKRAINIAN:
        return "uk"
    if letters & _RUSSIAN:
        return "ru"
    if _BULGARIAN_WORD.search(lower):
        return "bg"
    return None
