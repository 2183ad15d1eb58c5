"""The world the security sweeps walk through (tests/test_security_headers.py, test_csrf_sweep.py,
test_idor_sweep.py): one portal with a person of every role, something of each kind that belongs to customer A
(a ticket with an attachment, a post in A's organisation's private community topic, an invitation...) and a
staff member's own things (a personal macro, an API token); every route of the app's url_map, its path
filled in with those things; and a fingerprint of the whole database, to tell that a refused request changed
nothing."""
from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Iterator

from sqlalchemy import inspect, select, text
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.api_tokens import create_token
from kb.helpdesk.community import answer, ask, report
from kb.helpdesk.community_models import Topic
from kb.helpdesk.invitations import invite
from kb.helpdesk.macros import save_macro
from kb.helpdesk.models import Organisation, User
from kb.helpdesk.notices import create_notice
from tests.files import image
from tests.portal import PASSWORD, add_people, csrf_token, make_app, sign_in

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
# Who asks: None is an anonymous visitor. Customer A and B belong to two organisations (tests.portal.PEOPLE);
# agents see only their own group's tickets (`desk_restrict_to_groups`), and A's ticket is the general group's.
ROLES = {
    "anonymous": None,
    "customer_a": "ann@acme.example",
    "customer_b": "oz@other.example",
    "agent": "agent@desk.example",
    "agent_elsewhere": "agent2@desk.example",  # an agent of another group, who does not see A's ticket
    "editor": "editor@desk.example",
    "admin": "admin@desk.example",
}
# Words that only the pages of customer A's things show: seeing one is seeing A's data.
A_SECRETS = ("Zanzibar fax", "Quixotic toner", "Marmalade VPN", "Acme private corner", "ann-invitee@acme.example")


@dataclass
class World:
    """The app and the ids of what is in it."""

    app: object
    values: dict[str, str | int]  # a value for each path argument name, e.g. ref -> customer A's ticket
    api_tokens: dict[str, str] = field(default_factory=dict)  # role -> a personal API token of that person


def _user(db, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


def make_world(portal_index, database_url: str, folder: Path) -> World:
    """The portal over the shared small index with its own database: the people of every role and A's things."""
    settings = replace(portal_index[0], database_url=database_url, secret_key="k" * 32,
                       secret_key_file=folder / "secret_key", attachments_dir=folder / "attachments",
                       desk_restrict_to_groups=True)
    app = make_app(settings, portal_index[1])
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, ROLES["agent"], PASSWORD, "agent", "general")
        add_staff(db, ROLES["agent_elsewhere"], PASSWORD, "agent", "billing")
        add_staff(db, ROLES["editor"], PASSWORD, "editor")
        add_staff(db, ROLES["admin"], PASSWORD, "admin")

    ann = app.test_client()
    assert sign_in(ann, ROLES["customer_a"]).status_code == 302
    filed = ann.post("/tickets/new", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(ann), "subject": "Zanzibar fax jams", "description": "Quixotic toner everywhere",
        "category": "printers", "attachments": [(io.BytesIO(image("PNG", (40, 30))), "jam.png")]})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    ref = filed.headers["Location"].rsplit("/", 1)[1]

    from kb.helpdesk.attachment_models import Attachment
    from kb.helpdesk.tickets import find_ticket

    with app.extensions["kb.db"].begin() as db:
        ticket = find_ticket(db, ref)
        attachment = db.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
        acme = db.scalar(select(Organisation).where(Organisation.name == "Acme"))
        a, bob, meg = _user(db, ROLES["customer_a"]), _user(db, "bob@acme.example"), _user(db, "meg@acme.example")
        agent, admin, elsewhere = (_user(db, ROLES[role]) for role in ("agent", "admin", "agent_elsewhere"))
        topic = Topic(slug="acme-corner", title="Acme private corner", organisation_id=acme.id)
        db.add(topic)
        db.flush()
        question = ask(db, a, topic, "Marmalade VPN drops", "Marmalade VPN drops every hour")
        reply = answer(db, bob, question, "Marmalade VPN wants the new client")
        flagged = report(db, bob, reply, "spam")
        notice = create_notice(db, agent, "Printers down", "Printers down in building 2", "printers")
        macro = save_macro(db, agent, None, title="My greeting", body="Hello {{ customer_name }}", article_ids=[],
                           status="", shared=False, audiences={})
        invited, _ = invite(db, meg, "ann-invitee@acme.example", 7)
        token_row, agent_token = create_token(db, agent, "write", "sweep")
        _, admin_token = create_token(db, admin, "write", "sweep")
        _, elsewhere_token = create_token(db, elsewhere, "write", "sweep")
        db.flush()
        values = {
            "ref": ref, "attachment_id": attachment.id, "question_id": question.id, "answer_id": reply.id,
            "report_id": flagged.id, "slug": topic.slug, "notice_id": notice.id, "macro_id": macro.id,
            "link_id": invited.link.id, "token_id": token_row.id, "user_id": agent.id,
            "article_id": "printer-offline", "category_id": "printers", "name": "top_searches",
            "token": "not-a-real-token-" + "x" * 24, "filename": "style.css",
        }
    return World(app, values, {"agent": agent_token, "admin": admin_token, "agent_elsewhere": elsewhere_token})


def client_for(app, role: str):
    """A test client signed in as `role` (anonymous: signed in as nobody)."""
    client = app.test_client()
    if ROLES[role] is not None:
        assert sign_in(client, ROLES[role]).status_code == 302, role
    return client


def rules(app) -> list[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))


def unsafe_methods(rule: Rule) -> list[str]:
    return sorted(m for m in rule.methods or () if m in UNSAFE)


# Where one argument name means different things on two routes.
ENDPOINT_VALUES = {"article_files.article_file": {"name": "printers/photo.png"}}


def paths(rule: Rule, values: dict) -> Iterator[str]:
    """The rule's path with its arguments filled in from `values`: once per choice of an `any(...)` argument.
    An argument with no value fails the test: a new kind of path argument needs a value in make_world."""
    values = {**values, **ENDPOINT_VALUES.get(rule.endpoint, {})}
    choices: list[dict] = [{}]
    for name in sorted(rule.arguments):
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            options = sorted(converter.items)
        else:
            assert name in values, f"{rule.rule}: no value for <{name}> (add one to tests/sweep.py make_world)"
            options = [values[name]]
        choices = [{**c, name: option} for c in choices for option in options]
    for chosen in choices:
        yield rule.build(chosen, append_unknown=False)[1]


def fingerprint(app) -> str:
    """A hash of every row of every table: equal fingerprints, nothing was stored, changed or deleted."""
    app.extensions["kb.events"].flush()
    digest = hashlib.sha256()
    engine = app.extensions["kb.engine"]
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            digest.update(table.encode())
            for row in connection.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()
