"""Portal pages through Flask's test client: home, search, categories, articles, votes, sign-in, security headers."""
from __future__ import annotations

import os
import stat
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from kb.helpdesk.models import ArticleView, Vote
from tests.portal import PASSWORD, csrf_token, make_app, post, sign_in
from web.security import secret_key


def count(app, model, **where) -> int:
    with app.extensions["kb.db"]() as db:
        return db.scalar(select(func.count()).select_from(model).filter_by(**where))


def test_home_has_search_categories_with_counts_and_top_questions(app, client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in page and 'href="#main"' in page  # lang attribute, skip link
    assert '<label for="q">' in page
    assert 'href="/categories/printers">Printers</a>' in page and "1 article<" in page
    assert "Top questions" not in page  # nothing viewed, nothing featured yet
    for reader in (client, app.test_client(), app.test_client()):
        reader.get("/articles/reset-password")
    client.get("/articles/printer-offline")
    page = client.get("/").get_data(as_text=True)
    top = page.split("Top questions", 1)[1].split("Categories", 1)[0]
    assert top.index("Reset your password") < top.index("Printer shows Offline")  # most readers first


def test_search_results_have_snippet_category_and_filter(client):
    page = client.get("/search?q=printer+offline").get_data(as_text=True)
    assert 'href="/articles/printer-offline' in page
    assert "<mark>" in page  # the matching words are highlighted in the snippet
    assert "Looks like: <strong>Printers</strong>" in page
    assert 'href="/search?q=printer+offline&amp;category=printers"' in page
    filtered = client.get("/search?q=printer+offline&category=accounts").get_data(as_text=True)
    assert "printer-offline" not in filtered.split("Results for", 1)[1].split("</ol>", 1)[0]
    assert "showing only this category" in filtered


def test_unsure_search_offers_contact_support(client):
    page = client.get("/search?q=zzz+qqq").get_data(as_text=True)
    assert "Nothing fits?" in page and 'href="/contact?q=zzz+qqq"' in page
    sure = client.get("/search?q=forgot+password").get_data(as_text=True)
    assert "Nothing fits?" not in sure


def test_category_page(client):
    page = client.get("/categories/accounts").get_data(as_text=True)
    assert "Reset your password" in page and "Agent procedure" not in page
    assert client.get("/categories/nope").status_code == 404


def test_article_page_has_anchors_related_updated_and_counts_views(app, client):
    page = client.get("/articles/printer-offline").get_data(as_text=True)
    assert '<h2 id="windows">Windows</h2>' in page and 'href="#windows"' in page  # anchors, contents
    assert 'href="/articles/reset-password"' in page  # related
    assert "Updated <time" in page
    assert "Was this helpful?" in page
    client.get("/articles/printer-offline")
    assert count(app, ArticleView, article_id="printer-offline") == 1  # once per visitor and day
    app.test_client().get("/articles/printer-offline")
    assert count(app, ArticleView, article_id="printer-offline") == 2


def test_article_script_never_runs(portal_index, portal_settings, tmp_path):
    from indexer.build import build_index
    from search.service import SearchService
    from tests.conftest import SMALL_CENTER, write_tree
    from tests.fakes import HashingEncoder

    hostile = ("---\ntitle: Hostile <script>alert(1)</script>\ncategory: printers\n---\n"
               "Text <script>alert(2)</script> <img src=x onerror=alert(3)> [link](javascript:alert(4))\n")
    center = write_tree(tmp_path / "articles", {**SMALL_CENTER, "printers/hostile.md": hostile})
    settings = replace(portal_settings, articles_dir=center, index_dir=tmp_path / "index")
    encoder = HashingEncoder()
    build_index(settings, encoder)
    client = make_app(settings, SearchService.load(settings.index_dir, settings, encoder)).test_client()
    page = client.get("/articles/hostile").get_data(as_text=True)
    assert page.count("<script") == 1 and 'src="/static/portal.js"' in page  # only the portal's own script
    assert "onerror" not in page and "javascript:" not in page
    assert "Hostile &lt;script&gt;alert(1)&lt;/script&gt;" in page  # the title is shown, escaped


def test_helpful_vote_once_per_visitor(app, client):
    token = csrf_token(client, "/articles/printer-offline")
    assert client.post("/articles/printer-offline/vote", data={"csrf_token": token, "helpful": "yes"}).status_code == 302
    assert client.post("/articles/printer-offline/vote", data={"csrf_token": token, "helpful": "no"}).status_code == 302
    assert count(app, Vote) == 1 and count(app, Vote, helpful=False) == 1  # the second vote replaced the first
    page = client.get("/articles/printer-offline").get_data(as_text=True)
    assert "You answered <strong>No</strong>" in page
    other = app.test_client()  # another visitor (another cookie, given with the article page)
    other.get("/articles/printer-offline")
    post(other, "/articles/printer-offline/vote", {"helpful": "yes"})
    assert count(app, Vote) == 2
    bad = post(other, "/articles/printer-offline/vote", {"helpful": "<script>"}, follow_redirects=True)
    assert "Choose Yes or No." in bad.get_data(as_text=True) and count(app, Vote) == 2
    assert post(other, "/articles/agent-only/vote", {"helpful": "yes"}).status_code == 404


def test_forms_need_a_csrf_token(client):
    response = client.post("/articles/printer-offline/vote", data={"helpful": "yes"})
    assert response.status_code == 400 and "expired" in response.get_data(as_text=True)
    assert client.post("/sign-in", data={"email": "ann@acme.example", "password": PASSWORD}).status_code == 400


def test_sign_in_and_out(client):
    page = client.get("/sign-in").get_data(as_text=True)
    assert '<label for="email">E-mail</label>' in page and '<label for="password">Password</label>' in page
    wrong = sign_in(client, "ann@acme.example", "wrong password")
    assert wrong.status_code == 401 and "E-mail or password is not right." in wrong.get_data(as_text=True)
    assert 'value="ann@acme.example"' in wrong.get_data(as_text=True)  # what was typed is kept
    ok = post(client, "/sign-in", {"email": "ann@acme.example", "password": PASSWORD, "next": "/tickets"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/tickets"
    assert "ann@acme.example" in client.get("/").get_data(as_text=True)
    post(client, "/sign-out")
    assert client.get("/tickets").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"])
def test_sign_in_never_redirects_off_site(client, target):
    response = post(client, "/sign-in", {"email": "ann@acme.example", "password": PASSWORD, "next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_sign_in_is_rate_limited(portal_index, portal_settings):
    app = make_app(replace(portal_settings, rate_limit_sign_in="3/minute"), portal_index[1])
    client = app.test_client()
    statuses = [sign_in(client, "ann@acme.example", "wrong password").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    limited = sign_in(client, "ann@acme.example", "wrong password")
    assert "Too many requests" in limited.get_data(as_text=True)


def test_session_cookie_flags(portal_index, portal_settings):
    client = make_app(portal_settings, portal_index[1]).test_client()
    sign_in(client, "nobody@acme.example")
    cookie = client.get_cookie("kb_session")
    assert cookie.http_only and cookie.same_site == "Lax" and not cookie.secure  # loopback: plain HTTP allowed
    public = make_app(replace(portal_settings, host="0.0.0.0"), portal_index[1])
    assert public.config["SESSION_COOKIE_SECURE"] is True
    never = make_app(replace(portal_settings, host="0.0.0.0", cookie_secure="never"), portal_index[1])
    assert never.config["SESSION_COOKIE_SECURE"] is False


def test_generated_secret_key_is_kept_private(portal_settings):
    settings = replace(portal_settings, secret_key="")
    key = secret_key(settings)
    assert len(key) >= 32 and secret_key(settings) == key  # generated once, then read back
    mode = stat.S_IMODE(os.stat(settings.secret_key_file).st_mode)
    assert mode == 0o600


@pytest.mark.parametrize("path", ["/", "/search", "/categories/printers", "/articles/printer-offline", "/sign-in"])
@pytest.mark.parametrize("value", ["", "<script>alert(1)</script>", "x" * 20000, "\x00\x01", "🙂" * 50, "%00",
                                   "' OR 1=1 --"])
def test_hostile_query_strings_on_pages(client, path, value):
    response = client.get(path, query_string={"q": value, "category": value, "next": value})
    assert response.status_code == 200, response.status_code
    assert "<script>alert(1)</script>" not in response.get_data(as_text=True)


def test_search_service_is_loaded_once_per_process(portal_index, portal_settings, monkeypatch):
    from search.service import SearchService

    calls = []

    def load(*args, **kwargs):
        calls.append(args)
        return portal_index[1]

    monkeypatch.setattr(SearchService, "load", load)
    client = make_app(portal_settings, None).test_client()
    for path in ("/search?q=printer", "/api/suggest?q=printer", "/api/search?q=password"):
        assert client.get(path).status_code == 200
    assert len(calls) == 1
