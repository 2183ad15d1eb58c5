"""Stage 1 of a search: the query made safe, its keyboard-layout slips and typos fixed, its language told."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from search.dictionaries import Dictionaries, shared_dictionaries
from search.small_talk import names_a_topic
from kb.language import query_language
from search.spelling import Vocabulary, fix_layout, spelling_fixes

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class PreparedQuery:
    text: str  # what the user typed, cleaned
    searched: str  # what is searched: `text` with layout slips and typos fixed
    language: str | None  # the language `searched` is written in, when its letters tell (kb.language)
    suggested: str | None = None  # fixes not certain enough to search by, offered instead: "Did you mean …?"

    @property
    def corrected(self) -> str | None:
        """The query as searched, when it differs from what was typed."""
        return self.searched if self.searched != self.text else None


def clean_query(text: str, max_chars: int) -> str:
    """User input made safe to search: no control characters, single spaces, bounded length."""
    text = _CONTROL.sub(" ", text or "")
    return " ".join(text.split())[:max_chars]


def is_searchable(text: str) -> bool:
    """A cleaned query worth searching: it holds at least one letter or digit, and names a topic (small talk alone,
    "hi, how are you", asks nothing an article answers, and is no gap in the help center: search/small_talk.py)."""
    return any(ch.isalnum() for ch in text) and names_a_topic(text)


def as_given(text: str) -> PreparedQuery:
    """`text` (already cleaned) searched as it is: no fix tried, none suggested."""
    return PreparedQuery(text, text, query_language(text), None)


def prepare_query(text: str, knows: Callable[[str], bool], vocabulary: Vocabulary,
                  dictionaries: Dictionaries | None = None) -> PreparedQuery:
    """`text` (already cleaned) with a keyboard-layout slip fixed into words `knows` accepts, then typos fixed
    into words of `vocabulary` (or dictionary words `knows` accepts); both come from the searching audience's own
    articles. A word correct in a
    supported language (`dictionaries`, by default the process's) is left as typed; a fix that is not certain is
    only suggested. Without the dictionaries no fix is certain: the query is searched as typed."""
    if dictionaries is None:
        dictionaries = shared_dictionaries()
    layout = fix_layout(text, knows, dictionaries.is_word)
    fixes = spelling_fixes(layout, vocabulary, dictionaries, knows)
    searched, suggested = fixes.searched, fixes.suggested
    if not dictionaries.available:  # a layout slip changes the script: without dictionaries, only suggested
        searched, suggested = text, suggested or layout
    return PreparedQuery(text, searched, query_language(searched), suggested if suggested != searched else None)
