"""Forgiving the way customers type: words typed in the wrong keyboard layout, and small misspellings.

Both fixes are checked against the index's own vocabulary, so a word is only changed into one the help center
actually uses; the search service passes the vocabulary of the articles its reader may see (a customer's typing
is never "fixed" into a word only an internal article uses).
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

# Keys of the US QWERTY layout and what the same keys type in the Russian and Ukrainian ЙЦУКЕН layouts.
_QWERTY = "`qwertyuiop[]asdfghjkl;'zxcvbnm,.~QWERTYUIOP{}ASDFGHJKL:\"ZXCVBNM<>"
_RU = "ёйцукенгшщзхъфывапролджэячсмитьбюЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ"
_UK = "'йцукенгшщзхїфівапролджєячсмитьбю₴ЙЦУКЕНГШЩЗХЇФІВАПРОЛДЖЄЯЧСМИТЬБЮ"
LAYOUTS = {
    "en>ru": str.maketrans(_QWERTY, _RU), "en>uk": str.maketrans(_QWERTY, _UK),
    "ru>en": str.maketrans(_RU, _QWERTY), "uk>en": str.maketrans(_UK, _QWERTY),
}
_WORD = re.compile(r"[^\W\d_][\w'’;,.\[\]`{}<>:\"]*|\w+")
_LATIN = re.compile(r"[A-Za-z]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


# Latin transliteration of Russian and of Ukrainian, as customers type it without a Cyrillic keyboard
# ("printer ne pechataet", "parol"): longest letter groups first.
_TRANSLIT_RU = [("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"),
                ("yu", "ю"), ("ju", "ю"), ("ya", "я"), ("ja", "я"), ("yo", "ё"), ("jo", "ё"), ("ye", "е"),
                ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"),
                ("y", "ы"), ("j", "й"), ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"),
                ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "ц"), ("w", "в"),
                ("x", "кс"), ("q", "к"), ("'", "ь")]
_TRANSLIT_UK = [("shch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("yu", "ю"),
                ("ya", "я"), ("yi", "ї"), ("ye", "є"), ("a", "а"), ("b", "б"), ("v", "в"), ("h", "г"), ("g", "ґ"),
                ("d", "д"), ("e", "е"), ("z", "з"), ("y", "и"), ("i", "і"), ("j", "й"), ("k", "к"), ("l", "л"),
                ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"), ("u", "у"),
                ("f", "ф"), ("c", "ц"), ("w", "в"), ("x", "кс"), ("q", "к"), ("'", "ь")]


def transliterate(word: str, table: list[tuple[str, str]]) -> str:
    out, i, lower = [], 0, word.lower()
    while i < len(lower):
        for latin, cyrillic in table:
            if lower.startswith(latin, i):
                out.append(cyrillic)
                i += len(latin)
                break
        else:
            out.append(lower[i])
            i += 1
    return "".join(out)


def layout_variants(word: str) -> list[str]:
    """The word as it would read had it been typed in the other keyboard layouts."""
    if _LATIN.search(word) and not _CYRILLIC.search(word):
        plain = re.sub(r"[^A-Za-z']", "", word)
        return [word.translate(LAYOUTS["en>ru"]), word.translate(LAYOUTS["en>uk"]),
                transliterate(plain, _TRANSLIT_RU), transliterate(plain, _TRANSLIT_UK)]
    if _CYRILLIC.search(word) and not _LATIN.search(word):
        return [word.translate(LAYOUTS["ru>en"]), word.translate(LAYOUTS["uk>en"])]  # (no transliteration back)
    return []


def fix_layout(text: str, known: Callable[[str], bool]) -> str:
    """Re-read words typed in the wrong keyboard layout ("ghbynth" -> "принтер").

    A word the index does not know becomes its other-layout reading when the index knows that. When most words
    of the query needed that, the rest of them (short words, stop words the index never stores) follow.
    `known(word)` says whether the help center uses the word (after its analyzer: stemming, folding).
    """
    words = list(_WORD.finditer(text))
    fixed: dict[int, str] = {}
    unknown: dict[int, list[str]] = {}  # words the index does not know, with their readings
    how: dict[int, int] = {}  # which reading fixed a word: a layout slip or a transliteration
    for n, match in enumerate(words):
        word = match.group(0)
        core = word.strip(";,.[]`{}<>:\"'")
        if known(core) or not layout_variants(word):
            continue
        readings = [re.sub(r"[^\w-]", "", v) for v in layout_variants(word)]
        unknown[n] = readings
        if len(core) >= 3:
            good = next((i for i, r in enumerate(readings) if len(r) >= 3 and known(r)), None)
            if good is not None:
                fixed[n], how[n] = readings[good], good
    if fixed and 2 * len(fixed) >= len(unknown):
        # the other unknown words were typed the same way (short words, stop words the index never stores)
        kind = max(set(how.values()), key=list(how.values()).count)
        for n, readings in unknown.items():
            fixed.setdefault(n, readings[min(kind, len(readings) - 1)])
    if not fixed:
        return text
    out, last = [], 0
    for n, match in enumerate(words):
        if n in fixed:
            out.append(text[last:match.start()])
            out.append(fixed[n])
            last = match.end()
    out.append(text[last:])
    return "".join(out)


class Vocabulary:
    """Index terms with their document frequency, and a symmetric-delete map to find words one edit away."""

    def __init__(self, terms: Iterable[tuple[str, int]]) -> None:
        self.frequency: dict[str, int] = {}
        for term, df in terms:
            self.frequency[term] = self.frequency.get(term, 0) + df
        self._deletes: dict[str, list[str]] = {}
        for term in self.frequency:
            if len(term) >= 4 and not term.isdigit():
                for variant in _deletes(term):
                    self._deletes.setdefault(variant, []).append(term)

    def __contains__(self, term: str) -> bool:
        return term in self.frequency

    def corrections(self, term: str, limit: int = 3) -> list[str]:
        """Known terms at most one edit (insert, delete, substitute, swap) from `term`, most frequent first."""
        if len(term) < 4 or term in self.frequency or term.isdigit():
            return []
        deletes = _deletes(term)
        found = {d for d in deletes if d in self.frequency and len(d) >= 3}  # the typo added a letter
        for variant in deletes | {term}:  # a letter dropped (term itself), replaced or swapped
            for candidate in self._deletes.get(variant, ()):
                if candidate != term and _within_one_edit(term, candidate):
                    found.add(candidate)
        return sorted(found, key=lambda c: (-self.frequency[c], c))[:limit]


def _deletes(term: str) -> set[str]:
    return {term[:i] + term[i + 1:] for i in range(len(term))}


def _within_one_edit(a: str, b: str) -> bool:
    """Optimal-string-alignment distance ≤ 1 (one insertion, deletion, substitution or adjacent swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


_PLAIN_WORD = re.compile(r"\w+")


def correct_spelling(text: str, words: Vocabulary) -> str:
    """Replace each word the help center never uses by the most frequent known word one typo away."""
    def replace(match: re.Match) -> str:
        word = match.group(0)
        lower = word.lower()
        if lower in words or len(lower) < 4 or any(ch.isdigit() for ch in lower):
            return word
        fixes = words.corrections(lower, limit=1)
        return fixes[0] if fixes else word

    return _PLAIN_WORD.sub(replace, text)
