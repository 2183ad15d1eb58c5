"""The portal pages and search API through Flask's test client, on the shared index of the small help center
(built with the fake encoder)."""
from __future__ import annotations

import pytest


def test_home_shows_search_and_categories(client):
    page = client.get("/").get_data(as_text=True)
    assert 'name="q"' in page and "<label for=\"q\">" in page
    assert "Printers" in page and "Accounts" in page


def test_search_page_lists_results(client):
    page = client.get("/?q=printer+offline").get_data(as_text=True)
    assert 'href="/articles/printer-offline' in page


def test_category_page_lists_its_public_articles(client):
    page = client.get("/?category=accounts").get_data(as_text=True)
    assert "Reset your password" in page and "Agent procedure" not in page


def test_article_page_renders_markdown(client):
    response = client.get("/articles/printer-offline")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<h2 id="windows">Windows</h2>' in page
    assert 'href="/articles/reset-password"' in page  # related article


@pytest.mark.parametrize("path", ["/articles/agent-only", "/articles/new-printers", "/articles/ghost", "/nope"])
def test_internal_draft_and_unknown_articles_are_404(client, path):
    assert client.get(path).status_code == 404


def test_api_search(client):
    data = client.get("/api/search?q=forgot+password&k=2").get_json()
    assert data["results"][0]["id"] == "reset-password" and len(data["results"]) <= 2
    assert all(r["id"] != "agent-only" for r in client.get("/api/search?q=callback+identity").get_json()["results"])


@pytest.mark.parametrize("query", ["", "<script>alert(1)</script>", "x" * 10000, "AND (", "🙂", "%00"])
def test_hostile_input_is_escaped_and_never_500(client, query):
    page = client.get("/", query_string={"q": query})
    assert page.status_code == 200
    assert "<script>alert(1)</script>" not in page.get_data(as_text=True)
    assert client.get("/api/search", query_string={"q": query}).status_code == 200


def test_api_rejects_bad_k(client):
    response = client.get("/api/search?q=x&k=lots")
    assert response.status_code == 400 and "k must be" in response.get_json()["error"]


@pytest.mark.parametrize("path", ["/api/tickets/KB-1%00", "/tickets/%00", "/community/printers%07",
                                  "/articles/printer-offline%00", "/unsubscribe/%1b"])
def test_an_address_segment_with_a_control_character_names_nothing(ann, path):
    """No reference, slug or token holds one: 404 before any lookup (PostgreSQL refuses a NUL even to compare)."""
    assert ann.get(path).status_code == 404
