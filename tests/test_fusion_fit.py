"""The fusion weights a build fits on its own held-out searches (indexer/fusion_fit.py), and the service's use of
them: crafted candidate rankings without a model, the keyword side blind to a text's own field, and a build with
the fake encoder."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from indexer.build import build_index
from indexer.fusion_fit import (FusionSetup, HeldOutSearch, fit_weights, held_out_searches, ranked,
                                reciprocal_rank, sign_test, weight_grid)
from indexer.calibrate import SectionSearches
from indexer.held_out import HeldOut
from kb.config import Settings
from kb.index.keyword import KeywordDoc, KeywordIndex, write_index
from kb.index.manifest import MANIFEST, read_manifest
from search.service import SearchService
from tests.fakes import HashingEncoder

CATEGORY = {"a": "x", "b": "x", "c": "y"}


def search(answer: str, vector: list[tuple[str, float]], keyword: list[tuple[str, float]],
           category_p: dict[str, float] | None = None) -> HeldOutSearch:
    return HeldOutSearch(answer, vector, vector, keyword, category_p or {})


def test_the_configured_pair_comes_first_and_plain_vectors_are_always_tried():
    grid = weight_grid(0.3, 0.25)
    assert grid[0] == (0.3, 0.25)
    assert (0.0, 0.0) in grid and (0.5, 0.0) in grid and (0.5, 0.25) in grid
    assert len(grid) == len(set(grid))


def test_a_help_center_where_keywords_mislead_gets_keyword_weight_zero():
    # The vector side ranks every answer first; keyword matches favour a wrong article strongly.
    searches = [search("a", [("a", 0.80), ("b", 0.79), ("c", 0.5)], [("b", 9.0), ("a", 1.0)]),
                search("b", [("b", 0.81), ("a", 0.80), ("c", 0.5)], [("a", 7.0), ("b", 2.0)])]
    fit = fit_weights(searches, CATEGORY, {}, 0.2, 0.1)
    assert fit["keyword_weight"] == 0.0
    assert fit["held_out_mrr"] == fit["vector_mrr"] == 1.0
    assert fit["configured_mrr"] < 1.0  # the configured weight 0.2 lifts the wrong article
    assert fit["category_weight"] == 0.0  # it ties with 0.1 here: the lower weight, the simpler ranking


def test_a_help_center_where_keywords_help_gets_a_positive_keyword_weight():
    # The vector side ranks the answer second by a hair; its keyword match is the best one.
    searches = [search("a", [("b", 0.80), ("a", 0.79), ("c", 0.5)], [("a", 5.0), ("b", 1.0)]),
                search("c", [("a", 0.70), ("c", 0.69)], [("c", 3.0)])]
    fit = fit_weights(searches, CATEGORY, {}, 0.0, 0.0)
    assert fit["keyword_weight"] > 0.0
    assert fit["held_out_mrr"] == 1.0 and fit["vector_mrr"] == fit["configured_mrr"] == 0.5


def test_the_category_weight_is_fitted_too():
    # The answer c is a close second; keywords say nothing. A third, distant candidate spreads the cosines, so the
    # first two are close matches the prior may reorder.
    right = [search("c", [("a", 0.80), ("c", 0.795), ("b", 0.3)], [], {"y": 0.9, "x": 0.1}),
             search("c", [("b", 0.60), ("c", 0.599), ("a", 0.1)], [], {"y": 0.8, "x": 0.2})] * 5
    fit = fit_weights(right, CATEGORY, {}, 0.2, 0.1)
    assert fit["category_weight"] == 0.1 and fit["held_out_mrr"] == 1.0 and fit["vector_mrr"] == 0.5
    assert (fit["prior_wins"], fit["prior_losses"], fit["prior_p"]) == (10, 0, 0.001)
    # The same searches with a classifier that is wrong about them: the prior is switched off.
    wrong = [replace(s, answer="a" if s.vector[0][0] == "a" else "b", category_p={"y": 0.9, "x": 0.1})
             for s in right]
    fit = fit_weights(wrong, CATEGORY, {}, 0.2, 0.1)
    assert fit["category_weight"] == 0.0 and fit["held_out_mrr"] == 1.0 and fit["configured_mrr"] == 0.5
    assert fit["keyword_weight"] == 0.0  # keywords say nothing: every keyword weight ties, the lowest is kept


def test_the_prior_stays_only_when_it_wins_significantly_more_searches_than_it_loses():
    # At keyword weight 0 (keywords say nothing): the prior lifts the right answer c over a in `helped`, and lifts
    # the wrong c over the right a in `hurt`.
    helped = search("c", [("a", 0.80), ("c", 0.795), ("b", 0.3)], [], {"y": 0.9, "x": 0.1})
    hurt = replace(helped, answer="a")
    for wins, losses, kept in [(3, 0, False), (5, 0, True), (7, 3, False), (12, 3, True)]:
        fit = fit_weights([helped] * wins + [hurt] * losses, CATEGORY, {}, 0.0, 0.1)
        assert (fit["prior_wins"], fit["prior_losses"]) == (wins, losses)
        assert fit["category_weight"] == (0.1 if kept else 0.0), (wins, losses, fit["prior_p"])
        assert fit["prior_p"] == pytest.approx(sign_test(wins, losses), abs=1e-4)
    assert sign_test(0, 0) == 1.0 and sign_test(5, 0) == 1 / 32
    # Above 1,000 searches, the normal approximation: the exact binomial tail of 1,100 wins in 2,000 is 4.23e-6.
    assert sign_test(1100, 900) == pytest.approx(4.23e-6, rel=0.05)


def test_ties_keep_the_configured_pair():
    searches = [search("a", [("a", 0.9), ("b", 0.2)], [("a", 3.0)])]
    fit = fit_weights(searches, CATEGORY, {}, 0.35, 0.1)
    # The configured keyword weight; a prior that changes nothing has won nothing and is left out.
    assert (fit["keyword_weight"], fit["category_weight"]) == (0.35, 0.0)
    assert (fit["prior_wins"], fit["prior_losses"], fit["prior_p"]) == (0, 0, 1.0)
    assert fit_weights([], CATEGORY, {}, 0.2, 0.1) == {}
    # Better by less than TIE_MRR is a tie too: 500 searches, one of them ranked second by the configured weights.
    near = [search("a", [("a", 0.9), ("b", 0.2)], [])] * 499 + [search("a", [("a", 0.80), ("b", 0.79)],
                                                                        [("b", 5.0)])]
    fit = fit_weights(near, CATEGORY, {}, 0.2, 0.1)
    assert fit["vector_mrr"] - fit["configured_mrr"] == pytest.approx(0.001)
    assert (fit["keyword_weight"], fit["category_weight"]) == (0.2, 0.0)


def test_language_versions_count_as_their_article_and_take_one_place():
    group_of = {"a@ru": "a"}
    ranking = [("a@ru", 0.9), ("b", 0.8), ("a", 0.7)]
    assert reciprocal_rank(ranking, "a", group_of) == 1.0
    assert reciprocal_rank([("b@ru", 0.9), ("b", 0.8), ("a", 0.7)], "a", {"b@ru": "b"}) == 0.5
    assert reciprocal_rank(ranking, "c", group_of) == 0.0


def test_the_fitted_ranking_is_the_services_hybrid():
    from search.rank import rank
    from search.retrieve import Candidates

    s = search("a", [("b", 0.8), ("a", 0.79), ("c", 0.4)], [("a", 5.0), ("c", 2.0)], {"x": 0.3, "y": 0.7})
    candidates = Candidates(s.keyword, s.vector, s.vector_ranked, {}, [0.8, 0.79, 0.4], 0.0)
    for kw, cw in weight_grid(0.2, 0.1):
        assert ranked(s, kw, cw, CATEGORY) == rank("hybrid", candidates, kw, "score", CATEGORY, s.category_p, cw)[0]


def _keyword_index(tmp_path):
    docs = [KeywordDoc("a", "a", "public", "x", "en", title="Printer offline", body="Restart the spooler."),
            KeywordDoc("b", "b", "public", "x", "en", title="Scanner jams", body="The printer offline light blinks.")]
    write_index(tmp_path / "keyword", docs)
    return KeywordIndex(tmp_path / "keyword")


def test_a_held_out_text_does_not_see_its_own_field(tmp_path):
    index = _keyword_index(tmp_path)
    try:
        plain = {h.article_id: h.score for h in index.search("printer offline", 10)}
        hidden = {h.article_id: h.score for h in index.search("printer offline", 10, hide=("a", "title", ""))}
        assert plain["a"] > plain["b"]
        assert "a" not in hidden  # its words are only in its title
        assert hidden["b"] == plain["b"]  # other articles score as indexed, their titles included
        body_hidden = {h.article_id: h.score for h in index.search("printer offline", 10, hide=("b", "body", ""))}
        assert "b" not in body_hidden and body_hidden["a"] == plain["a"]
        # The rest of the field still counts: the title as if it held only "printer".
        partly = {h.article_id: h.score for h in index.search("printer offline", 10, hide=("a", "title", "Printer"))}
        alone = {h.article_id: h.score for h in index.search("printer", 10)}
        assert partly["a"] == pytest.approx(alone["a"]) and 0 < partly["a"] < plain["a"]
    finally:
        index.close()


def test_held_out_searches_hide_the_text_own_passage_and_field(tmp_path):
    index = _keyword_index(tmp_path)
    encoder = HashingEncoder()
    texts = ["Printer offline", "Restart the spooler.", "Scanner jams", "The printer offline light blinks."]
    embeddings = encoder.encode_passages(texts)
    held = HeldOut(["Printer offline"], ["a"], [0], ["title"], [""])
    try:
        found = held_out_searches(index, ("public",), embeddings, ["a", "a", "b", "b"],
                                  ["summary", "section", "summary", "section"], CATEGORY,
                                  encoder.encode_queries(held.texts), held, [0], {}, FusionSetup(0.2, 0.1, 10, 0.5))
    finally:
        index.close()
    (only,) = found
    cosines = dict(only.vector)
    own = float(encoder.encode_queries(["Printer offline"])[0] @ embeddings[0])
    assert cosines["a"] < own - 1e-6  # its identical summary passage is hidden; its section still counts
    # Without questions, its centroid was that summary alone: its one section stands in for it.
    assert dict(only.vector_ranked)["a"] == pytest.approx(1.5 * cosines["a"])
    assert dict(only.vector_ranked)["b"] == pytest.approx(cosines["b"] + 0.5 * float(
        encoder.encode_queries(["Printer offline"])[0] @ embeddings[2]))
    assert "a" not in dict(only.keyword)  # the title field of its own article is hidden


def test_sub_section_headings_are_searched_without_their_section_and_heading(tmp_path):
    docs = [KeywordDoc("a", "a", "public", "x", "en", title="Printer guide", heading="Printer offline\nToner",
                       body="Restart the spooler. Shake the cartridge."),
            KeywordDoc("b", "b", "public", "x", "en", title="Scanner jams", body="The printer offline light blinks.")]
    write_index(tmp_path / "keyword", docs)
    index = KeywordIndex(tmp_path / "keyword")
    encoder = HashingEncoder()
    texts = ["Printer guide", "Printer guide. Printer offline. Restart the spooler.", "Printer guide. Toner. Shake",
             "Scanner jams", "Scanner jams. The printer offline light blinks."]
    embeddings = encoder.encode_passages(texts)
    held = HeldOut([], [], [], [], [])
    heading = encoder.encode_queries(["Printer offline"])
    stand_in = encoder.encode_passages(["Restart the spooler."])
    sections = SectionSearches(heading, ["a"], [(1,)], stand_in, [None], ["Printer offline"], ["Toner"])
    try:
        (only,) = held_out_searches(index, ("public",), embeddings, ["a", "a", "a", "b", "b"],
                                    ["summary", "section", "section", "summary", "section"], CATEGORY,
                                    np.zeros((0, embeddings.shape[1]), np.float32), held, [], {},
                                    FusionSetup(0.2, 0.1, 10, 0.5), sections)
        plain = {h.article_id: h.score for h in index.search("Printer offline", 10)}
    finally:
        index.close()
    cosines = dict(only.vector)
    own = float(heading[0] @ embeddings[1])
    # Its section's passage is hidden; its text stands in for it (or a sibling passage, whichever is closer)
    assert cosines["a"] < own - 1e-6
    assert cosines["a"] == pytest.approx(max(float(heading[0] @ stand_in[0]), float(heading[0] @ embeddings[0]),
                                             float(heading[0] @ embeddings[2])))
    assert only.answer == "a"
    # Its own heading no longer matches in the keyword field; other articles score as indexed.
    assert dict(only.keyword).get("a", 0.0) < plain["a"] and dict(only.keyword)["b"] == pytest.approx(plain["b"])


def test_the_build_records_the_fit_and_the_service_fuses_with_it(settings):
    encoder = HashingEncoder()
    report = build_index(settings, encoder)
    manifest = json.loads((settings.index_dir / MANIFEST).read_text(encoding="utf-8"))
    assert report.fusion == manifest["fusion"]
    for audience in ("public", "internal"):
        fit = manifest["fusion"][audience]
        assert fit["searches"] > 0 and fit["held_out_mrr"] >= fit["vector_mrr"]
        assert (fit["keyword_weight"], fit["category_weight"]) in weight_grid(0.2, 0.1)
    # Fitted weights of (0, 0) make the hybrid the plain vector ranking; 'configured' ignores them.
    edited = read_manifest(settings.index_dir)
    edited.fusion["public"].update(keyword_weight=0.0, category_weight=0.0)
    edited.write(settings.index_dir.resolve())
    fitted = SearchService.load(settings.index_dir, settings, encoder)
    forced = SearchService.load(settings.index_dir, replace(settings, fusion_weights="configured"), encoder)
    zero = SearchService.load(settings.index_dir, replace(settings, fusion_weights="configured", keyword_weight=0.0,
                                                          category_weight=0.0), encoder)
    try:
        assert fitted.fusion_weights["public"] == (0.0, 0.0)
        assert forced.fusion_weights["public"] == (0.2, 0.1)
        for query in ("printer offline", "forgot password", "password expired printer"):
            got = [(h.id, h.score) for h in fitted.search(query).hits]
            assert got == [(h.id, h.score) for h in zero.search(query).hits]
        assert any([h.score for h in fitted.search(q).hits] != [h.score for h in forced.search(q).hits]
                   for q in ("printer offline", "forgot password"))
    finally:
        for service in (fitted, forced, zero):
            service.close()


def test_an_article_without_questions_adds_its_sub_section_headings_to_the_fit(settings):
    from indexer.build import indexed
    from indexer.held_out import held_out_sections, held_out_texts
    from kb.check import load_help_center

    (settings.articles_dir / "printers" / "toner-and-paper.md").write_text(
        "---\ntitle: Toner and paper\ncategory: printers\n---\nLook after the office printers.\n\n"
        "## Toner\n### The toner light keeps blinking\nOpen the front cover and reseat the cartridge.\n\n"
        "### Order a new cartridge\nAsk the office manager; cartridges arrive within two days.\n",
        encoding="utf-8")
    build_index(settings, HashingEncoder())
    articles, _, passages = indexed(load_help_center(settings.articles_dir, settings), settings)
    audience = {a.id: a.audience for a in articles}
    public = [r for r, p in enumerate(passages) if audience[p.article_id] == "public"]
    headings = held_out_sections(articles, passages, public).headings
    assert headings == ["The toner light keeps blinking", "Order a new cartridge"]
    fit = read_manifest(settings.index_dir).fusion["public"]
    assert fit["searches"] == len(held_out_texts(articles, passages, public).texts) + len(headings)


@pytest.mark.parametrize("entry", [None, {}, {"keyword_weight": "x"}])
def test_an_index_without_a_usable_fit_is_searched_with_the_configured_weights(entry):
    from search.service import fusion_weights

    settings = Settings(keyword_weight=0.3, category_weight=0.05)
    assert fusion_weights(entry, settings) == (0.3, 0.05)
    assert fusion_weights({"keyword_weight": 0.1, "category_weight": 0.0}, settings) == (0.1, 0.0)
    assert fusion_weights({"keyword_weight": 0.1, "category_weight": 0.0},
                          replace(settings, fusion="rrf")) == (0.3, 0.05)


def test_kb_build_prints_the_fitted_weights(center, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from kb.cli import cli

    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake-hashing")
    monkeypatch.delenv("KB_CONFIG", raising=False)
    index = tmp_path / "index"
    result = CliRunner().invoke(cli, ["build", "--articles", str(center), "--index", str(index)], obj={},
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    fit = json.loads((index / MANIFEST).read_text(encoding="utf-8"))["fusion"]["public"]
    assert (f"fusion fitted on {fit['searches']} held-out searches (public): keyword weight {fit['keyword_weight']}, "
            f"category weight {fit['category_weight']}, MRR {fit['held_out_mrr']}") in result.output


def test_each_held_out_text_knows_its_kind_and_the_rest_of_its_keyword_field():
    from indexer.held_out import held_out_texts
    from indexer.passages import passages_for
    from kb.articles import Article

    articles = [Article(id="a", title="Reset a password", category="c", body="## Steps\nOpen the portal.\n",
                        description="Change a forgotten password.", questions=("forgot my password", "locked out"),
                        path="a.md")]
    passages = passages_for(articles[0], 180)
    held = held_out_texts(articles, passages, list(range(len(passages))))
    got = {text: (kind, rest) for text, kind, rest in zip(held.texts, held.kinds, held.rests)}
    assert got == {"Reset a password": ("title", ""),
                   "Change a forgotten password.": ("description", "Open the portal."),
                   "forgot my password": ("question", "locked out"), "locked out": ("question", "forgot my password")}
