"""Which words are correct in the supported languages, from Debian's hunspell dictionaries (en_US, ru_RU, uk_UA,
bg_BG) read with pyhunspell (the `hunspell` package, a binding of libhunspell).

The four dictionaries take about two seconds and 80 MB to load, so importing this module reads nothing:
`shared_dictionaries()` loads them on first use, once per process. Where a dictionary or the binding is missing,
that is logged once and the missing languages are simply not covered; callers then must not take a word for
misspelt in them (`covers`), which search.spelling answers by only suggesting its fixes.
"""
from __future__ import annotations

import logging
import os
import re
import threading
from pathlib import Path
from typing import Any, Iterable

log = logging.getLogger(__name__)

# Each supported language's hunspell dictionary (<name>.dic and <name>.aff), and the letters of its script.
FILES = {"en": "en_US", "ru": "ru_RU", "uk": "uk_UA", "bg": "bg_BG"}
SCRIPT_LANGUAGES = {"latin": ("en",), "cyrillic": ("ru", "uk", "bg")}
# Where Debian (hunspell-*), other distributions and hunspell's own DICPATH variable put the dictionaries.
FOLDERS = ("/usr/share/hunspell", "/usr/share/myspell/dicts", "/usr/share/myspell", "/usr/local/share/hunspell")

_ALPHABETS = {"latin": "abcdefghijklmnopqrstuvwxyz", "cyrillic": "абвгґдеєёжзиіїйклмнопрстуфхцчшщъыьэюя"}
# A word of one script: letters, with apostrophes or hyphens inside ("don't", "комп'ютер", "e-mail").
_SCRIPT_WORD = {"latin": re.compile(r"[a-z]+(?:['’-][a-z]+)*", re.IGNORECASE),
                "cyrillic": re.compile(r"[\u0400-\u04ff]+(?:['’ʼ-][\u0400-\u04ff]+)*")}
# Letters only one of the Cyrillic languages writes (kb.language tells a whole query the same way).
_ONLY = {"uk": set("іїєґ"), "ru": set("ыэё")}


def script_of(word: str) -> str | None:
    """'latin' or 'cyrillic' for a word written in one of them alone, else None (digits, mixed scripts, others)."""
    return next((script for script, pattern in _SCRIPT_WORD.items() if pattern.fullmatch(word)), None)


def _possible_languages(word: str, script: str) -> tuple[str, ...]:
    """The languages of `script` whose alphabet has every letter of `word` (ы is not Ukrainian, ї not Russian)."""
    letters = set(word.lower())
    return tuple(lang for lang in SCRIPT_LANGUAGES[script]
                 if not any(letters & only for other, only in _ONLY.items() if other != lang))


class Dictionaries:
    """Loaded dictionaries by language; lookups are serialised (a hunspell handle is not safe across threads)."""

    def __init__(self, engines: dict[str, Any]) -> None:
        self._engines = engines
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folders: Iterable[str | Path] | None = None) -> "Dictionaries":
        """The dictionaries found in the first of `folders` (default: $DICPATH, then FOLDERS) that holds each."""
        if folders is None:
            folders = [*filter(None, os.environ.get("DICPATH", "").split(os.pathsep)), *FOLDERS]
        folders = [Path(f) for f in folders]
        try:
            import hunspell  # pyhunspell
        except ImportError:
            log.warning("spelling dictionaries unavailable (the Python package 'hunspell' is not installed): "
                        "typo fixes are only suggested")
            return cls({})
        engines, missing = {}, []
        for lang, name in FILES.items():
            found = next((f for f in folders if (f / f"{name}.dic").is_file() and (f / f"{name}.aff").is_file()),
                         None)
            if found is None:
                missing.append(name)
                continue
            try:
                engines[lang] = hunspell.HunSpell(str(found / f"{name}.dic"), str(found / f"{name}.aff"))
            except Exception as exc:  # the binding raises its own error type for unreadable files
                log.warning("cannot load the spelling dictionary %s: %s", found / name, exc)
                missing.append(name)
        if missing:
            log.warning("spelling dictionaries %s not found in %s (Debian: apt-get install hunspell-en-us "
                        "hunspell-ru hunspell-uk hunspell-bg): words of those languages are never corrected "
                        "silently", ", ".join(missing), ", ".join(map(str, folders)))
        return cls(engines)

    @property
    def available(self) -> bool:
        """Every supported language is covered."""
        return set(self._engines) == set(FILES)

    def covers(self, word: str) -> bool:
        """Whether the dictionaries can tell that `word` is wrong: every language of its script is loaded."""
        script = script_of(word)
        return script is not None and all(lang in self._engines for lang in SCRIPT_LANGUAGES[script])

    def languages(self, word: str) -> tuple[str, ...]:
        """The languages in which `word` is correct (as typed, in lower case, or capitalised like a name)."""
        script = script_of(word)
        if script is None:
            return ()
        # Only the dictionaries of the word's own script are asked: uk_UA, for one, accepts any Latin word.
        forms = dict.fromkeys((word, word.lower(), word[:1].upper() + word[1:].lower()))
        with self._lock:
            return tuple(lang for lang in _possible_languages(word, script) if lang in self._engines
                         and any(self._engines[lang].spell(form) for form in forms))

    def is_word(self, word: str) -> bool:
        """`word` is correct in one of the supported languages."""
        return bool(self.languages(word))

    def neighbours(self, word: str, languages: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
        """Dictionary words one edit (insert, delete, substitute, swap) from `word` in lower case, with their
        languages (of `languages` only, when given). About a thousand lookups: for words nothing else fixes."""
        script = script_of(word)
        if script is None:
            return {}
        wanted = [lang for lang in SCRIPT_LANGUAGES[script]
                  if lang in self._engines and (languages is None or lang in languages)]
        lower, alphabet = word.lower(), _ALPHABETS[script]
        splits = [(lower[:i], lower[i:]) for i in range(len(lower) + 1)]
        edits = {a + b[1:] for a, b in splits if b}
        edits |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
        edits |= {a + c + b[1:] for a, b in splits if b for c in alphabet}
        edits |= {a + c + b for a, b in splits for c in alphabet}
        edits.discard(lower)
        found = {}
        with self._lock:
            for edit in sorted(edits):
                if len(edit) < 2:
                    continue
                possible = _possible_languages(edit, script)
                langs = tuple(lang for lang in wanted if lang in possible and self._engines[lang].spell(edit))
                if langs:
                    found[edit] = langs
        return found


_shared: Dictionaries | None = None
_shared_lock = threading.Lock()


def shared_dictionaries() -> Dictionaries:
    """The process's dictionaries, loaded on the first call (and only then)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Dictionaries.load()
        return _shared
