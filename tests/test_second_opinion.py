"""The second opinion on confidence: built beside a multilingual index, reused by an unchanged rebuild, asked only
about text in Latin letters, and confident when either model is (fake encoders; bench/deflection.py measures the
real pair)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from indexer.build import build_index
from indexer.second_opinion import SECOND_MODEL, second_model_for
from kb.index import layout
from kb.index.classifier import KNN, ConfidenceModel, confidence_features
from kb.index.manifest import AUDIENCES, read_manifest
from search.service import SearchService
from tests.fakes import HashingEncoder


class SecondEncoder(HashingEncoder):
    """Another fake model: a different vector space (a different dimension) from the index's own."""

    name = "fake-second"

    def __init__(self) -> None:
        super().__init__(dimension=48)
        self.queries = 0

    def encode_queries(self, texts):
        self.queries += len(texts)
        return super().encode_queries(texts)


@pytest.fixture
def built(settings, encoder):
    second = SecondEncoder()
    build_index(settings, encoder, second_encoder=second)
    return settings, second


def test_only_a_multilingual_model_gets_one_and_the_setting_turns_it_off(settings):
    assert second_model_for(settings, "multilingual-e5-small") == SECOND_MODEL == "all-MiniLM-L6-v2"
    assert second_model_for(settings, "use-multilingual-v3") == SECOND_MODEL
    assert second_model_for(settings, "all-MiniLM-L6-v2") is None
    assert second_model_for(settings, "fake-hashing") is None
    assert second_model_for(replace(settings, english_second_opinion=False), "multilingual-e5-small") is None


def test_the_build_writes_its_vectors_centroids_and_a_curve_per_audience(built):
    settings, second = built
    index = settings.index_dir
    assert {p.name for p in index.iterdir()} == layout.every_name(tuple(AUDIENCES), second_opinion=True)
    manifest = read_manifest(index)
    entry = manifest.second_opinion
    assert (entry["model"], entry["dimension"]) == ("fake-second", 48)
    assert entry["embedded"] == second.passages_encoded > 0
    assert np.load(index / layout.SECOND_EMBEDDINGS).shape == (manifest.counts["passages"], 48)
    assert len(np.load(index / layout.SECOND_CENTROIDS)) == len(manifest.articles)
    for audience in AUDIENCES:
        curve = entry["confidence"][audience]
        # calibrated on the texts in Latin letters only: the Russian article's title is not among them
        assert 0 < curve["searches"] and "coef" in curve and "language_shift" in curve


def test_an_unchanged_rebuild_embeds_and_calibrates_nothing_again(built, encoder):
    settings, first = built
    before = read_manifest(settings.index_dir).second_opinion
    again = SecondEncoder()
    build_index(settings, encoder, second_encoder=again)
    after = read_manifest(settings.index_dir).second_opinion
    assert again.passages_encoded == 0 and again.queries == 0  # the model is never asked
    assert (after["embedded"], after["reused"]) == (0, before["embedded"] + before["reused"])
    assert after["confidence"] == before["confidence"]


def test_queries_made_another_way_calibrate_both_curves_again(built, encoder):
    """A curve is fitted on query vectors; when queries are computed another way (another runtime, another query
    graph: kb.embedding.encoders.query_path) a rebuild fits it again instead of reusing it."""
    settings, _ = built
    other = replace(settings, query_runtime="torch")
    again = SecondEncoder()
    calls = []
    real = encoder.encode_queries
    encoder.encode_queries = lambda texts: calls.append(len(texts)) or real(texts)
    try:
        build_index(other, encoder, second_encoder=again)
    finally:
        del encoder.encode_queries
    assert again.passages_encoded == 0 and again.queries > 0  # passages reused, held-out searches embedded again
    assert sum(calls) > 0


def test_off_means_no_second_opinion_in_the_build_or_the_search(settings, encoder):
    off = replace(settings, english_second_opinion=False)
    build_index(off, encoder, second_encoder=SecondEncoder())
    assert read_manifest(off.index_dir).second_opinion == {}
    assert SearchService.load(off.index_dir, off, encoder)._second is None


def test_a_latin_query_is_confident_when_either_model_is(built, encoder):
    settings, _ = built
    second = SecondEncoder()
    service = SearchService.load(settings.index_dir, settings, encoder, second_encoder=second)
    opinion = service._second
    assert opinion is not None and second.queries == 1  # warmed up with the service
    without = SearchService.load(settings.index_dir, replace(settings, english_second_opinion=False), encoder)
    queries = ("printer shows offline", "reset my password", "the canteen menu for friday")
    for query in queries:
        own = without.search(query).confidence
        theirs = opinion.confidence(query, "public", "en", False)
        found = service.search(query)
        expected = own if own >= settings.confidence_threshold else max(own, theirs)
        assert found.confidence == pytest.approx(expected)
        assert found.confident == (max(own, theirs) >= settings.confidence_threshold)
    asked = second.queries
    cyrillic = service.search("принтер не печатает")
    assert second.queries == asked  # text it cannot read is not asked about
    assert cyrillic.confidence == pytest.approx(without.search("принтер не печатает").confidence)
    assert opinion.confidence("принтер не печатает", "public", "ru", False) == 0.0


def test_the_second_model_is_asked_only_when_the_first_is_not_confident(built, encoder):
    """What either model finds confident is confident; the English model's query embedding is spent only on a
    query the index's own model does not answer confidently."""
    settings, _ = built
    queries = ("printer shows offline on the wifi", "how do I reset my password", "canteen menu for friday")
    for threshold, asked in ((0.0, 0), (1.01, len(queries))):  # everything confident / nothing confident
        second = SecondEncoder()
        service = SearchService.load(settings.index_dir, replace(settings, confidence_threshold=threshold), encoder,
                                     second_encoder=second)
        warmed = second.queries
        for query in queries:
            service.search(query)
        assert second.queries - warmed == asked


def test_a_broken_second_opinion_is_a_clear_index_error(built, encoder):
    from kb.errors import IndexFormatError

    settings, _ = built
    (settings.index_dir / layout.SECOND_CENTROIDS).unlink()
    with pytest.raises(IndexFormatError, match=r"second-centroids\.npy is missing: the index is incomplete"):
        SearchService.load(settings.index_dir, settings, encoder, second_encoder=SecondEncoder())


def test_each_audience_is_judged_on_the_passages_it_may_read(built, encoder):
    """The vectors are memory-mapped vector indexes, one per article audience (not a copy per audience);
    customers' confidence comes from the public passages alone, agents' from every passage (the internal
    article's included)."""
    settings, second = built
    service = SearchService.load(settings.index_dir, settings, encoder, second_encoder=second)
    opinion = service._second
    mapped = Path("/proc/self/maps").read_text()
    assert layout.SECOND_VECTORS.format(audience="public") in mapped
    vectors = np.load(settings.index_dir / layout.SECOND_EMBEDDINGS)
    every_centroid, ids = np.load(settings.index_dir / layout.SECOND_CENTROIDS), sorted(service.articles)
    entry = read_manifest(settings.index_dir).second_opinion
    query_text = "printer shows offline on the office wifi"
    query = second.encode_queries([query_text])[0]
    judged = {}
    for audience, allowed in AUDIENCES.items():
        rows = [r for r, p in enumerate(service._passages) if service.articles[p.article].audience in allowed]
        centroids = every_centroid[[n for n, key in enumerate(ids) if service.articles[key].audience in allowed]]
        features = confidence_features(np.sort(vectors[rows] @ query)[-KNN:], float((centroids @ query).max()))
        expected = float(ConfidenceModel.from_json(entry["confidence"][audience]).predict(features, False, "en")[0])
        judged[audience] = len(rows)
        assert opinion.confidence(query_text, audience, "en", False) == pytest.approx(expected)
    assert judged["public"] < judged["internal"] == len(service._passages)
