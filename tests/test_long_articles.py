"""bench/long_articles.py's scoring on a tiny help center built with the hashing encoder (not the real model)."""
from __future__ import annotations

import math

import pytest

from bench.long_articles import SYSTEMS, Answer, PlainBM25, PlainPassages, evaluate, published, score
from kb.config import Settings
from tests.conftest import write_tree
from tests.fakes import HashingEncoder

CENTER = {
    "categories.yml": """\
        admin: {title: Admin console, description: Policies.}
        sharing: {title: Sharing, description: Links.}
        """,
    "admin/sharing-policies.md": """\
        ---
        title: Control sharing outside your organization
        category: admin
        ---
        Admins set the limits within which members share.

        ## Shared links
        ### Require passwords and expiry dates
        Links must have a password and expire after thirty days.

        ### Who can open links
        Anyone, team members only, or no links at all.
        """,
    "sharing/create-links.md": """\
        ---
        title: Create a shared link
        category: sharing
        ---
        A shared link lets anyone view a file.

        ## Make a link
        Right-click the file and choose copy link.
        """,
    "sharing/file-requests.md": """\
        ---
        title: Collect files with a file request
        category: sharing
        ---
        People without an account upload files into your folder.

        ## Close a request
        Close the request when every upload arrived.
        """,
}

ROWS = [
    {"query": "links must have a password and expire", "expected": ["sharing-policies"],
     "anchor": "require-passwords-and-expiry-dates", "lang": "en", "kind": "faq"},
    {"query": "right-click the file and choose copy link", "expected": ["create-links"], "anchor": "make-a-link",
     "lang": "en", "kind": "faq"},
    {"query": "close the request when every upload arrived", "expected": ["file-requests"], "lang": "en",
     "kind": "faq"},
    {"query": "weather forecast for tomorrow", "expected": [], "lang": "en", "kind": "oos"},
]


@pytest.fixture(scope="module")
def center(tmp_path_factory):
    return write_tree(tmp_path_factory.mktemp("long") / "articles", CENTER)


def test_plain_bm25_matches_a_hand_computation(center):
    articles = published(center)
    bm25 = PlainBM25(articles)
    # "upload": in file-requests only (its stem, "upload", twice: "upload files", "every upload").
    docs = {a.id: bm25.terms(f"{a.title}\n{a.body}") for a in articles}
    lengths = {key: len(terms) for key, terms in docs.items()}
    average = sum(lengths.values()) / len(lengths)
    df = sum("upload" in terms for terms in docs.values())
    idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
    tf = docs["file-requests"].count("upload")
    expected = idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * lengths["file-requests"] / average))
    scores = dict(zip(bm25.ids, bm25.scores("uploads")))
    assert tf == 2
    assert scores["file-requests"] == pytest.approx(expected, rel=1e-6)
    assert scores["create-links"] == scores["sharing-policies"] == 0.0
    assert bm25.rank("uploads") == ["file-requests"]
    assert bm25.rank("weather forecast") == []


def test_plain_passages_score_an_article_by_its_best_section(center):
    articles = published(center)
    encoder = HashingEncoder()
    passages = PlainPassages(articles, encoder)
    # Each title, and each section with its heading: 3 titles, 3 intros and 5 sections ("## Shared links", with
    # no text of its own, included).
    assert len(passages.owners) == 11
    ids, anchor = passages.rank(encoder.encode_queries(["Links must have a password and expire after thirty days"])[0])
    assert ids[0] == "sharing-policies" and anchor == "require-passwords-and-expiry-dates"
    assert sorted(ids) == sorted(a.id for a in articles)
    ids, anchor = passages.rank(encoder.encode_queries(["Create a shared link"])[0], k=1)
    assert (ids, anchor) == (["create-links"], "")


def test_score_counts_top1_top3_confidence_sections_and_out_of_scope():
    answers = {
        ROWS[0]["query"]: Answer(["sharing-policies", "create-links"], "require-passwords-and-expiry-dates", True),
        ROWS[1]["query"]: Answer(["sharing-policies", "create-links"], "make-a-link", False),
        ROWS[2]["query"]: Answer(["create-links"], "", True),
        ROWS[3]["query"]: Answer(["file-requests"], "", True),
    }
    figures, misses = score(ROWS, answers.__getitem__)
    assert figures == {"answerable": 3, "out_of_scope": 1, "top1": round(1 / 3, 3), "top3": round(2 / 3, 3),
                       "confident": round(2 / 3, 3), "section1": 0.5, "oos_confident": 1.0}
    assert [m["query"] for m in misses] == [ROWS[2]["query"], ROWS[3]["query"]]
    plain, _ = score(ROWS, lambda query: Answer(answers[query].ids, None, None))
    assert plain["confident"] is plain["section1"] is plain["oos_confident"] is None
    assert plain["top1"] == figures["top1"]


def test_evaluate_runs_every_system_over_the_built_center(center, tmp_path):
    from indexer.build import build_index
    from search.service import SearchService

    settings = Settings(articles_dir=center, index_dir=tmp_path / "index", embedding_model="fake-hashing")
    encoder = HashingEncoder()
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    try:
        results = evaluate(service, encoder, published(center), ROWS)
    finally:
        service.close()
    assert set(results) == set(SYSTEMS)
    for name, figures in results.items():
        assert (figures["answerable"], figures["out_of_scope"]) == (3, 1)
        assert (figures["confident"] is None) == name.startswith("plain-")
    # Each question repeats a sentence of its article: every system but the keyword-free ones finds all three.
    assert results["plain-bm25"]["top1"] == results["kb-keyword"]["top1"] == 1.0
    assert results["plain-passages"]["top1"] == results["kb-vector"]["top1"] == 1.0
    assert results["kb-vector"]["section1"] == 1.0  # both anchored rows land on their sub-section
    with pytest.raises(SystemExit, match="not in the help center: missing"):
        evaluate(service, encoder, published(center), [{**ROWS[0], "expected": ["missing"]}])
