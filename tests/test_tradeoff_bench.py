"""bench/confidence_tradeoff.py: the intents it counts as answered are real intents of the public data sets, and each
threshold row is searched with that threshold (the fake encoder's small help center)."""
from __future__ import annotations

import pytest
import yaml

from bench.confidence_tradeoff import CENTERS, at_threshold
from bench.datasets import DATA_DIR
from search.service import SearchService
from tests.fakes import HashingEncoder

ROWS = [
    {"query": "printer offline", "expected": ["printer-offline"], "lang": "en", "kind": "phrasing"},
    {"query": "reset my password", "expected": ["reset-password"], "lang": "en", "kind": "phrasing"},
    {"query": "canteen menu for friday", "expected": [], "lang": "en", "kind": "out-of-scope"},
]


@pytest.mark.parametrize("center", sorted(CENTERS))
def test_every_intent_counted_as_answered_is_an_intent_of_its_data_set(center):
    for name, intents in CENTERS[center][2].items():
        known = set(yaml.safe_load((DATA_DIR / f"{name}_help_center.yml").read_text(encoding="utf-8"))["intents"])
        assert intents and intents <= known, (center, name, sorted(intents - known))


def test_each_row_of_figures_is_searched_with_its_own_threshold(portal_index):
    settings, _shared = portal_index
    service = SearchService.load(settings.index_dir, settings, HashingEncoder())  # its settings get replaced
    everything = at_threshold(service, 0.0, ROWS, {})
    nothing = at_threshold(service, 1.01, ROWS, {})
    assert service.settings.confidence_threshold == 1.01
    assert everything["answerable_shown"] == 1.0  # each article is found, and any answer is confident at 0
    assert nothing == {"threshold": 1.01, "answerable_shown": 0.0, "out_of_scope_confident": 0.0}
