"""Stage 1 of a search: the query made safe, its keyboard-layout slips and typos fixed, its language told."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from search.language import query_language
from search.spelling import Vocabulary, correct_spelling, fix_layout

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class PreparedQuery:
    text: str  # what the user typed, cleaned
    searched: str  # what is searched: `text` with layout slips and typos fixed
    language: str | None  # the language `searched` is written in, when its letters tell (search.language)

    @property
    def corrected(self) -> str | None:
        """The query as searched, when it differs from what was typed."""
        return self.searched if self.searched != self.text else None


def clean_query(text: str, max_chars: int) -> str:
    """User input made safe to search: no control characters, single spaces, bounded length."""
    text = _CONTROL.sub(" ", text or "")
    return " ".join(text.split())[:max_chars]


def is_searchable(text: str) -> bool:
    """A cleaned query worth searching: it holds at least one letter or digit."""
    return any(ch.isalnum() for ch in text)


def prepare_query(text: str, knows: Callable[[str], bool], vocabulary: Vocabulary) -> PreparedQuery:
    """`text` (already cleaned) with a keyboard-layout slip fixed into words `knows` accepts, then typos fixed
    into words of `vocabulary`; both come from the searching audience's own articles."""
    searched = correct_spelling(fix_layout(text, knows), vocabulary)
    return PreparedQuery(text, searched, query_language(searched))
