"""Sub-sections as passages: each carries its heading path in what is embedded, in the index and in what a search
hit and its snippet show; an index written before heading paths asks for a rebuild."""
from __future__ import annotations

import json
import re

import pytest

from indexer.passages import article_sections, passages_for, section_record
from kb.articles import Article
from kb.config import Settings
from kb.index.records import IndexedArticle
from tests.conftest import write_tree
from tests.fakes import HashingEncoder
from web.snippets import section_text, snippet

BODY = """Policies apply to every member.

## Enterprise Policies
### Disable Send
Admins turn Send off under **Settings > Policies**.

#### For one group
Pick the group first.

### Require two-step login
Members set up an authenticator.

## Billing
Invoices come monthly.
"""


def article(body: str = BODY) -> Article:
    return Article(id="policies", title="Manage policies", category="organizations", body=body, path="p.md")


def test_sections_know_their_heading_path():
    sections = article_sections(article())
    assert [(s.anchor, s.heading_path) for s in sections] == [
        ("", ""), ("enterprise-policies", "Enterprise Policies"),
        ("disable-send", "Enterprise Policies › Disable Send"),
        ("for-one-group", "Enterprise Policies › Disable Send › For one group"),
        ("require-two-step-login", "Enterprise Policies › Require two-step login"), ("billing", "Billing")]


def test_each_sub_section_is_a_passage_embedded_with_its_title_and_heading_path():
    passages = [p for p in passages_for(article(), max_words=180) if p.kind == "section"]
    by_anchor = {p.anchor: p for p in passages}
    assert by_anchor["disable-send"].text == ("Manage policies. Enterprise Policies › Disable Send. "
                                              "Admins turn Send off under Settings > Policies")
    assert by_anchor["for-one-group"].text.startswith(
        "Manage policies. Enterprise Policies › Disable Send › For one group. Pick the group")
    assert by_anchor["disable-send"].heading == "Disable Send"
    # A top-level section's path is its heading alone, as before.
    assert by_anchor["billing"].text == "Manage policies. Billing. Invoices come monthly"
    # A heading with no text of its own is no passage when its sub-sections follow (they carry its words) ...
    assert "enterprise-policies" not in by_anchor
    # ... but is one when nothing follows it: then its heading path is all it says.
    last = [p for p in passages_for(article(BODY + "\n## Contact us\n"), max_words=180) if p.kind == "section"]
    assert (last[-1].anchor, last[-1].text) == ("contact-us", "Manage policies. Contact us")


def test_the_section_record_stores_the_path_beside_the_heading():
    records = [section_record(s) for s in article_sections(article())]
    assert records[2] == {"anchor": "disable-send", "heading": "Disable Send",
                          "path": "Enterprise Policies › Disable Send",
                          "text": "Admins turn Send off under Settings > Policies."}


CENTER = {
    "categories.yml": """\
        organizations: {title: Organizations, description: Teams and their admins.}
        send: {title: Send, description: Sending files.}
        """,
    "organizations/policies.md": "---\ntitle: Manage policies\ncategory: organizations\n---\n" + BODY,
    "send/send-a-file.md": """\
        ---
        title: Send a file
        category: send
        ---
        Send shares a file with a link that expires.

        ## Create a Send
        Choose a file and press **Send**.
        """,
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from indexer.build import build_index
    from search.service import SearchService

    root = tmp_path_factory.mktemp("paths")
    settings = Settings(articles_dir=write_tree(root / "articles", CENTER), index_dir=root / "index",
                        embedding_model="fake-hashing")
    encoder = HashingEncoder()
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    yield service
    service.close()


def test_a_hit_on_a_sub_section_carries_its_anchor_and_heading_path(service):
    hits = service.search("admins turn send off under settings policies", mode="vector").hits
    assert (hits[0].id, hits[0].anchor) == ("policies", "disable-send")
    assert hits[0].heading == "Enterprise Policies › Disable Send"
    stored = service.articles["policies"].sections
    assert [s["path"] for s in stored if s["anchor"] == "for-one-group"] == [
        "Enterprise Policies › Disable Send › For one group"]


def test_the_portal_shows_category_and_heading_path(service, tmp_path):
    from tests.portal import make_app

    settings = Settings(articles_dir=service.settings.articles_dir, index_dir=service.index_dir,
                        embedding_model="fake-hashing", database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                        secret_key="k" * 32, secret_key_file=tmp_path / "secret_key")
    page = make_app(settings, service).test_client().get(
        "/search?q=admins+turn+send+off+under+settings+policies").get_data(as_text=True)
    assert re.search(r'href="/articles/policies\?s=[0-9a-f]{32}&amp;p=1#disable-send"', page)
    assert "Organizations</a> · Enterprise Policies › Disable Send" in page


def test_a_heading_without_text_of_its_own_shows_its_sub_sections_text(service):
    meta = service.page(service.articles["policies"])
    assert section_text(meta, "enterprise-policies") == ("Admins turn Send off under Settings > Policies.\n\n"
                                                         "Pick the group first.\n\nMembers set up an authenticator.")
    assert "Admins turn <mark>Send</mark> off" in str(snippet(meta, "enterprise-policies", "send"))
    assert section_text(meta, "billing") == "Invoices come monthly."


def test_indexed_articles_round_trip_sections_with_paths(service):
    meta = service.articles["policies"]
    again = IndexedArticle.from_json(json.loads(json.dumps(meta.to_json())), "here")
    assert again.sections == meta.sections
    assert all(set(s) == {"anchor", "heading", "path"} for s in meta.sections)  # texts: in pages.jsonl
    page = service.page(meta)
    assert [s["anchor"] for s in page.sections] == [s["anchor"] for s in meta.sections]
    assert [s["text"] for s in page.sections if s["anchor"] == "billing"] == ["Invoices come monthly."]
