"""Translations: one id in several languages is one article with language versions."""
from __future__ import annotations

import json
from pathlib import Path

from indexer.build import build_index
from kb.articles import Article
from kb.check import load_help_center
from kb.config import Settings
from kb.translations import keyed
from search.service import SearchService
from tests.conftest import RU_RESET_PASSWORD, write_tree


def art(id_: str, lang: str, related: tuple[str, ...] = ()) -> Article:
    return Article(id=id_, title=id_, category="c", body="b", path=f"{lang}/{id_}.md", lang=lang, related=related)


def test_keys_and_related_follow_the_language():
    articles, translations = keyed([art("reset", "en", ("vpn",)), art("reset", "ru", ("vpn",)), art("vpn", "en"),
                                    art("vpn", "ru"), art("only-ru", "ru", ("reset",)), art("pair", "uk"),
                                    art("pair", "ru")], "en")
    ids = {(a.id, a.lang) for a in articles}
    assert ids == {("reset", "en"), ("reset@ru", "ru"), ("vpn", "en"), ("vpn@ru", "ru"), ("only-ru", "ru"),
                   ("pair@uk", "uk"), ("pair", "ru")}  # no default-language version: the first language keeps the id
    related = {a.id: a.related for a in articles}
    assert related["reset"] == ("vpn",) and related["reset@ru"] == ("vpn@ru",) and related["only-ru"] == ("reset@ru",)
    assert translations["reset@ru"] == {"en": "reset", "ru": "reset@ru"} and "only-ru" not in translations


RU_VERSION = RU_RESET_PASSWORD


def test_check_allows_one_id_per_language_only(center: Path):
    write_tree(center, RU_VERSION)
    assert load_help_center(center, Settings()).errors == []
    write_tree(center, {"ru/again.md": RU_VERSION["ru/reset-password-ru.md"]})
    errors = load_help_center(center, Settings()).errors
    assert len(errors) == 1 and "duplicate id 'reset-password' in language 'ru'" in errors[0].message


def test_search_shows_one_version_in_the_readers_language(center: Path, settings: Settings, encoder):
    write_tree(center, RU_VERSION)
    build_index(settings, encoder, progress=False)
    articles = json.loads((settings.index_dir / "articles.json").read_text(encoding="utf-8"))
    assert articles["reset-password@ru"]["translations"] == {"en": "reset-password", "ru": "reset-password@ru"}
    assert articles["reset-password"]["group"] == articles["reset-password@ru"]["group"] == "reset-password"
    service = SearchService.load(settings.index_dir, settings, encoder)
    russian = [h.id for h in service.search("забыл пароль").hits]
    assert russian[0] == "reset-password@ru" and "reset-password" not in russian
    english = [h.id for h in service.search("forgot password").hits]
    assert "reset-password" in english and "reset-password@ru" not in english
    # an English query from a reader of Russian gets the Russian version
    assert "reset-password@ru" in [h.id for h in service.search("forgot password", lang="ru").hits]
