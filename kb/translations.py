"""Translations: articles that share an `id` in different `lang`s are language versions of one article.

Each version gets a key of its own, used everywhere an article is named (index, URLs, links): the id itself for
the version in the default language (or, without one, the first language alphabetically), `id@lang` for the
others. Every version records all keys of its group, so a page can offer the other languages and search can
show the version in the reader's language.
"""
from __future__ import annotations

from dataclasses import replace

from kb.articles import Article


def version_key(article_id: str, lang: str) -> str:
    return f"{article_id}@{lang}"


def shared_id(key: str, versions: dict[str, str]) -> str:
    """The id a translated article's versions share, from any version's key and its group ({lang: key})."""
    lang = next(code for code, k in versions.items() if k == key)
    return key[:-len(lang) - 1] if key == version_key(key[:-len(lang) - 1], lang) else key


def keyed(articles: list[Article], default_lang: str) -> tuple[list[Article], dict[str, dict[str, str]]]:
    """The articles with `id` replaced by their key and `related` pointing at same-language versions, and for
    each key of a translated article its group: {lang: key}."""
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.id, []).append(article)
    keys: dict[str, dict[str, str]] = {}  # shared id -> {lang: key}
    for article_id, versions in groups.items():
        if len(versions) == 1:
            keys[article_id] = {versions[0].lang: article_id}
            continue
        primary = next((v for v in versions if v.lang == default_lang), None) or min(versions, key=lambda v: v.lang)
        keys[article_id] = {v.lang: article_id if v is primary else version_key(article_id, v.lang)
                            for v in versions}
    out, translations = [], {}
    for article in articles:
        group = keys[article.id]
        related = tuple(dict.fromkeys(
            keys[r].get(article.lang, r) if r in keys else r for r in article.related))
        out.append(replace(article, id=group[article.lang], related=related))
        if len(group) > 1:
            translations[group[article.lang]] = dict(sorted(group.items()))
    return out, translations
