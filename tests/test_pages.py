"""Article pages in pages.jsonl (kb.index.pages): written with byte ranges, read back on demand, refused by name."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kb.errors import IndexFormatError
from kb.index.pages import PageReader, PageText, write_pages
from kb.index.records import IndexedArticle

PAGES = {"a": PageText("<p>Привет, мир</p>", ("one", "two")), "b": PageText("<p>B</p>", ()),
         "c": PageText("<p>" + "x" * 5000 + "</p>", ("three",))}


def record(key: str, page: list[int], sections: int) -> IndexedArticle:
    return IndexedArticle(id=key, title=key, category="c", lang="en", audience="public", status="published",
                          group=key, translations={}, description="", questions=[], tags=[], related=[],
                          featured=False, path="", hash="", links_key="", page=page, files=[],
                          sections=[{"anchor": f"s{n}", "heading": f"S{n}", "path": f"S{n}"} for n in range(sections)])


@pytest.fixture
def written(tmp_path: Path) -> tuple[Path, dict[str, list[int]]]:
    path = tmp_path / "pages.jsonl"
    return path, write_pages(path, PAGES.items())


def test_each_page_reads_back_by_its_byte_range_in_any_order(written):
    path, spans = written
    reader = PageReader(path)
    for key in ("c", "a", "b", "a"):
        assert reader.text(*spans[key]) == PAGES[key]
    page = reader.page(record("a", spans["a"], 2))
    assert page.html == "<p>Привет, мир</p>"
    assert [(s["anchor"], s["text"]) for s in page.sections] == [("s0", "one"), ("s1", "two")]
    assert path.read_bytes().count(b"\n") == 3  # one line per article


def test_an_open_reader_outlives_its_files_removal(written):
    """A newer build may prune this one while a worker still serves it."""
    path, spans = written
    reader = PageReader(path)
    path.unlink()
    assert reader.text(*spans["c"]).texts == ("three",)


def test_damaged_pages_are_refused_naming_the_file(written):
    path, spans = written
    reader = PageReader(path)
    with pytest.raises(IndexFormatError, match=f"{path}: no page"):
        reader.text(spans["a"][0] + 1, spans["a"][1])  # not where a page starts
    with pytest.raises(IndexFormatError, match=f"{path}: 2 section texts for the 3 sections of 'a'"):
        reader.page(record("a", spans["a"], 3))
    with pytest.raises(IndexFormatError, match=f"{path}: no page \\[0, 100000\\] for article 'x'"):
        reader.check({"x": record("x", [0, 100000], 0)})
    reader.check({key: record(key, span, len(PAGES[key].texts)) for key, span in spans.items()})
    with pytest.raises(IndexFormatError, match="cannot be read"):
        PageReader(path.parent / "missing.jsonl")


def test_a_record_copied_for_an_audience_reads_the_same_page(written):
    path, spans = written
    meta = record("a", spans["a"], 2)
    assert PageReader(path).page(replace(meta, related=[])).html == PAGES["a"].html


def test_a_loaded_records_sections_read_as_the_stored_mappings_and_write_back_as_them():
    import json

    from kb.index.records import SectionHead

    stored = [{"anchor": "", "heading": "", "path": ""},
              {"anchor": "steps", "heading": "Steps", "path": "Setup › Steps"}]
    data = {**record("a", [0, 1], 0).to_json(), "sections": stored, "tags": ["vpn", "wifi"]}
    meta = IndexedArticle.from_json(json.loads(json.dumps(data)), "articles.json article 'a'")
    assert all(isinstance(s, SectionHead) for s in meta.sections)
    assert meta.sections == stored and [dict(s) for s in meta.sections] == stored
    assert meta.sections[1]["path"] == "Setup › Steps" and meta.sections[1].get("text") is None
    assert {**meta.sections[1], "text": "t"} == {**stored[1], "text": "t"}
    assert json.loads(json.dumps(meta.to_json()))["sections"] == stored
    with pytest.raises(KeyError):
        meta.sections[0]["text"]
    broken = {**data, "sections": [{"anchor": "x", "heading": "X"}]}
    with pytest.raises(IndexFormatError, match="articles.json article 'a': a section without anchor, heading, path"):
        IndexedArticle.from_json(broken, "articles.json article 'a'")


def test_a_dropped_reader_closes_its_file_at_once(written):
    import gc
    import os

    path, spans = written
    reader = PageReader(path)
    reader.text(*spans["a"])
    gc.disable()  # freed by reference counting alone, not by a later collection
    try:
        descriptor = reader._file.fileno()
        del reader
        with pytest.raises(OSError):
            os.fstat(descriptor)
    finally:
        gc.enable()


def test_a_record_within_the_articles_an_audience_sees_is_itself_unless_it_names_others():
    meta = replace(record("a", [0, 1], 0), related=["b", "secret"], translations={"en": "a", "ru": "secret@ru"})
    narrowed = meta.within({"a": meta, "b": meta})
    assert (narrowed.related, narrowed.translations) == (["b"], {"en": "a"})
    assert meta.within({"a": meta, "b": meta, "secret": meta, "secret@ru": meta}) is meta  # nothing to drop: no copy
