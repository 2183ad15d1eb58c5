"""Building the index with a fake encoder: outputs, the embedding cache, atomic swaps, and loading checks."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from indexer import audiences, publish
from indexer.build import build_index
from kb.config import Settings
from kb.errors import ArticleError, IndexFormatError, IndexMissingError, ModelMismatchError
from kb.index import layout
from kb.index.checksums import checksums
from kb.index.manifest import AUDIENCES, read_manifest
from search.service import SearchService
from tests.conftest import SMALL_CENTER, write_tree
from tests.fakes import HashingEncoder


def stored_html(index: Path) -> dict[str, str]:
    """Each article's rendered page as the index stores it (pages.jsonl, at articles.json's byte ranges)."""
    from kb.index.pages import PageReader

    articles = json.loads((index / "articles.json").read_text(encoding="utf-8"))
    pages = PageReader(index / "pages.jsonl")
    return {key: pages.text(*meta["page"]).html for key, meta in articles.items()}


def stand_ins(settings) -> int:
    """How many section texts a build's calibration embeds as passages (indexer/held_out.py HeldOutSections)."""
    from indexer.build import indexed
    from indexer.held_out import held_out_sections
    from kb.check import load_help_center

    articles, _, passages = indexed(load_help_center(settings.articles_dir, settings), settings)
    return len(set(held_out_sections(articles, passages, list(range(len(passages)))).bodies))


def test_build_writes_a_complete_index(settings, encoder):
    report = build_index(settings, encoder)
    assert (report.articles, report.drafts, report.reused) == (4, 1, 0)
    # every passage embedded once, and the calibration's stand-ins for the sections it hides
    assert report.embedded == report.passages == encoder.passages_encoded - stand_ins(settings)
    index = settings.index_dir
    assert index.is_symlink()
    assert {p.name for p in index.iterdir()} == layout.every_name(tuple(AUDIENCES))
    manifest = read_manifest(index)
    assert (manifest.model_name, manifest.model_dimension) == ("fake-hashing", 64)
    assert set(manifest.articles) == {"printer-offline", "reset-password", "vpn-oshibka", "agent-only"}
    assert manifest.counts["passages"] == report.passages and manifest.counts["drafts"] == 1
    assert manifest.languages == ["en", "ru"]
    articles = json.loads((index / "articles.json").read_text(encoding="utf-8"))
    assert stored_html(index)["reset-password"].count('href="kb-article:printer-offline"') == 1
    assert [s["anchor"] for s in articles["printer-offline"]["sections"]] == ["", "windows", "macos"]


def test_an_article_without_questions_is_calibrated_on_its_sub_sections_too(settings, encoder):
    (settings.articles_dir / "printers" / "toner-and-paper.md").write_text(
        "---\ntitle: Toner and paper\ncategory: printers\n---\nLook after the office printers.\n\n"
        "## Toner\n### The toner light keeps blinking\nOpen the front cover and reseat the cartridge.\n\n"
        "### Order a new cartridge\nAsk the office manager; cartridges arrive within two days.\n",
        encoding="utf-8")
    report = build_index(settings, encoder)
    searched = read_manifest(settings.index_dir).classifier["public"]["section_searches"]
    assert searched == stand_ins(settings) == 2  # the two headings of the article without questions
    assert report.embedded == report.passages == encoder.passages_encoded - stand_ins(settings)


def test_manifest_records_git_commit(settings, encoder):
    run = lambda *args: subprocess.run(["git", "-C", str(settings.articles_dir), *args], check=True,  # noqa: E731
                                       capture_output=True)
    run("init", "-q")
    run("add", ".")
    run("-c", "user.name=Ed", "-c", "user.email=ed@example.com", "commit", "-q", "-m", "articles")
    build_index(settings, encoder)
    head = subprocess.run(["git", "-C", str(settings.articles_dir), "rev-parse", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    assert read_manifest(settings.index_dir).git == {"commit": head, "dirty": False}


def test_unchanged_rebuild_embeds_nothing_and_never_loads_the_model(settings, encoder):
    build_index(settings, encoder)

    def must_not_load(model_name):
        raise AssertionError("the model was loaded for an unchanged rebuild")

    report = build_index(settings.replace(embedding_model="fake-hashing"), must_not_load)
    assert report.embedded == 0 and report.reused == report.passages


def test_changing_one_article_embeds_only_its_changed_passages(settings, encoder):
    first = build_index(settings, encoder)
    path = settings.articles_dir / "printers" / "printer-offline.md"
    path.write_text(path.read_text(encoding="utf-8").replace("remove then re-add", "delete and add again"),
                    encoding="utf-8")
    fresh = HashingEncoder()
    report = build_index(settings, fresh)
    assert report.embedded == 1  # only the macOS section changed
    assert fresh.passages_encoded == 1 + stand_ins(settings)  # (and the calibration, on new data, runs again)
    assert report.passages == first.passages


def test_other_model_means_re_embedding(settings, encoder):
    build_index(settings, encoder)
    other = HashingEncoder(dimension=32)
    other.name = "other-model"
    report = build_index(settings, other)
    assert report.embedded == report.passages


def test_failed_check_leaves_previous_index(settings, encoder):
    build_index(settings, encoder)
    before = read_manifest(settings.index_dir).built_at, os.readlink(settings.index_dir)
    (settings.articles_dir / "broken.md").write_text("---\ntitle: [x\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ArticleError) as info:
        build_index(settings, encoder)
    assert any("broken.md:2: invalid YAML" in str(p) for p in info.value.problems)
    assert (read_manifest(settings.index_dir).built_at, os.readlink(settings.index_dir)) == before


def test_crash_mid_build_leaves_old_index_loadable(settings, encoder):
    build_index(settings, encoder)
    old_target = os.readlink(settings.index_dir)
    path = settings.articles_dir / "accounts" / "reset-password.md"
    path.write_text(path.read_text(encoding="utf-8") + "\n## New part\nMore words here.\n" * 3, encoding="utf-8")
    (settings.articles_dir / "other.md").write_text("---\ntitle: Other\ncategory: vpn\n---\n" +
                                                    "\n".join(f"## Part {i}\nText {i}." for i in range(40)),
                                                    encoding="utf-8")
    crashing = HashingEncoder(fail_after=5)
    with pytest.raises(RuntimeError, match="simulated crash"):
        build_index(settings.replace(embedding_batch_size=4), crashing)
    assert crashing.passages_encoded > 0  # it really was part-way through
    assert os.readlink(settings.index_dir) == old_target
    assert not list(publish.builds_dir(settings.index_dir).glob("*.tmp"))
    service = SearchService.load(settings.index_dir, settings, encoder)
    assert "other" not in service.articles
    assert service.search("printer offline").hits[0].id == "printer-offline"


def test_stale_tmp_from_killed_build_is_removed(settings, encoder):
    build_index(settings, encoder)
    stale = publish.builds_dir(settings.index_dir) / "19990101T000000-deadbeef.tmp"
    stale.mkdir()
    (stale / "half-written").write_text("x")
    build_index(settings, encoder)
    assert not stale.exists()


def test_old_builds_are_pruned(settings, encoder):
    for _ in range(5):
        build_index(settings.replace(keep_builds=2), encoder)
    assert len([p for p in publish.builds_dir(settings.index_dir).iterdir() if p.is_dir()]) == 3


def test_index_refuses_another_model(settings, encoder):
    build_index(settings, encoder)
    other = HashingEncoder()
    other.name = "other-model"
    with pytest.raises(ModelMismatchError, match="built with model 'fake-hashing'"):
        SearchService.load(settings.index_dir, settings, other)
    with pytest.raises(ModelMismatchError):
        SearchService.load(settings.index_dir, settings.replace(embedding_model="all-MiniLM-L6-v2"))


def test_missing_index_is_a_clear_error(tmp_path, settings):
    with pytest.raises(IndexMissingError, match="run 'kb build' first"):
        SearchService.load(tmp_path / "nowhere", settings)


def test_search_hides_internal_and_drafts_from_customers(settings, encoder):
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    public = {h.id for h in service.search("password reset callback identity", k=10).hits}
    assert "agent-only" not in public and "new-printers" not in public
    internal = service.search("callback identity", k=10, audience="internal").hits
    assert internal[0].id == "agent-only"
    assert "new-printers" not in {h.id for h in service.search("new printer fleet draft", k=10,
                                                               audience="internal").hits}


def test_search_returns_parts_and_sections(settings, encoder):
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    hit = service.search("macOS printers scanners re-add").hits[0]
    assert hit.id == "printer-offline" and hit.anchor == "macos" and hit.heading == "macOS"
    assert set(hit.parts) == {"keyword", "vector", "fused", "category", "final"} and hit.parts["keyword"] > 0
    assert service.search("впн подключение").hits[0].id == "vpn-oshibka"


@pytest.mark.parametrize("query", ["", "   ", "\x00\x07", "x" * 10000, "AND (", "title:*", '"', "🙂🙂",
                                   "SELECT * FROM users; --", "<b onmouseover=alert(1)>", "printer ПРИНТЕР 打印机"])
def test_hostile_queries_never_raise(settings, encoder, query):
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    response = service.search(query)
    assert len(response.query) <= settings.max_query_chars
    assert all(h.id in service.articles for h in response.hits)


def test_a_second_concurrent_build_is_refused(settings, encoder):
    from kb.errors import BuildError

    build_index(settings, encoder)
    target = os.readlink(settings.index_dir)
    with publish.build_lock(settings.index_dir):
        with pytest.raises(BuildError, match="another build .* is running"):
            build_index(settings, encoder)
    assert os.readlink(settings.index_dir) == target
    build_index(settings, encoder)  # the lock is released afterwards
    assert os.readlink(settings.index_dir) != target


def test_unknown_front_matter_keys_are_kept_in_the_index(settings, encoder):
    path = settings.articles_dir / "accounts" / "reset-password.md"
    path.write_text(path.read_text(encoding="utf-8").replace("---\ntitle:", "---\nreviewed: 2026-01-31\ntitle:", 1),
                    encoding="utf-8")
    build_index(settings, encoder)
    articles = json.loads((settings.index_dir / "articles.json").read_text(encoding="utf-8"))
    assert articles["reset-password"]["extra"] == {"reviewed": "2026-01-31"}


def test_incremental_keyword_index_follows_edits_and_removals(settings, encoder):
    # Enough articles that one change takes the incremental path (copying the previous keyword index).
    for n in range(8):
        (settings.articles_dir / f"extra-{n}.md").write_text(
            f"---\ntitle: Extra topic {n}\ncategory: vpn\n---\nFiller text number {n}.\n", encoding="utf-8")
    build_index(settings, encoder)
    path = settings.articles_dir / "accounts" / "reset-password.md"
    path.write_text(path.read_text(encoding="utf-8").replace("self-service password page",
                                                             "zebracorn portal"), encoding="utf-8")
    (settings.articles_dir / "extra-3.md").unlink()
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    assert service.search("zebracorn", mode="keyword").hits[0].id == "reset-password"
    assert "reset-password" not in {h.id for h in service.search("self-service", mode="keyword").hits}
    assert "extra-3" not in {h.id for h in service.search("extra topic 3", k=20).hits}
    keyword_ids = {h.id for h in service.search("filler text number", k=20, mode="keyword").hits}
    assert keyword_ids == {f"extra-{n}" for n in range(8) if n != 3}


def test_unchanged_rebuild_reuses_models_and_pages(settings, encoder):
    build_index(settings, encoder)
    first = read_manifest(settings.index_dir)
    build_index(settings, encoder)
    second = read_manifest(settings.index_dir)
    assert second.classifier == first.classifier and second.confidence == first.confidence
    (settings.articles_dir / "new.md").write_text("---\ntitle: New\ncategory: vpn\nquestions: [a b, c d]\n---\n"
                                                  "See [reset](accounts/reset-password.md).\n", encoding="utf-8")
    build_index(settings, encoder)
    third = read_manifest(settings.index_dir)
    assert third.classifier["training_key"] != first.classifier["training_key"]
    assert 'href="kb-article:reset-password"' in stored_html(settings.index_dir)["new"]


def test_an_unchanged_article_keeps_its_rendered_page_from_the_previous_build(settings, encoder, monkeypatch):
    from indexer.render import Renderer

    build_index(settings, encoder)
    before = stored_html(settings.index_dir)
    rendered = []
    original = Renderer.render
    monkeypatch.setattr(Renderer, "render", lambda self, body, *a: rendered.append(body) or original(self, body, *a))
    path = settings.articles_dir / "printers" / "printer-offline.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nCheck the cable.\n", encoding="utf-8")
    build_index(settings, encoder)
    after = stored_html(settings.index_dir)
    assert len(rendered) == 1 and "Check the cable." in rendered[0]  # only the changed article is rendered
    assert {k: v for k, v in after.items() if k != "printer-offline"} == {
        k: v for k, v in before.items() if k != "printer-offline"}
    assert "Check the cable." in after["printer-offline"]


def test_an_unreadable_previous_keyword_index_costs_a_full_one(settings, encoder):
    first = build_index(settings, encoder)
    for toc in (first.build_dir / "keyword").glob("*.toc"):
        toc.write_bytes(b"\x80\x04garbage")
    path = settings.articles_dir / "printers" / "printer-offline.md"
    path.write_text(path.read_text(encoding="utf-8") + "\nCheck the cable.\n", encoding="utf-8")
    second = build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    assert second.build_dir != first.build_dir
    assert service.search("printer offline").hits[0].id == "printer-offline"


def test_the_index_holds_links_between_articles_by_id_and_the_portal_builds_their_urls(settings, encoder):
    from web import create_app

    (settings.articles_dir / "accounts" / "reset-password.md").write_text(
        "---\ntitle: Reset your password\ncategory: accounts\n---\nSee [the printer article]"
        "(../printers/printer-offline.md#windows) and [macOS](../printers/printer-offline.md).\n", encoding="utf-8")
    build_index(settings, encoder)
    stored = stored_html(settings.index_dir)
    assert "/articles/" not in json.dumps(list(stored.values()))
    assert 'href="kb-article:printer-offline#windows"' in stored["reset-password"]
    app = create_app(settings, SearchService.load(settings.index_dir, settings, encoder))
    app.testing = True
    html = app.test_client().get("/articles/reset-password").get_data(as_text=True)
    assert '<a href="/articles/printer-offline#windows" rel="noopener noreferrer">the printer article</a>' in html
    assert '<a href="/articles/printer-offline" rel="noopener noreferrer">macOS</a>' in html
    assert "kb-article:" not in html


def test_every_indexed_article_and_passage_reads_back_as_the_record_it_was_written_from(settings, encoder):
    from kb.index.records import IndexedArticle, IndexedPassage

    build_index(settings, encoder)
    articles = json.loads((settings.index_dir / "articles.json").read_text(encoding="utf-8"))
    passages = json.loads((settings.index_dir / "passages.json").read_text(encoding="utf-8"))
    assert all(IndexedArticle.from_json(a, "articles.json").to_json() == a for a in articles.values())
    assert all(IndexedPassage.from_json(p, "passages.json").to_json() == p for p in passages)


def reseal(index_dir: Path) -> None:
    """Record the index's files as they are now, as if the build had written them so (an older kb's records)."""
    manifest = read_manifest(index_dir)
    manifest.files = checksums(index_dir.resolve())
    manifest.write(index_dir.resolve())


def test_a_passage_without_its_kind_asks_for_a_rebuild_when_the_index_is_loaded(settings, encoder):
    build_index(settings, encoder)
    path = settings.index_dir / "passages.json"
    passages = json.loads(path.read_text(encoding="utf-8"))
    del passages[3]["kind"]
    path.write_text(json.dumps(passages), encoding="utf-8")
    reseal(settings.index_dir)
    with pytest.raises(IndexFormatError, match=r"passages\.json row 3: missing kind; rebuild the index"):
        SearchService.load(settings.index_dir, settings, encoder)


def test_an_article_without_its_title_asks_for_a_rebuild_when_the_index_is_loaded(settings, encoder):
    build_index(settings, encoder)
    path = settings.index_dir / "articles.json"
    articles = json.loads(path.read_text(encoding="utf-8"))
    del articles["printer-offline"]["title"]
    path.write_text(json.dumps(articles), encoding="utf-8")
    reseal(settings.index_dir)
    with pytest.raises(IndexFormatError, match=r"articles\.json article 'printer-offline': missing title; rebuild"):
        SearchService.load(settings.index_dir, settings, encoder)


def test_the_service_holds_indexed_articles_read_only(settings, encoder):
    from dataclasses import FrozenInstanceError

    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    for articles in (service.articles, service.visible_articles("public")):
        article = articles["reset-password"]
        assert article.title == "Reset your password" and article.audience == "public"
        with pytest.raises(FrozenInstanceError):
            article.title = "Changed"  # type: ignore[misc]
        with pytest.raises(TypeError):
            articles["reset-password"] = article  # type: ignore[index]


def test_without_internal_articles_the_audiences_models_are_trained_once(tmp_path, encoder, monkeypatch):
    public_only = {k: v for k, v in SMALL_CENTER.items() if "audience: internal" not in v}
    settings = Settings(articles_dir=write_tree(tmp_path / "articles", public_only), index_dir=tmp_path / "index",
                        embedding_model="fake-hashing")
    calls = []
    real = audiences.train_models
    monkeypatch.setattr(audiences, "train_models", lambda *a, **k: calls.append(1) or real(*a, **k))
    build_index(settings, encoder)
    assert len(calls) == 1
    manifest = read_manifest(settings.index_dir)
    assert manifest.classifier["public"] == manifest.classifier["internal"]
    assert manifest.confidence["public"] == manifest.confidence["internal"]
    service = SearchService.load(settings.index_dir, settings, encoder)
    public, internal = (service.search("printer offline", audience=a) for a in ("public", "internal"))
    assert public.to_dict() == internal.to_dict()


def test_a_build_after_an_upgrade_of_kb_reuses_the_older_formats_vectors_alone(settings, encoder):
    """An index of an older format is not served, but the vectors in it are keyed by the hash of the text they
    embed: a team upgrading kb does not embed its whole help center again."""
    from kb.index.checksums import digest_text
    from kb.index.manifest import FORMAT_VERSION, _canonical

    first = build_index(settings, encoder)
    path = settings.index_dir / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("checksum")
    data["format_version"] = FORMAT_VERSION - 1
    path.write_text(json.dumps({**data, "checksum": digest_text(_canonical(data))}), encoding="utf-8")
    with pytest.raises(IndexFormatError, match=f"index format {FORMAT_VERSION - 1}, this kb reads format"):
        SearchService.load(settings.index_dir, settings, encoder)
    second = build_index(settings, encoder)
    assert (second.reused, second.embedded) == (first.passages, 0)
    assert read_manifest(settings.index_dir).format_version == FORMAT_VERSION
    assert SearchService.load(settings.index_dir, settings, encoder).search("printer offline").hits
