"""The desk's "Draft an article from this ticket" button: a status: draft article in the articles folder, for
agents and admins only."""
from __future__ import annotations

import yaml

from tests.portal import file_ticket, post, sign_in


def test_an_agent_drafts_an_article_from_a_ticket(drafting_app, tmp_path):
    app, articles = drafting_app, tmp_path / "articles"
    customer = app.test_client()
    sign_in(customer, "ann@acme.example")
    ref = file_ticket(customer, subject="Scanner saves blank pages", description="Every scan comes out blank. Help")
    before = set(articles.rglob("*.md"))

    anonymous = post(app.test_client(), f"/desk/tickets/{ref}/draft")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in")
    assert post(customer, f"/desk/tickets/{ref}/draft").status_code == 404
    editor = app.test_client()
    sign_in(editor, "editor@desk.example")
    assert post(editor, f"/desk/tickets/{ref}/draft").status_code == 404
    assert set(articles.rglob("*.md")) == before

    agent = app.test_client()
    sign_in(agent, "agent@desk.example")
    assert 'id="draft-form"' in agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    done = post(agent, f"/desk/tickets/{ref}/draft")
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/desk/tickets/{ref}#deflection")
    [written] = set(articles.rglob("*.md")) - before
    front = yaml.safe_load(written.read_text(encoding="utf-8").split("---")[1])
    assert front["status"] == "draft" and front["title"] == "Scanner saves blank pages"
    assert "Scanner saves blank pages" in front["questions"]
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert f"Draft written to {written.name}" in page
    post(agent, f"/desk/tickets/{ref}/draft")  # a second draft never overwrites the first
    assert len(set(articles.rglob("*.md")) - before) == 2
    assert agent.post(f"/desk/tickets/{ref}/draft", data={}).status_code == 400  # no CSRF token
