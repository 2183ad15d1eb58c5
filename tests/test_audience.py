"""Customers learn nothing about internal articles through search: not their words (spelling fixes), their
categories (classifier, category lists), their ids (links in public articles), nor their influence on scores.
Agents (audience 'internal') still get all of it."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from indexer.build import build_index
from kb.helpdesk.accounts import add_staff
from kb.check import load_help_center
from kb.config import Settings
from kb.errors import IndexFormatError
from kb.helpdesk.models import Ticket
from search.service import SearchService
from tests.conftest import write_tree
from tests.fakes import HashingEncoder
from tests.portal import PASSWORD, add_people, make_app, post, sign_in

SECRET_WORD = "quarkfrobnicate"  # used by one internal article only
SECRET_WORD_WRONG_LAYOUT = "йгфклакщитшсфеу"  # the same keys typed with a Russian layout
SECRET_TITLE = "Security operations runbooks"

CENTER = {
    "categories.yml": f"""\
        printers: {{title: Printers, description: Connecting and fixing printers.}}
        accounts: {{title: Accounts, description: Passwords and sign-in.}}
        secretops: {{title: {SECRET_TITLE}, description: Agents only.}}
        """,
    "printers/printer-offline.md": """\
        ---
        title: Printer shows Offline
        category: printers
        questions: [my printer says offline, printer not printing, printer status offline]
        tags: [printer, offline]
        related: [vault-key-rotation]
        ---
        Bring the printer back online.

        ## Windows
        Open Settings and select the printer.
        If it stays offline, follow [the escalation runbook](../secretops/vault-key-rotation.md#steps).
        """,
    "accounts/reset-password.md": """\
        ---
        title: Reset your password
        category: accounts
        questions: [forgot password, password expired, cannot sign in]
        ---
        Go to the self-service password page and follow the steps.
        """,
    "accounts/caller-check.md": """\
        ---
        title: Verify a caller before a password reset
        category: accounts
        audience: internal
        questions: [verify caller identity, callback before reset]
        ---
        Call the number on file before resetting anything.
        """,
    "secretops/vault-key-rotation.md": f"""\
        ---
        title: Rotate the vault keys
        category: secretops
        audience: internal
        questions: [rotate vault keys, vault key rotation, hsm vault keys rotate]
        ---
        Run {SECRET_WORD} on the vault host.

        ## Steps
        Rotate the vault keys, then check [the caller procedure](../accounts/caller-check.md).
        """,
    "secretops/vault-audit.md": """\
        ---
        title: Vault audit trail
        category: secretops
        audience: internal
        questions: [vault audit log, hsm vault audit trail, who opened the vault]
        ---
        Export the vault audit log every week.
        """,
}
PUBLIC_QUERIES = ["printer offline", "forgot my password", "rotate vault keys", "vault audit", "pasword",
                  SECRET_WORD, SECRET_WORD_WRONG_LAYOUT, "ghbynth"]


def build(root: Path, files: dict[str, str]) -> SearchService:
    settings = Settings(articles_dir=write_tree(root / "articles", files), index_dir=root / "index",
                        embedding_model="fake-hashing")
    encoder = HashingEncoder()
    build_index(settings, encoder, progress=False)
    return SearchService.load(settings.index_dir, settings, encoder)


@pytest.fixture(scope="module")
def service(tmp_path_factory) -> SearchService:
    return build(tmp_path_factory.mktemp("audience"), CENTER)


# (a) spelling: the layout fix and the typo fix only use words the searcher may read


def test_customers_layout_slip_is_never_fixed_into_a_word_of_an_internal_article(service):
    public = service.search(SECRET_WORD_WRONG_LAYOUT)
    assert public.corrected is None and SECRET_WORD not in json.dumps(public.to_dict())
    assert SECRET_WORD not in json.dumps(service.search(SECRET_WORD[:-1]).to_dict())  # one typo away
    internal = service.search(SECRET_WORD_WRONG_LAYOUT, audience="internal")
    assert internal.corrected == SECRET_WORD and internal.hits[0].id == "vault-key-rotation"


def test_agents_typos_are_fixed_with_the_words_of_internal_articles(service):
    assert service.search(SECRET_WORD[:-1], audience="internal").corrected == SECRET_WORD


# (b) categories: one that holds only internal articles is never predicted for nor offered to customers


def test_customers_are_never_told_a_category_that_holds_only_internal_articles(service):
    for query in PUBLIC_QUERIES:
        response = service.search(query)
        assert response.category != "secretops", query
        assert all(h.category != "secretops" for h in response.hits)
    assert set(service.categories) == {"printers", "accounts"}  # accounts also holds an internal article
    assert service.search("rotate vault keys", audience="internal").category == "secretops"
    assert set(service.visible_categories("internal")) == {"printers", "accounts", "secretops"}


def test_public_search_is_built_from_public_articles_alone(service, tmp_path):
    """Taking every internal article away changes nothing a customer's search answers: scores, category
    probabilities, confidence and spelling fixes come from public articles only."""
    public_only = {path: text for path, text in CENTER.items() if "audience: internal" not in text}
    # the same words without the link and the related article, which would point nowhere
    public_only["printers/printer-offline.md"] = re.sub(r"\[(.*?)\]\(.*?\)", r"\1", public_only[
        "printers/printer-offline.md"].replace("        related: [vault-key-rotation]\n", ""))
    public_only = build(tmp_path, public_only)
    for query in PUBLIC_QUERIES:
        assert service.search(query).to_dict() == public_only.search(query).to_dict(), query


# (c) a public article's link to an internal one: its words stay, never its id or a link; `kb check` says so


def test_a_public_articles_link_to_an_internal_article_keeps_only_its_text(service):
    html = service.page(service.articles["printer-offline"]).html
    assert "the escalation runbook" in html
    assert "vault-key-rotation" not in html and "secretops" not in html
    assert not re.search(r"<a\b[^>]*>the escalation runbook</a>", html)
    internal_html = service.page(service.articles["vault-key-rotation"]).html
    assert 'href="kb-article:caller-check"' in internal_html  # agents' pages keep their links


def test_check_reports_a_public_articles_link_to_an_internal_article(tmp_path):
    root = write_tree(tmp_path / "articles", CENTER)
    center = load_help_center(root, Settings())
    path = f"{root}/printers/printer-offline.md"
    found = [str(p) for p in center.problems if p.path == path]
    assert f"{path}:12: warning: link to internal article '../secretops/vault-key-rotation.md' from a " \
           "public article: customers see only the link's text" in found
    assert f"{path}:6: warning: related article 'vault-key-rotation' is internal: customers are never shown it" in found
    internal = f"{root}/secretops/vault-key-rotation.md"
    assert not [p for p in center.problems if p.path == internal]  # internal to internal is fine
    assert not center.errors


def test_an_index_of_the_previous_format_asks_to_be_rebuilt(service, tmp_path):
    old = tmp_path / "old-index"
    old.mkdir()
    for path in service.index_dir.iterdir():
        (old / path.name).symlink_to(path)
    manifest = json.loads((service.index_dir / "manifest.json").read_text(encoding="utf-8"))
    (old / "manifest.json").unlink()
    (old / "manifest.json").write_text(json.dumps({**manifest, "format_version": 5}), encoding="utf-8")
    with pytest.raises(IndexFormatError, match=r"format 5, this kb reads format 7 \(article pages are read from "
                                               r"pages.jsonl.*kb build"):
        SearchService.load(old, service.settings, HashingEncoder())


# the portal: what customers are offered, and what agents still get


@pytest.fixture
def app(service, tmp_path):
    settings = replace(service.settings, database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                       secret_key_file=tmp_path / "secret_key")
    app = make_app(settings, service)
    add_people(app)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, "agent@desk.example", PASSWORD, "agent", "general", "Alex")
    return app


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_the_portal_never_offers_customers_an_internal_only_category_but_the_desk_does(app):
    anonymous = app.test_client()
    for page in ("/", "/search?q=rotate+vault+keys", "/articles/printer-offline"):
        html = anonymous.get(page).get_data(as_text=True)
        assert SECRET_TITLE not in html and "secretops" not in html and "vault-key-rotation" not in html, page
    assert anonymous.get("/categories/secretops").status_code == 404
    customer = signed_in(app, "ann@acme.example")
    suggested = customer.get("/api/suggest?q=rotate+vault+keys").get_json()
    assert suggested["category"] != "secretops" and suggested["category_title"] != SECRET_TITLE
    form = customer.get("/tickets/new").get_data(as_text=True)
    assert 'value="secretops"' not in form and SECRET_TITLE not in form
    refused = customer.post("/api/tickets", json={"subject": "Keys", "description": "rotate", "category": "secretops"})
    assert refused.status_code == 400 and refused.get_json()["field"] == "category"
    contact = post(customer, "/contact", {"subject": "Vault", "description": "rotate vault keys", "step": "ticket"})
    assert 'value="secretops"' not in contact.get_data(as_text=True)
    agent = signed_in(app, "agent@desk.example")  # agents still file and sort tickets under it
    assert f'value="secretops">{SECRET_TITLE}</option>' in agent.get("/desk/").get_data(as_text=True)


def test_a_customers_ticket_never_shows_an_internal_only_category_an_agent_chose(app):
    customer = signed_in(app, "ann@acme.example")
    filed = customer.post("/api/tickets", json={"subject": "Keys", "description": "the vault will not open"})
    assert filed.status_code == 201
    ref = filed.get_json()["ref"]
    with app.extensions["kb.db"].begin() as session:  # as an agent's category change leaves it
        session.get(Ticket, session.scalar(select(Ticket.id).where(Ticket.ref == ref))).category = "secretops"
    page = customer.get(f"/tickets/{ref}").get_data(as_text=True)
    assert SECRET_TITLE not in page and "secretops" not in page
    agent = signed_in(app, "agent@desk.example")
    assert SECRET_TITLE in agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
