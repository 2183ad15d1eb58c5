"""The community on PostgreSQL: listing with counts, a private topic, votes, accepting, merging, the ask form's
answered questions and followers' mail (each query the pages make runs there as on SQLite)."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff, find_organisation
from kb.helpdesk.community_models import Question, Topic
from kb.helpdesk.mail_models import OutboxMessage
from tests.portal import PASSWORD, add_people, make_app, post, sign_in
from tests.test_community_pages import answer, ask

pytestmark = pytest.mark.slow


def test_community_on_postgresql(portal_index, clean_database):
    settings, service = portal_index
    app = make_app(replace(settings, database_url=clean_database, secret_key="k" * 32,
                           public_url="http://help.example"), service)
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, "agent@desk.example", PASSWORD, "agent", "general", "Alex")
        db.add(Topic(slug="acme-only", title="Acme only", organisation_id=find_organisation(db, "Acme").id))
    clients = {}
    for email in ("ann@acme.example", "bob@acme.example", "oz@other.example", "agent@desk.example"):
        clients[email] = app.test_client()
        assert clients[email].get("/community").status_code == 200
        sign_in(clients[email], email)
    ann, bob, oz, agent = clients.values()
    target, duplicate = ask(ann, title="Принтер offline 🙂"), ask(bob, title="Printer is offline")
    private = ask(ann, "acme-only", "Acme printer", "Acme only")
    reply = answer(bob, target, "Restart it")
    post(oz, f"/community/a/{reply}/vote")
    post(ann, f"/community/a/{reply}/accept")
    answer(agent, duplicate, "Update the driver")
    post(agent, f"/community/moderation/q/{duplicate}/merge", {"target": str(target)})
    assert oz.get(f"/community/q/{duplicate}").headers["Location"] == f"/community/q/{target}"
    assert oz.get(f"/community/q/{private}").status_code == 404
    listing = oz.get("/community").get_data(as_text=True)
    assert "Принтер offline 🙂" in listing and "Acme printer" not in listing
    assert "1 question, 0 unanswered" in listing
    assert "1 question, 1 unanswered" in ann.get("/community").get_data(as_text=True)  # her private one
    assert "Printer is offline" not in oz.get("/community/printers?show=unanswered").get_data(as_text=True)
    with app.extensions["kb.db"]() as db:
        assert db.get(Question, target).accepted_answer_id == reply
        mailed = db.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "community_answer")
                             .order_by(OutboxMessage.id)).all()
    assert mailed == ["ann@acme.example", "bob@acme.example"]  # ann follows hers, bob his (the agent's answer)
    answer(agent, private, "Ask the office")

    def suggested(client, q: str) -> list[str]:  # the ask form's answered questions like `q`
        return [i["title"] for i in client.get("/community/suggest", query_string={"q": q}).get_json()["questions"]]
    assert suggested(oz, "offline") == ["Принтер offline 🙂"]  # not the merged duplicate
    assert suggested(ann, "acme printer") == ["Acme printer"] and suggested(oz, "acme printer") == []
    assert oz.get("/community/suggest?q=%00offline%ED%A0%80%25&topic=%00printers").status_code == 200
    app.extensions["kb.engine"].dispose()
