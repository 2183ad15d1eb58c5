"""Text analysis shared by every keyword search: Whoosh's analysis chains per language (tokens, lower case, folding,
stop words, a stemmer or lemmas chosen per token's script). The articles' keyword index (kb/index/keyword.py) and
the help desk's ticket search (kb/helpdesk/ticket_search.py) analyse text with these same chains, so a word
matches the same way in both. Whoosh's analysis is used only here; its indexing only in kb/index/keyword.py.
"""
from __future__ import annotations

import re
import unicodedata

from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.lang.stopwords import stoplists

# Field groups: every text field exists once per analyzer language. An article's text goes into the group
# of its language; a query is analysed by every group and searched in all of them.
LANG_GROUPS = ("en", "ru", "uk", "bg", "any")
# The stop words the analysis drops, per language that has a list (search/small_talk.py reads them too).
STOP_WORDS = {language: frozenset(stoplists[language]) for language in ("en", "ru")}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


class ScriptStemFilter(Filter):
    """Stems Latin-script words with the English stemmer and Cyrillic words with a Cyrillic-language stemmer, or,
    for a language without a Snowball stemmer (Ukrainian, Bulgarian), with simplemma's lemmas (`cyrillic_lemmas`).

    Help-center text mixes scripts ("VPN не подключается"), so the stemmer is chosen per token.
    """

    def __init__(self, cyrillic: str | None = None, latin: str | None = "english",
                 cyrillic_lemmas: str | None = None) -> None:
        self.cyrillic = cyrillic
        self.latin = latin
        self.cyrillic_lemmas = cyrillic_lemmas
        self._stemmers: dict[str, object] = {}

    def __getstate__(self) -> dict:
        return {"cyrillic": self.cyrillic, "latin": self.latin, "cyrillic_lemmas": self.cyrillic_lemmas}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScriptStemFilter) and self.__getstate__() == other.__getstate__()

    def _stemmer(self, lang: str):
        stemmer = self._stemmers.get(lang)
        if stemmer is None:
            import Stemmer
            stemmer = self._stemmers[lang] = Stemmer.Stemmer(lang)
        return stemmer

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                if _CYRILLIC.search(token.text) and self.cyrillic_lemmas:
                    import simplemma
                    token.text = simplemma.lemmatize(token.text, lang=self.cyrillic_lemmas).lower()
                else:
                    lang = self.cyrillic if _CYRILLIC.search(token.text) else self.latin
                    if lang:
                        token.text = self._stemmer(lang).stemWord(token.text)
            yield token


class FoldFilter(Filter):
    """Folds 'ё' to 'е' and strips accents, so spelling variants meet."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text.replace("ё", "е")
            if not text.isascii():
                decomposed = unicodedata.normalize("NFD", text)
                # Keep the Cyrillic short i (и + breve) intact: it is a letter of its own.
                text = unicodedata.normalize("NFC", "".join(
                    c for i, c in enumerate(decomposed)
                    if not (unicodedata.combining(c) and not (c == "\u0306" and i and decomposed[i - 1] in "иИ"))))
            token.text = text
            yield token


def analyzer(group: str):
    tokens = RegexTokenizer(r"\w+(?:[.'’]\w+)*") | LowercaseFilter() | FoldFilter()
    if group == "en":
        return tokens | StopFilter(stoplist=stoplists["en"], minsize=1) | ScriptStemFilter(None, "english")
    if group == "ru":
        stop = frozenset(stoplists["en"]) | frozenset(stoplists["ru"])
        return tokens | StopFilter(stoplist=stop, minsize=1) | ScriptStemFilter("russian", "english")
    if group in ("uk", "bg"):  # lemmatize before folding: 'ї' and 'й' are letters of their own there
        return (RegexTokenizer(r"\w+(?:[.'’]\w+)*") | LowercaseFilter() | StopFilter(stoplist=stoplists["en"], minsize=1)
                | ScriptStemFilter(latin="english", cyrillic_lemmas=group) | FoldFilter())
    return tokens | StopFilter(stoplist=stoplists["en"], minsize=1)


def lang_group(lang: str) -> str:
    base = lang.split("-", 1)[0].lower()
    return base if base in LANG_GROUPS else "any"
