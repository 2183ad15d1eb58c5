"""The Whoosh and FAISS wrappers, tested against small corpora and brute force."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.errors import IndexFormatError
from kb.index.keyword import KeywordDoc, KeywordIndex, write_index
from kb.index.vector import ExactRows, PartitionedVectors, VectorIndex
from kb.index.vector import write_index as write_vectors


def doc(n: int, article: str, lang: str = "en", audience: str = "public", **text) -> KeywordDoc:
    return KeywordDoc(f"{article}#{n}", article, audience, "c", lang, **text)


@pytest.fixture
def keyword(tmp_path: Path) -> KeywordIndex:
    write_index(tmp_path / "kw", [
        doc(0, "printer", title="Printer is offline", body="Restart the printing spooler service."),
        doc(0, "password", title="Reset your password", questions="forgot my password", body="Use the portal."),
        doc(0, "ru-printer", lang="ru", title="Принтер не печатает", body="Проверьте подключение принтеров."),
        doc(0, "secret", audience="internal", title="Printer admin procedure", body="internal only"),
    ])
    ix = KeywordIndex(tmp_path / "kw")
    yield ix
    ix.close()


def test_title_match_outranks_body_match(tmp_path: Path):
    write_index(tmp_path / "kw", [doc(0, "body", title="Remote work", body="Start the vpn client first."),
                                  doc(0, "title", title="VPN client", body="Start the client first.")])
    ix = KeywordIndex(tmp_path / "kw")
    assert [h.article_id for h in ix.search("vpn", 10)] == ["title", "body"]


def test_internal_and_other_language_docs_not_matched(keyword: KeywordIndex):
    assert [h.article_id for h in keyword.search("printer", 10)] == ["printer"]


def test_english_stemming(keyword: KeywordIndex):
    assert keyword.search("resetting passwords", 10)[0].article_id == "password"


def test_russian_stemming_finds_other_word_forms(keyword: KeywordIndex):
    assert [h.article_id for h in keyword.search("принтера", 10)] == ["ru-printer"]
    assert [h.article_id for h in keyword.search("подключением", 10)] == ["ru-printer"]


def test_audience_filter(keyword: KeywordIndex):
    assert "secret" not in {h.article_id for h in keyword.search("printer admin", 10)}
    assert keyword.search("printer admin", 10, ("public", "internal"))[0].article_id == "secret"


@pytest.mark.parametrize(("query", "words", "found"), [
    ("AND (", "and", []), ("title:", "title", []), ("*", "", []), ('"unbalanced', "unbalanced", []),
    ("OR OR", "or or", []), ("x" * 10000, "x" * 10000, []), ("🙂 ☃", "", []),
    ("'; DROP TABLE articles; --", "drop table articles", []), ("<script>alert(1)</script>", "script alert 1 script", []),
    ("принтер AND printer", "принтер and printer", ["ru-printer", "printer"]),
    ("printer AND password", "printer and password", ["password", "printer"]),  # not both: either word finds
    ("NOT printer", "not printer", ["printer"]), ("printer -offline", "printer offline", ["printer"]),
    ('"offline printer"', "offline printer", ["printer"]), ("title:password", "title password", ["password"]),
    ("pass?word", "pass word", []), ("passwrd~", "passwrd", []),  # no wildcard, no fuzzy match
])
def test_query_syntax_is_never_parsed(keyword: KeywordIndex, query: str, words: str, found: list[str]):
    """Operators, fields, wildcards and quotes are words like any other: the query finds what its words find."""
    hits = keyword.search(query, 10)
    assert [(h.article_id, h.score) for h in hits] == [(h.article_id, h.score) for h in keyword.search(words, 10)]
    assert [h.article_id for h in hits] == found


def test_scores_follow_bm25_term_frequency(tmp_path: Path):
    write_index(tmp_path / "kw", [doc(0, "one", body="vpn"), doc(0, "two", body="vpn vpn vpn"),
                                  doc(0, "none", body="printer")])
    ix = KeywordIndex(tmp_path / "kw")
    hits = ix.search("vpn", 10)
    assert [h.article_id for h in hits] == ["two", "one"]
    assert hits[0].score > hits[1].score > 0


def test_faiss_equals_numpy_exact_top_k(tmp_path: Path):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(500, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    write_vectors(tmp_path / "v.faiss", vectors)
    index = VectorIndex(tmp_path / "v.faiss", 32)
    for query in vectors[:20] + rng.normal(scale=0.1, size=(20, 32)).astype(np.float32):
        scores, rows = index.search(query, 10)
        exact = np.argsort(-(vectors @ query))[:10]
        assert rows[0].tolist() == exact.tolist()
        assert np.allclose(scores[0], (vectors @ query)[exact], atol=1e-5)


@pytest.mark.parametrize("exact_max", [5000, 1000], ids=["flat", "ivf"])
def test_a_loaded_vector_index_maps_its_file_instead_of_copying_it(tmp_path: Path, exact_max: int):
    """Every worker serving a build then shares the vectors' pages (the page cache) instead of holding its own copy;
    the mapping outlives the file's removal (a pruned build)."""
    vectors = np.random.default_rng(5).normal(size=(3000, 32)).astype(np.float32)
    path = tmp_path / "v.faiss"
    write_vectors(path, vectors, exact_max=exact_max)
    index = VectorIndex(path, 32)
    assert str(path) in Path("/proc/self/maps").read_text()
    before = index.search(vectors[0], 5)
    path.unlink()
    after = index.search(vectors[0], 5)
    assert after[1].tolist() == before[1].tolist() and 0 in before[1][0].tolist()


def test_vector_index_rejects_wrong_dimension_and_garbage(tmp_path: Path):
    write_vectors(tmp_path / "v.faiss", np.eye(4, dtype=np.float32))
    with pytest.raises(IndexFormatError, match="4 dimensions"):
        VectorIndex(tmp_path / "v.faiss", 8)
    (tmp_path / "bad.faiss").write_bytes(b"not an index")
    with pytest.raises(IndexFormatError, match="cannot read"):
        VectorIndex(tmp_path / "bad.faiss", 4)


def test_ivf_above_the_exact_limit_finds_the_exact_neighbours(tmp_path: Path):
    # Text embeddings cluster by topic: 100 topics of 30 passages each, rather than uniform noise
    rng = np.random.default_rng(3)
    topics = rng.normal(size=(100, 32))
    vectors = (np.repeat(topics, 30, axis=0) + rng.normal(scale=0.4, size=(3000, 32))).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    assert write_vectors(tmp_path / "flat.faiss", vectors, exact_max=5000) == "flat-ip"
    assert write_vectors(tmp_path / "ivf.faiss", vectors, exact_max=1000) == "ivf-sq4"
    np.save(tmp_path / "embeddings.npy", vectors)
    index = PartitionedVectors({"public": VectorIndex(tmp_path / "ivf.faiss", 32)}, {"public": np.arange(3000)},
                               tmp_path / "embeddings.npy")  # as a search reads it: 4-bit finds, re-scored
    queries = vectors[:100] + rng.normal(scale=0.05, size=(100, 32)).astype(np.float32)
    found = 0
    for query in queries:
        _, rows = index.search(query, 10)
        exact = set(np.argsort(-(vectors @ query))[:10].tolist())
        found += len(exact & set(rows[0].tolist()))
    assert found / 1000 >= 0.95


def _topics(rng: np.random.Generator, topics: int, each: int, dimension: int = 32) -> np.ndarray:
    centres = rng.normal(size=(topics, dimension))
    vectors = (np.repeat(centres, each, axis=0) + rng.normal(scale=0.4, size=(topics * each, dimension)))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_a_quantized_index_is_re_scored_exactly_from_the_float_vectors(tmp_path: Path):
    """Above the exact limit vectors are stored in 4 bits; what a search returns carries the float vectors' scores,
    in passage rows, across partitions, as an exact search gives them."""
    rng = np.random.default_rng(11)
    vectors = _topics(rng, 60, 50)
    public = np.arange(len(vectors)) % 5 != 0  # every fifth passage is internal
    rows = {"public": np.flatnonzero(public), "internal": np.flatnonzero(~public)}
    np.save(tmp_path / "embeddings.npy", vectors)
    for name, picked in rows.items():
        assert write_vectors(tmp_path / f"{name}.faiss", vectors[picked], exact_max=500) == "ivf-sq4"
    indexes = {name: VectorIndex(tmp_path / f"{name}.faiss", 32) for name in rows}
    assert all(index.approximate for index in indexes.values())
    rescored = PartitionedVectors(indexes, rows, tmp_path / "embeddings.npy")
    quantized = PartitionedVectors(indexes, rows)
    off, found = 0.0, 0
    for query in vectors[::37] + rng.normal(scale=0.05, size=(len(vectors[::37]), 32)).astype(np.float32):
        scores, got = rescored.search(query, 10, ("public", "internal"))
        exact = vectors @ query
        assert np.allclose(scores[0], exact[got[0]], atol=1e-6)  # the float vectors' own scores
        assert (np.diff(scores[0]) <= 0).all()
        found += len(set(got[0].tolist()) & set(np.argsort(-exact)[:10].tolist()))
        raw, raw_rows = quantized.search(query, 10, ("public", "internal"))
        off = max(off, float(np.abs(raw[0] - exact[raw_rows[0]]).max()))
    assert found / (10 * len(vectors[::37])) >= 0.95
    assert off > 1e-5  # without the float vectors, the 4-bit scores are what is returned: they differ


def test_an_8_bit_index_of_an_earlier_build_loads_as_quantized_and_is_re_scored(tmp_path: Path):
    """Builds of kb before 4-bit vectors wrote 8-bit ones ('ivf-sq8'); they load and are re-scored the same way."""
    vectors = _topics(np.random.default_rng(5), 40, 50)
    assert write_vectors(tmp_path / "old.faiss", vectors, exact_max=100, bits=8) == "ivf-sq8"
    np.save(tmp_path / "embeddings.npy", vectors)
    index = VectorIndex(tmp_path / "old.faiss", 32)
    assert index.approximate
    scores, rows = PartitionedVectors({"public": index}, {"public": np.arange(len(vectors))},
                                      tmp_path / "embeddings.npy").search(vectors[7], 5)
    assert rows[0][0] == 7 and np.allclose(scores[0], (vectors @ vectors[7])[rows[0]], atol=1e-6)


def test_float_vectors_that_cannot_be_read_are_refused_naming_the_file(tmp_path: Path):
    vectors = _topics(np.random.default_rng(2), 30, 40)
    write_vectors(tmp_path / "v.faiss", vectors, exact_max=100)
    index = {"public": VectorIndex(tmp_path / "v.faiss", 32)}
    rows = {"public": np.arange(len(vectors))}
    path = tmp_path / "embeddings.npy"
    np.save(path, vectors[:-1])
    with pytest.raises(IndexFormatError, match=f"{path}: 1199 vectors of 32 dimensions for 1200 passages"):
        PartitionedVectors(index, rows, path)
    np.save(path, vectors.astype(np.float64))
    with pytest.raises(IndexFormatError, match="not a matrix of float32 rows"):
        ExactRows(path)
    np.save(path, vectors)
    picked = np.array([5, 6, 7, 0, 6, 1199, 8])  # out of order, repeated, in runs
    assert np.array_equal(ExactRows(path).take(picked), vectors[picked])
    assert ExactRows(path).take(np.array([], dtype=np.int64)).shape == (0, 32)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(IndexFormatError, match="truncated"):
        ExactRows(path)
    path.write_bytes(b"garbage")
    with pytest.raises(IndexFormatError, match=f"{path}: cannot read vectors"):
        ExactRows(path)
    path.unlink()
    with pytest.raises(IndexFormatError, match=f"{path}: cannot read vectors"):
        PartitionedVectors(index, rows, path)
    flat = {"public": VectorIndex(_flat(tmp_path, vectors), 32)}
    assert len(PartitionedVectors(flat, rows, path)) == len(vectors)  # exact vectors need no file


def _flat(tmp_path: Path, vectors: np.ndarray) -> Path:
    write_vectors(tmp_path / "flat.faiss", vectors)
    return tmp_path / "flat.faiss"


def test_knows_stemmed_words_and_stop_words(keyword: KeywordIndex):
    assert keyword.knows("printers") and keyword.knows("принтеров")
    assert keyword.knows("the")  # a stop word: never stored, but a word of the language
    assert not keyword.knows("zebracorn") and not keyword.knows("ghbynth")


def _corpus(n: int, seed: int) -> list[KeywordDoc]:
    rng = np.random.default_rng(seed)
    words = "printer vpn password reset offline spooler outlook mailbox token laptop dock driver wifi".split()
    docs = []
    for i in range(n):
        pick = lambda k: " ".join(rng.choice(words, size=k))  # noqa: E731
        docs.append(doc(0, f"a{i:03d}", audience="internal" if i % 7 == 0 else "public",
                        title=pick(3), questions=pick(6), tags=pick(2), heading=pick(2), body=pick(40)))
    return docs


QUERIES = ["printer offline", "reset vpn password token", "outlook", "laptop dock wifi driver spooler", "zebra"]


def assert_same_as_whoosh(ix: KeywordIndex) -> None:
    for query in QUERIES:
        for audiences in (("public",), ("public", "internal")):
            ours, whoosh = ix.search(query, 15, audiences), ix.whoosh_search(query, 15, audiences)
            assert [h.score for h in ours] == pytest.approx([h.score for h in whoosh], rel=1e-5)
            # every matching document, with the same score (equal scores may come in either order)
            ours, whoosh = ix.search(query, 1000, audiences), ix.whoosh_search(query, 1000, audiences)
            assert {h.doc_id: h.score for h in ours} == pytest.approx({h.doc_id: h.score for h in whoosh}, rel=1e-5)


def test_stored_scores_equal_whoosh_search(tmp_path: Path):
    write_index(tmp_path / "kw", _corpus(120, seed=1))
    ix = KeywordIndex(tmp_path / "kw")
    assert ix.search("printer offline", 15)
    assert_same_as_whoosh(ix)


def test_stored_scores_follow_an_incremental_update_with_deletions(tmp_path: Path):
    docs = _corpus(120, seed=2)
    write_index(tmp_path / "old", docs)
    changed = [doc(0, "a005", title="vpn zebracorn", body="vpn")]
    write_index(tmp_path / "new", changed, previous=tmp_path / "old", remove=["a005", "a006"])
    ix = KeywordIndex(tmp_path / "new")
    found = {h.article_id for h in ix.search("vpn", 200, ("public", "internal"))}
    assert "a005" in found and "a006" not in found
    assert [h.article_id for h in ix.search("zebracorn", 5)] == ["a005"]
    assert_same_as_whoosh(ix)


def test_missing_stored_scores_ask_for_a_rebuild(tmp_path: Path):
    write_index(tmp_path / "kw", _corpus(5, seed=3))
    (tmp_path / "kw" / "impacts.npz").unlink()
    with pytest.raises(IndexFormatError, match="rebuild"):
        KeywordIndex(tmp_path / "kw")


def test_unreadable_keyword_index_asks_for_a_rebuild(tmp_path: Path):
    write_index(tmp_path / "kw", _corpus(5, seed=4))
    for toc in (tmp_path / "kw").glob("*.toc"):
        toc.write_bytes(b"\x80\x04garbage")  # e.g. written by a version with other analyzers
    ix = KeywordIndex(tmp_path / "kw")  # searches read the stored scores alone: Whoosh's files are opened on demand
    assert ix.search("printer", 5)
    with pytest.raises(IndexFormatError, match="cannot read the keyword index"):
        ix.whoosh_search("printer", 5)
    with pytest.raises(IndexFormatError, match="cannot read the keyword index"):  # nor built upon
        write_index(tmp_path / "next", [], previous=tmp_path / "kw")


def test_stored_scores_are_summed_as_scipy_sums_them(tmp_path: Path):
    from scipy import sparse

    from kb.index.impacts import Impacts

    rng = np.random.default_rng(5)
    matrix = sparse.random(300, 80, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    matrix.data = (matrix.data * 10).astype(np.float32)
    sparse.save_npz(tmp_path / "m.npz", matrix, compressed=False)
    impacts = Impacts.load(tmp_path / "m.npz")
    for rows in ([], [7], [3, 250, 3, 0], list(rng.choice(300, 64)), list(range(300))):
        expected = np.asarray(matrix[rows].sum(axis=0)).ravel() if rows else np.zeros(80, np.float32)
        got = impacts.column_sums(rows)
        assert got.dtype == np.float32 and np.array_equal(got, expected)  # bit for bit, not approximately
    assert all(isinstance(a, np.memmap) for a in (impacts.data, impacts.indices, impacts.indptr))
    assert str(tmp_path / "m.npz") in Path("/proc/self/maps").read_text()  # mapped, not copied
    sparse.save_npz(tmp_path / "z.npz", matrix, compressed=True)  # (not what the build writes): read into memory
    packed = Impacts.load(tmp_path / "z.npz")
    assert not isinstance(packed.data, np.memmap) and np.array_equal(packed.column_sums([1, 2]),
                                                                        impacts.column_sums([1, 2]))
    sparse.save_npz(tmp_path / "c.npz", matrix.tocsc(), compressed=False)
    with pytest.raises(ValueError, match="not CSR"):
        Impacts.load(tmp_path / "c.npz")
    stored = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "m.npz").write_bytes(stored[:len(stored) // 2])
    with pytest.raises(ValueError, match="m.npz: damaged"):  # the keyword index names its folder (IndexFormatError)
        Impacts.load(tmp_path / "m.npz")


def test_a_loaded_keyword_index_searches_without_scipy_or_whoosh_indexing(keyword: KeywordIndex, tmp_path: Path):
    import json
    import subprocess
    import sys

    script = ("import json, sys; from pathlib import Path; from kb.index.keyword import KeywordIndex; "
              f"hits = KeywordIndex(Path({str(keyword._directory)!r})).search('printer', 5); "
              "print(json.dumps([[h.article_id for h in hits], "
              "sorted(m for m in ('scipy', 'whoosh.index', 'whoosh.searching') if m in sys.modules)]))")
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [["printer"], []]


def test_the_layout_names_every_file_of_an_index_folder(tmp_path: Path):
    from kb.index import layout

    assert layout.every_name(("public", "internal")) == {
        "manifest.json", "articles.json", "pages.jsonl", "categories.json", "passages.json", "history.json", "embeddings.npy",
        "centroids.npy", "keyword", "words-public.json", "words-internal.json", "classifier-public.npz",
        "classifier-internal.npz", "vectors-public.faiss", "vectors-internal.faiss"}
    files = layout.IndexFiles(tmp_path)
    assert (files.manifest, files.keyword, files.vectors("public")) == (
        tmp_path / "manifest.json", tmp_path / "keyword", tmp_path / "vectors-public.faiss")
    assert (files.words("internal").name, files.classifier("public").name) == ("words-internal.json",
                                                                             "classifier-public.npz")


def test_stored_article_links_become_whatever_urls_the_reader_builds():
    from kb.index.links import article_href, resolve_article_links

    html = (f'<a href="{article_href("printer-offline")}#macos">a</a> <a href="{article_href("reset@ru")}">b</a> '
            '<a href="https://example.com/articles/x">c</a> <a href="#top">d</a>')
    out = resolve_article_links(html, lambda key: f"/help/articles/{key}?x=1&y=2")
    assert out == ('<a href="/help/articles/printer-offline?x=1&amp;y=2#macos">a</a> '
                   '<a href="/help/articles/reset@ru?x=1&amp;y=2">b</a> '
                   '<a href="https://example.com/articles/x">c</a> <a href="#top">d</a>')
