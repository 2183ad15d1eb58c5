"""Query language from its letters, the `auto` embedding model, and keyword weight for foreign-language queries."""
from __future__ import annotations

import pytest

from kb.embedding.encoders import ENGLISH_MODEL, MULTILINGUAL_MODEL, resolve_model
from kb.language import query_language


@pytest.mark.parametrize("text, lang", [
    ("принтер не друкує", "uk"), ("Їжак", "uk"), ("забыл пароль, всё сломалось", "ru"), ("VPN не се свързва", "bg"),
    ("принтерът не печата", "bg"), ("подъезд", None), ("пошта", None), ("printer offline", "en"), ("12345", None),
    ("", None),
])
def test_query_language(text, lang):
    assert query_language(text) == lang


def test_auto_model_follows_the_articles_languages():
    assert resolve_model("auto", ["en", "en-GB"]) == ENGLISH_MODEL
    assert resolve_model("auto", ["en", "ru"]) == MULTILINGUAL_MODEL
    assert resolve_model("auto", []) == ENGLISH_MODEL
    assert resolve_model("multilingual-e5-small", ["en"]) == "multilingual-e5-small"


def test_foreign_language_query_does_not_lean_on_chance_keyword_matches(settings, encoder):
    from indexer.build import build_index
    from search.service import SearchService

    build_index(settings, encoder, progress=False)
    plain = SearchService.load(settings.index_dir, settings, encoder)
    # Ukrainian: the help center has English and Russian articles only; "впн" matches the Russian article's words
    query = "не працює впн"
    with_keywords = SearchService.load(settings.index_dir, settings.replace(foreign_keyword_factor=1.0), encoder)
    assert with_keywords.search(query).hits[0].parts["keyword"] > 0
    hit = {h.id: h for h in plain.search(query).hits}["vpn-oshibka"]
    again = {h.id: h for h in with_keywords.search(query).hits}["vpn-oshibka"]
    assert hit.parts["fused"] < again.parts["fused"]  # the keyword share is gone, not the match
    russian = "не работает впн"  # Russian articles exist: keywords count in full
    assert plain.search(russian).hits[0].parts["fused"] == with_keywords.search(russian).hits[0].parts["fused"]


def test_a_build_refuses_an_encoder_of_another_model(settings, encoder):
    from indexer.build import build_index
    from kb.errors import EncoderError

    with pytest.raises(EncoderError, match="was loaded"):
        build_index(settings.replace(embedding_model="auto"), lambda model_name: encoder, progress=False)
