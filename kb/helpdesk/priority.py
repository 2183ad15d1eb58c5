"""A ticket's priority predicted from its text and category: a few rules an agent can read and argue with.

P1: a security incident, or an outage that stops many people. P2: an outage or someone who cannot work, or a
problem for everyone. P4: a question or a planned request with no sign of a problem. Otherwise the category's
default (the `priority_categories` setting), else the `priority_default` setting.

Words are matched by their beginning ("hack" matches "hacked", "взлом" matches "взломали"), so most inflections of
English, Russian, Ukrainian and Bulgarian words match without a stemmer; a phrase matches consecutive words.
Words shorter than four letters, and words written like `=down`, must match whole ("how" is not "however").
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.helpdesk.sla import PRIORITIES

SECURITY = ("hack", "ransom", "phish", "malware", "virus", "breach", "compromis", "stolen", "=theft",
            "взлом", "вирус", "фишинг", "вымогат", "украл", "украд", "утечк",
            "злам", "вірус", "фішинг", "вимага", "вкрал", "витік",
            "хакн", "хакер", "фишинг", "открадн", "пробив", "изнудв")
OUTAGE = ("outage", "=down", "cannot work", "cant work", "unable to work", "not working at all", "=offline",
          "не могу работать", "не можем работать", "не работает совсем", "сбой", "авари", "=упал", "=лежит",
          "не можу працювати", "не можемо працювати", "зовсім не працює", "збій", "аварі", "=впав",
          "не мога да работя", "не можем да работим", "срив", "авари", "=спря")
EVERYONE = ("everyone", "everybody", "all users", "all staff", "all of us", "whole office", "whole company",
            "whole team", "entire office", "entire company", "nobody", "no one", "noone",
            "у всех", "все сотрудники", "весь офис", "вся компания", "никто", "ни у кого",
            "у всіх", "усі співробітники", "всі співробітники", "весь офіс", "вся компанія", "ніхто", "ні в кого",
            "всички", "целия офис", "цялата фирма", "целият офис", "никой")
REQUEST = ("how do i", "how can i", "how to", "request", "order", "=install", "new user", "new laptop", "toner",
           "question", "access to", "как мне", "как можно", "заказ", "установить", "новый пользовател", "вопрос",
           "доступ к", "як мені", "як можна", "замов", "встановити", "новий користувач", "питання", "доступ до",
           "как да", "поръч", "инсталира", "нов потребител", "въпрос", "достъп до")

_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Prediction:
    priority: str
    # What decided it: (rule, the words or the category), e.g. (("security", "hacked"),).
    reasons: tuple[tuple[str, str], ...]


def words(text: str) -> list[str]:
    """Lower-case words, apostrophes dropped ("can't" is "cant"), ё read as е."""
    text = (text or "").lower().replace("ё", "е").replace("'", "").replace("’", "")
    return _WORD_RE.findall(text)


def _matches(term: str, word: str) -> bool:
    if term.startswith("="):
        return word == term[1:]
    return word == term if len(term) < 4 else word.startswith(term)


def find(terms: tuple[str, ...], text_words: list[str]) -> str:
    """The first words of `text_words` one of `terms` matches, as written there ("" when none does)."""
    for term in terms:
        parts = term.split()
        for i in range(len(text_words) - len(parts) + 1):
            if all(_matches(p, w) for p, w in zip(parts, text_words[i:i + len(parts)])):
                return " ".join(text_words[i:i + len(parts)])
    return ""


def parse_category_priorities(text: str) -> dict[str, str]:
    """{"security": "P1", ...} from "security=P1, accounts=P4" (the `priority_categories` setting)."""
    chosen: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        category, _, priority = (s.strip() for s in part.partition("="))
        if not category or priority.upper() not in PRIORITIES:
            raise ValueError(f"must be like 'security=P1, accounts=P4' (a category, then P1 to P4), not {part!r}")
        chosen[category] = priority.upper()
    return chosen


def predict_priority(subject: str, description: str, category: str = "",
                     by_category: dict[str, str] | None = None, default: str = "P3") -> Prediction:
    """The priority the rules give a new ticket's text and category, with the reasons."""
    text_words = words(f"{subject}\n{description}")
    security = find(SECURITY, text_words)
    if security:
        return Prediction("P1", (("security", security),))
    outage, everyone = find(OUTAGE, text_words), find(EVERYONE, text_words)
    if outage and everyone:
        return Prediction("P1", (("outage", outage), ("everyone", everyone)))
    if outage:
        return Prediction("P2", (("outage", outage),))
    if everyone:
        return Prediction("P2", (("everyone", everyone),))
    request = find(REQUEST, text_words)
    if request:
        return Prediction("P4", (("request", request),))
    if category and category in (by_category or {}):
        return Prediction(by_category[category], (("category", category),))
    return Prediction(default, (("default", default),))
