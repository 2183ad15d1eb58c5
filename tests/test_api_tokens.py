"""Personal API tokens: created for agents and admins only, shown once, kept as a digest (the token is nowhere in
the database), last use noted, revocable; from the command line (`kb token`) and the `/account/tokens` page."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from kb.cli import cli
from kb.errors import AccountError
from kb.helpdesk.accounts import add_staff, find_user
from kb.helpdesk.api_tokens import authenticate_token, create_token, revoke_token, tokens_of
from kb.helpdesk.db import open_database
from kb.helpdesk.token_models import ApiToken
from tests.portal import PASSWORD, add_people, post, sign_in

AGENT, ADMIN, EDITOR = "agent@desk.example", "admin@desk.example", "editor@desk.example"
TOKEN_RE = re.compile(r"kb_[0-9a-f]{8}_[A-Za-z0-9_-]{43}")


def add_desk(sessions) -> None:
    with sessions.begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(session, ADMIN, PASSWORD, "admin", "", "Ada")
        add_staff(session, EDITOR, PASSWORD, "editor", "", "Ed")


@pytest.fixture
def database(database_url: str):
    """A fresh database with the desk's staff and the portal's customers: (url, session factory)."""
    url = database_url
    _, sessions = open_database(url)
    add_desk(sessions)

    class _App:  # what tests.portal.add_people needs of an app
        extensions = {"kb.db": sessions}

    add_people(_App)
    return url, sessions


def database_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


@pytest.mark.sqlite_only("reads the bytes of the database file")
def test_a_token_is_kept_as_a_digest_and_nowhere_as_itself(database):
    url, sessions = database
    with sessions.begin() as db:
        row, token = create_token(db, find_user(db, AGENT), "write", "integration: phone system")
        prefix = row.prefix
    assert TOKEN_RE.fullmatch(token) and token.startswith(prefix + "_")
    secret = token[len(prefix) + 1:]
    stored = database_bytes(url)
    assert prefix.encode() in stored  # the visible part is kept, to be recognised
    assert secret.encode() not in stored and token.encode() not in stored
    with sessions() as db:
        row = db.scalar(select(ApiToken))
        assert row.secret_hash == hashlib.sha256(token.encode()).hexdigest()
        assert (row.scope, row.name, row.last_used_at, row.revoked_at) == ("write", "integration: phone system",
                                                                           None, None)


def test_authentication_notes_the_last_use_and_revocation_ends_it(database):
    _, sessions = database
    with sessions.begin() as db:
        row, token = create_token(db, find_user(db, AGENT), "read")
        token_id = row.id
    with sessions.begin() as db:
        found = authenticate_token(db, token)
        assert found.id == token_id and found.last_used_at is not None
        first_use = found.last_used_at
    with sessions.begin() as db:  # within a minute the last use is not written again
        assert authenticate_token(db, token, now=first_use + timedelta(seconds=30)).last_used_at == first_use
    with sessions.begin() as db:
        later = first_use + timedelta(minutes=5)
        assert authenticate_token(db, token, now=later).last_used_at == later
    with sessions.begin() as db:
        assert authenticate_token(db, token[:-2] + "xx") is None
        assert authenticate_token(db, "kb_00000000_" + token[12:]) is None
        revoke_token(db, token_id)
    with sessions.begin() as db:
        assert authenticate_token(db, token) is None
        assert tokens_of(db, find_user(db, AGENT))[0].revoked_at is not None


@pytest.mark.parametrize("email", ["ann@acme.example", "meg@acme.example", EDITOR])
def test_customers_and_editors_cannot_have_tokens(database, email):
    _, sessions = database
    with sessions() as db, pytest.raises(AccountError, match="only active agents and admins"):
        create_token(db, find_user(db, email), "read")


def test_bad_scopes_and_names_are_refused(database):
    _, sessions = database
    with sessions() as db:
        with pytest.raises(AccountError, match="scope"):
            create_token(db, find_user(db, AGENT), "admin")
        with pytest.raises(AccountError, match="name"):
            create_token(db, find_user(db, AGENT), "read", "x" * 121)


def test_a_user_revokes_only_their_own_tokens(database):
    _, sessions = database
    with sessions.begin() as db:
        row, _ = create_token(db, find_user(db, ADMIN), "read")
        with pytest.raises(AccountError, match="no API token"):
            revoke_token(db, row.id, owner=find_user(db, AGENT))
        assert row.revoked_at is None


# --- kb token ------------------------------------------------------------------------------------------------------

def kb(*args: str):
    return CliRunner().invoke(cli, list(args), obj={})


def test_the_command_line_creates_lists_and_revokes(database):
    url, sessions = database
    created = kb("token", "create", AGENT, "--scope", "write", "--name", "integration: phone system",
                 "--database", url)
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert TOKEN_RE.fullmatch(token)
    with sessions.begin() as db:
        assert authenticate_token(db, token).user.email == AGENT
    listed = kb("token", "list", "--database", url)
    assert listed.exit_code == 0 and token not in listed.output
    assert re.search(rf"^1\t{token[:11]}\twrite\t{AGENT}\tintegration: phone system\t.*\tactive$", listed.output, re.M)
    assert kb("token", "list", ADMIN, "--database", url).output == ""
    revoked = kb("token", "revoke", "1", "--database", url)
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "\trevoked " in kb("token", "list", AGENT, "--database", url).output
    with sessions.begin() as db:
        assert authenticate_token(db, token) is None


@pytest.mark.parametrize("args, message", [
    (("create", "ann@acme.example", "--scope", "read"), "only active agents and admins"),
    (("create", "nobody@example.com", "--scope", "read"), "no user"),
    (("create", AGENT, "--scope", "all"), "Invalid value for '--scope'"),
    (("revoke", "99"), "no API token 99"),
    (("list", "nobody@example.com"), "no user")])
def test_the_command_line_refuses_with_a_reason(database, args, message):
    url, sessions = database
    result = kb("token", *args, "--database", url)
    assert result.exit_code != 0 and message in result.output
    with sessions() as db:
        assert db.scalar(select(ApiToken)) is None


# --- /account/tokens ---------------------------------------------------------------------------------------------

@pytest.fixture
def desk_app(app):
    add_desk(app.extensions["kb.db"])
    return app


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


def test_the_page_shows_a_new_token_once_and_it_works(desk_app):
    agent = signed_in(desk_app, AGENT)
    page = post(agent, "/account/tokens/", {"name": "chat widget", "scope": "read"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = re.search(r"<code data-token>([^<]+)</code>", page.get_data(as_text=True)).group(1)
    assert TOKEN_RE.fullmatch(token)
    assert desk_app.test_client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}
                                      ).status_code == 200
    again = agent.get("/account/tokens/").get_data(as_text=True)
    assert token not in again and token[:11] in again and "chat widget" in again
    assert "/account/tokens" in agent.get("/account").get_data(as_text=True)


def test_a_bad_form_keeps_what_was_typed_and_names_the_field(desk_app):
    agent = signed_in(desk_app, AGENT)
    page = post(agent, "/account/tokens/", {"name": "n" * 121, "scope": "read"})
    assert page.status_code == 400 and "n" * 121 in page.get_data(as_text=True)
    assert post(agent, "/account/tokens/", {"name": "x", "scope": "everything"}).status_code == 400
    with desk_app.extensions["kb.db"]() as db:
        assert db.scalar(select(ApiToken)) is None


def test_revoking_on_the_page_ends_the_token_and_only_ones_own(desk_app):
    with desk_app.extensions["kb.db"].begin() as db:
        own, token = create_token(db, find_user(db, AGENT), "write")
        others, _ = create_token(db, find_user(db, ADMIN), "write")
    agent = signed_in(desk_app, AGENT)
    assert post(agent, f"/account/tokens/{others.id}/revoke").status_code == 404
    assert post(agent, f"/account/tokens/{own.id}/revoke").status_code == 302
    assert desk_app.test_client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"}
                                      ).status_code == 401
    with desk_app.extensions["kb.db"]() as db:
        assert db.get(ApiToken, others.id).revoked_at is None and db.get(ApiToken, own.id).revoked_at is not None


@pytest.mark.parametrize("email", ["ann@acme.example", "meg@acme.example", EDITOR])
def test_to_customers_and_editors_the_page_does_not_exist(desk_app, email):
    client = signed_in(desk_app, email)
    assert client.get("/account/tokens/").status_code == 404
    assert post(client, "/account/tokens/", {"name": "x", "scope": "read"}).status_code == 404
    assert "/account/tokens" not in client.get("/account").get_data(as_text=True)
    with desk_app.extensions["kb.db"]() as db:
        assert db.scalar(select(ApiToken)) is None


def test_anonymous_visitors_are_sent_to_sign_in(desk_app):
    response = desk_app.test_client().get("/account/tokens/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in")
