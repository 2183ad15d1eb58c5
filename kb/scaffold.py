"""`kb new`: a valid article skeleton with a unique id, written where articles of its language live."""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import yaml

from kb.check import load_help_center
from kb.config import Settings
from kb.errors import KbError

# Cyrillic to Latin for ids (Russian, Ukrainian and Bulgarian letters), so ids stay ASCII and URL-friendly.
_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ґ": "g", "д": "d", "е": "e", "ё": "e", "є": "ye", "ж": "zh",
    "з": "z", "и": "i", "і": "i", "ї": "yi", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
}
MAX_ID = 60


def slugify(title: str) -> str:
    """'Принтер не печатает!' -> 'printer-ne-pechataet'; 'Reset your password' -> 'reset-your-password'."""
    text = "".join(_TRANSLIT.get(c, c) for c in title.lower())
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:MAX_ID].rstrip("-") or "article"


def new_article(settings: Settings, title: str, category: str, lang: str | None = None) -> Path:
    """Write a draft article skeleton; returns its path. Raises KbError naming what is wrong."""
    title = " ".join(title.split())
    if not title:
        raise KbError("title: give the article a title")
    root = settings.articles_dir
    center = load_help_center(root, settings)
    if not center.categories:
        raise KbError(f"{root}: no categories found (categories.yml is missing or empty)")
    if category not in center.categories:
        raise KbError(f"category '{category}' is not in {root / 'categories.yml'} "
                      f"(known: {', '.join(sorted(center.categories))})")
    lang = (lang or settings.default_lang).strip().lower()
    if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})?", lang):
        raise KbError(f"lang '{lang}': use a language code such as en, ru, uk or bg")
    taken = {a.id for a in center.articles}
    folder = root / (category if lang == settings.default_lang else lang)
    base = slugify(title) + ("" if lang == settings.default_lang else f"-{lang}")
    article_id, n = base, 2
    while article_id in taken or (folder / f"{article_id}.md").exists():
        article_id, n = f"{base}-{n}", n + 1
    front = {"title": title, "category": category}
    if lang != settings.default_lang:
        front["lang"] = lang
    front.update({
        "status": "draft",
        "description": "One sentence: what this article helps with.",
        "questions": ["How a customer would ask about this, in their words"],
        "tags": [],
    })
    text = ("---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n"
            "Say in one or two sentences what the problem is and what the reader will have done at the end.\n\n"
            "## Steps\n\n1. The first thing to do.\n2. The next thing.\n\n"
            "## If it still does not work\n\nWhat to try next, or how to contact support.\n")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{article_id}.md"
    with open(path, "x", encoding="utf-8") as out:  # never overwrite
        out.write(text)
    return path
