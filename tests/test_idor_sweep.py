"""Who reaches whose things, route by route: every rule of the app's url_map with an id in its path (a ticket, an
attachment, a notice, a community post or topic, a macro, an invitation, an API token, a staff account, an
article) is asked for customer A's thing (or a staff member's own) by every role, and each role reaches only what
the table below allows it. A GET that a role may reach answers 200 and shows the thing; to every other role it
answers 401, 403 or 404 (or sends it to sign in, or staff to their desk), and no body ever shows A's words. A POST
is sent with a valid form token by each role that may not use it: refused the same way, and nothing in the
database changes. (What the allowed roles' POSTs do is each area's own tests' business.)

A rule with a path argument that no family of the table covers fails the sweep: a new route declares who may
reach it here."""
from __future__ import annotations

import re

import pytest

from tests.portal import csrf_token
from tests.sweep import A_SECRETS, ROLES, client_for, fingerprint, make_world, paths, rules, unsafe_methods

STAFF = frozenset({"agent", "agent_elsewhere", "editor", "admin"})
DESK = frozenset({"agent", "agent_elsewhere", "admin"})  # those who work tickets
TICKET_DESK = frozenset({"agent", "admin"})  # those who see A's ticket (the general group's) on the desk
A = frozenset({"customer_a"})
NOBODY = frozenset()
INTERNAL = {"article_id": "agent-only"}  # an internal article: staff only
INTERNAL_WORDS = ("Agent procedure for password resets", "callback number")

# (family, rule pattern, roles that may reach it, path values used instead of make_world's, a word the page of
# an allowed GET shows). The first family whose pattern matches a rule takes it.
FAMILIES = [
    ("ticket attachments", r"^/tickets/<ref>/attachments/", A | TICKET_DESK, {}, None),
    ("a customer's ticket", r"^/tickets/<ref>", A, {}, "Zanzibar fax"),
    ("a customer's ticket, JSON", r"^/api/tickets/<ref>", A, {}, "Zanzibar fax"),
    ("tickets through the token API", r"^/api/v1/tickets/<ref>", TICKET_DESK, {}, "Zanzibar fax"),
    ("articles through the token API", r"^/api/v1/articles/<article_id>", DESK, INTERNAL, "callback number"),
    ("desk tickets", r"^/desk/tickets/<ref>", TICKET_DESK, {}, "Zanzibar fax"),
    ("a notice's tickets", r"^/desk/notices/<int:notice_id>/tickets/<ref>", TICKET_DESK, {}, None),
    ("desk notices", r"^/desk/notices/<int:notice_id>", DESK, {}, "Printers down"),
    ("an agent's personal macro", r"^/desk/macros/<int:macro_id>", frozenset({"agent"}), {}, "My greeting"),
    ("staff accounts", r"^/desk/admin/agents/<int:user_id>", frozenset({"admin"}), {}, "agent@desk.example"),
    ("internal articles on the desk", r"^/desk/articles/<article_id>", DESK, INTERNAL, "callback number"),
    ("insights tables", r"^/desk/insights/<name>", frozenset({"editor", "admin"}), {}, None),
    ("internal articles' history", r"^/articles/<article_id>/history", STAFF, INTERNAL, "Agent procedure"),
    ("internal articles on the portal", r"^/articles/<article_id>", NOBODY, INTERNAL, None),
    ("public categories", r"^/categories/<category_id>", frozenset(ROLES), {}, "Printers"),
    ("community moderation", r"^/community/moderation/", DESK, {}, None),
    ("questions of a private topic", r"^/community/q/<int:question_id>$", A | STAFF, {}, "Marmalade VPN"),
    ("editing A's question", r"^/community/q/<int:question_id>/edit", A | DESK, {}, "Marmalade VPN"),
    ("acting on a question of a private topic", r"^/community/q/<int:question_id>/", A | STAFF, {}, None),
    ("editing a colleague's answer", r"^/community/a/<int:answer_id>/edit", DESK, {}, "Marmalade VPN"),
    ("accepting an answer to A's question", r"^/community/a/<int:answer_id>/accept", A | DESK, {}, None),
    ("acting on an answer in a private topic", r"^/community/a/<int:answer_id>/", A | STAFF, {}, None),
    ("a private topic", r"^/community/<slug>", A | STAFF, {}, "Acme private corner"),
    ("withdrawing another manager's invitation", r"^/account/invitations/<int:link_id>/", NOBODY, {}, None),
    ("revoking an agent's API token", r"^/account/tokens/<int:token_id>/", frozenset({"agent"}), {}, None),
]
# Path arguments that are no id of anyone's thing.
NOT_IDS = {
    r"^/static/": "the app's own static files",
    r"^/files/": "files of the articles folder, served as their articles are (tests/test_article_files.py)",
    r"/<token>$": "a secret link's token (mailed to one person), not an id: a wrong one opens nothing "
                  "(tests/test_accounts_*.py, test_mail_preferences.py)",
}
# A POST's fields: enough for each form to do its work if nothing stopped it.
FIELDS = {"body": "Sweep text", "title": "Sweep title", "subject": "Sweep", "status": "in_progress", "priority": "P1",
          "category": "vpn", "reason": "spam", "name": "Sweep", "email": "sweep@acme.example", "role": "admin",
          "agent_group": "general", "target": "1", "topic": "acme-corner", "helpful": "yes", "back": "queue",
          "owner": "agent@desk.example", "shared": "y", "starts_at": "2026-01-01T00:00", "active": "0"}

# The token API's bodies (JSON, checked against each endpoint's declared fields before anything else).
API_BODIES = {"reply": {"body": "Sweep text"}, "status": {"status": "in_progress"}, "note": {"body": "Sweep text"},
              "owner": {"owner": ROLES["agent_elsewhere"]}, "priority": {"priority": "P1"}}


def family_of(rule: str):
    for family in FAMILIES:
        if re.search(family[1], rule):
            return family
    return None


@pytest.fixture(scope="module")
def world(portal_index, module_database_url, tmp_path_factory):
    return make_world(portal_index, module_database_url, tmp_path_factory.mktemp("idor"))


@pytest.fixture(scope="module")
def clients(world):
    return {role: client_for(world.app, role) for role in ROLES}


def denied(role: str, response) -> bool:
    """Refused: 401/403/404, or an anonymous visitor sent to sign in, or staff sent to their own desk."""
    if response.status_code in (401, 403, 404):
        return True
    location = response.headers.get("Location", "") if response.status_code in (302, 303) else ""
    return (role == "anonymous" and location.startswith("/sign-in")) or \
        (role in STAFF and location.startswith("/desk/"))


def leaked(body: str) -> list[str]:
    return [word for word in A_SECRETS + INTERNAL_WORDS if word in body]


def test_each_role_reaches_only_what_it_may(world, clients):
    app = world.app
    tokens = {role: csrf_token(client) for role, client in clients.items()}
    undeclared, used, wrong, leaks, changed, reached = [], set(), {}, {}, [], 0
    state = None
    for rule in rules(app):
        if not rule.arguments or any(re.search(p, rule.rule) for p in NOT_IDS):
            continue
        family = family_of(rule.rule)
        if family is None:
            undeclared.append(rule.rule)
            continue
        name, _pattern, may, values, shows = family
        used.add(name)
        for path in paths(rule, {**world.values, **values}):
            for role, client in clients.items():
                headers = {"Authorization": f"Bearer {world.api_tokens[role]}"} \
                    if path.startswith("/api/v1/") and role in world.api_tokens else {}
                if "GET" in rule.methods:
                    response = client.get(path, headers=headers)
                    state = None  # a page read may record a view: the next POST compares with a fresh state
                    body = response.get_data().decode("utf-8", "replace")
                    if role in may:
                        reached += 1
                        if response.status_code != 200 or (shows and shows not in body):
                            wrong[f"GET {path} as {role}"] = f"{response.status_code}, not the page"
                    elif not denied(role, response):
                        wrong[f"GET {path} as {role}"] = response.status_code
                    elif leaked(body):
                        leaks[f"GET {path} as {role}"] = leaked(body)
                for method in unsafe_methods(rule):
                    if role in may:
                        continue
                    state = state or fingerprint(app)
                    body = {"json": API_BODIES[path.rsplit("/", 1)[1]]} if path.startswith("/api/v1/") else \
                        {"data": {"csrf_token": tokens[role], **FIELDS}}
                    response = client.open(path, method=method, headers=headers, **body)
                    if not denied(role, response):
                        wrong[f"{method} {path} as {role}"] = response.status_code
                    elif leaked(response.get_data().decode("utf-8", "replace")):
                        leaks[f"{method} {path} as {role}"] = leaked(response.get_data().decode("utf-8", "replace"))
                    after = fingerprint(app)
                    if after != state:
                        changed.append(f"{method} {path} as {role}")
                    state = after
    assert not undeclared, f"routes with an id in their path that FAMILIES does not declare: {undeclared}"
    assert used == {family[0] for family in FAMILIES}, "families that take no rule any more"
    assert not wrong, wrong
    assert not leaks, leaks
    assert not changed, changed
    assert reached > 20
