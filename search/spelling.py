"""Forgiving the way customers type: words typed in the wrong keyboard layout, and small misspellings.

Both fixes are checked against the index's own vocabulary, so a word is only changed into one the help center
actually uses; the search service passes the vocabulary of the articles its reader may see (a customer's typing
is never "fixed" into a word only an internal article uses). A word the dictionaries of English, Russian,
Ukrainian or Bulgarian hold (search.dictionaries) is correct and never changed, whatever the help center uses.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable

from search.dictionaries import SCRIPT_LANGUAGES, Dictionaries, script_of, shared_dictionaries
from kb.language import query_language

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


def fix_layout(text: str, known: Callable[[str], bool],
               is_word: Callable[[str], bool] = lambda word: False) -> str:
    """Re-read words typed in the wrong keyboard layout ("ghbynth" -> "принтер").

    A word the index does not know becomes its other-layout reading when the index knows that. When most words
    of the query needed that, the rest of them (short words, stop words the index never stores) follow.
    `known(word)` says whether the help center uses the word (after its analyzer: stemming, folding);
    `is_word(word)` whether it is a correct word of a supported language: such a word of three letters or more is
    left as typed.
    """
    words = list(_WORD.finditer(text))
    fixed: dict[int, str] = {}
    unknown: dict[int, list[str]] = {}  # words the index does not know, with their readings
    how: dict[int, int] = {}  # which reading fixed a word: a layout slip or a transliteration
    for n, match in enumerate(words):
        word = match.group(0)
        core = word.strip(";,.[]`{}<>:\"'")
        # (a trailing apostrophe stays for the dictionaries: it is the soft sign of "parol'", no English word)
        if known(core) or not layout_variants(word) or (len(core) >= 3 and is_word(word.strip(";,.[]`{}<>:\""))):
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


# A typed word: letters and digits, with apostrophes inside ("don't", "комп'ютер" is one word, not "комп" and "ютер").
_TYPED_WORD = re.compile(r"\w+(?:['’ʼ]\w+)*")
# The best candidate from the help center's words is clearly best when the articles use it this many times as often
# as the next one.
CLEAR_MARGIN = 3
# Looking a word up in the dictionaries one edit away costs about a thousand lookups (10-40 ms): done for at most
# this many words of a query, of at most so many letters, so that a long query of non-words stays cheap.
NEIGHBOUR_SEARCHES = 2
NEIGHBOUR_MAX_LETTERS = 20


@dataclass(frozen=True)
class SpellingFixes:
    searched: str  # the text with the fixes that are certain made: what to search
    suggested: str | None  # the text with every fix made, when some fix was not certain: "Did you mean …?"


def spelling_fixes(text: str, words: Vocabulary, dictionaries: Dictionaries,
                   knows: Callable[[str], bool] | None = None) -> SpellingFixes:
    """Typos of `text` fixed into words of `words` (the help center's) or, failing that, into words of the
    dictionaries that `knows` accepts (the help center uses them in another form: "scaner" -> "scanner").

    A word correct in a supported language is never changed, nor is one the dictionaries of its script do not
    cover (then its fix is only suggested). Candidates must fit the word's language (told by its letters, else by
    the query's): a Cyrillic word without ы, э, ё, і, ї, є, ґ may be Russian, Ukrainian or Bulgarian. A fix is
    certain, and searched, when the word has one clearly best candidate from `words`; any other is suggested.
    """
    context = query_language(text)
    searched, suggested, last, uncertain = [], [], 0, False
    searches_left = NEIGHBOUR_SEARCHES
    for match in _TYPED_WORD.finditer(text):
        fix, certain, searched_near = _fix_word(match.group(0), words, dictionaries, context,
                                                knows if searches_left > 0 else None)
        searches_left -= searched_near
        if fix is None:
            continue
        between = text[last:match.start()]
        searched += [between, fix if certain else match.group(0)]
        suggested += [between, fix]
        uncertain = uncertain or not certain
        last = match.end()
    searched.append(text[last:])
    suggested.append(text[last:])
    return SpellingFixes("".join(searched), "".join(suggested) if uncertain else None)


def correct_spelling(text: str, words: Vocabulary, dictionaries: Dictionaries | None = None) -> str:
    """`text` with its certain typo fixes made (spelling_fixes), by default with the process's dictionaries."""
    return spelling_fixes(text, words, shared_dictionaries() if dictionaries is None else dictionaries).searched


def _fix_word(word: str, words: Vocabulary, dictionaries: Dictionaries, context: str | None,
              knows: Callable[[str], bool] | None) -> tuple[str | None, bool, bool]:
    """The fix of one typed word, if any; whether it is certain; whether the dictionaries' words one edit away
    were searched (for one `knows` accepts; not without `knows`)."""
    lower = word.lower()
    script = script_of(lower)
    if lower in words or len(lower) < 4 or script is None:  # known, short, or with digits or mixed scripts
        return None, False, False
    covered = dictionaries.covers(lower)
    if covered and dictionaries.is_word(word):
        return None, False, False
    lang = query_language(lower)
    if lang is None and context in SCRIPT_LANGUAGES[script]:  # a Cyrillic word in a query whose letters tell
        lang = context
    fits = [c for c in words.corrections(lower, limit=len(words.frequency))
            if script_of(c) == script and _fits(c, lang, dictionaries)]
    if fits:
        frequency = words.frequency
        clear = len(fits) == 1 or frequency[fits[0]] >= CLEAR_MARGIN * frequency[fits[1]]
        return fits[0], covered and clear, False
    if not covered or knows is None or len(lower) > NEIGHBOUR_MAX_LETTERS:
        return None, False, False
    # (a dictionary word the help center never uses would only lead elsewhere: "тимс", Teams, is no "тимус")
    found = [c for c in dictionaries.neighbours(lower, None if lang is None else (lang,)) if knows(c)]
    if not found:
        return None, False, True
    # Of the dictionary's words, one that adds or changes a letter before one that drops one ("принтр": "принтер",
    # not "принт"), then the one sharing the typed first letter.
    best = min(found, key=lambda c: (len(c) < len(lower), c[0] != lower[0], c))
    return best, False, True


def _fits(candidate: str, lang: str | None, dictionaries: Dictionaries) -> bool:
    """`candidate` may be a word of `lang`: its letters say no other language, and if the dictionaries hold it,
    it is correct in `lang` (a word of the help center no dictionary holds, like a product name, fits any)."""
    if lang is None:
        return True
    if query_language(candidate) not in (None, lang):
        return False
    langs = dictionaries.languages(candidate)
    return not langs or lang in langs
