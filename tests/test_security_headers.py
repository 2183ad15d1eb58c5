"""Every response of every route (enumerated from the app's url_map, for several roles, errors included) carries
the security headers: a Content-Security-Policy that runs no inline script, `nosniff`, a strict referrer policy
and `X-Frame-Options: DENY`; the stricter headers some views set themselves are kept. The templates hold nothing
that policy would block. (tests/test_security_headers_browser.py checks the pages in Chromium.)"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.sweep import client_for, make_world, paths, rules, unsafe_methods
from web.security_headers import CONTENT_SECURITY_POLICY

WEB = Path(__file__).resolve().parent.parent / "web"
STRICT_REFERRERS = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}


@pytest.fixture(scope="module")
def world(portal_index, module_database_url, tmp_path_factory):
    return make_world(portal_index, module_database_url, tmp_path_factory.mktemp("headers"))


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as {directive: sources}."""
    parts = [part.split() for part in header.split(";") if part.strip()]
    return {part[0].lower(): part[1:] for part in parts}


def problems(response) -> list[str]:
    """What is missing or too weak in a response's security headers."""
    found = []
    header = response.headers.get("Content-Security-Policy", "")
    csp = policy(header)
    scripts = csp.get("script-src", csp.get("default-src"))
    if scripts is None or not set(scripts) <= {"'self'", "'none'"}:
        found.append(f"script-src runs more than this site's files: {header!r}")
    if csp.get("object-src", csp.get("default-src")) != ["'none'"]:
        found.append(f"object-src is not 'none': {header!r}")
    if csp.get("frame-ancestors") != ["'none'"]:
        found.append(f"frame-ancestors is not 'none': {header!r}")
    if csp.get("base-uri") not in (["'self'"], ["'none'"]):
        found.append(f"base-uri is not 'self': {header!r}")
    if csp.get("form-action") not in (["'self'"], ["'none'"]):
        found.append(f"form-action is not 'self': {header!r}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        found.append("no X-Content-Type-Options: nosniff")
    if response.headers.get("X-Frame-Options") != "DENY":
        found.append("no X-Frame-Options: DENY")
    if response.headers.get("Referrer-Policy") not in STRICT_REFERRERS:
        found.append(f"Referrer-Policy {response.headers.get('Referrer-Policy')!r}")
    return found


@pytest.mark.parametrize("role", ["anonymous", "customer_a", "agent", "editor", "admin"])
def test_every_route_answers_with_the_security_headers(world, role):
    """Each rule of the url_map with each of its methods (a POST without its form token too: its 400 page is a
    response like any other), and a page that does not exist."""
    client = client_for(world.app, role)
    weak, statuses = {}, set()
    for rule in rules(world.app):
        methods = (["GET"] if "GET" in rule.methods else []) + unsafe_methods(rule)
        for path in paths(rule, world.values):
            for method in methods:
                response = client.open(path, method=method)
                statuses.add(response.status_code)
                if problems(response):
                    weak[f"{method} {path} ({response.status_code})"] = problems(response)
    missing = client.get("/no/such/page")
    assert missing.status_code == 404 and not problems(missing)
    assert not weak, weak
    assert {200, 400, 404} <= statuses  # pages, refusals and errors were all among them
    assert 500 not in statuses


def test_a_page_gets_the_portal_policy(world):
    page = world.app.test_client().get("/articles/printer-offline")
    assert page.status_code == 200
    assert page.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in CONTENT_SECURITY_POLICY and "'unsafe-eval'" not in CONTENT_SECURITY_POLICY
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_stricter_headers_set_by_a_view_are_kept(world):
    ann = client_for(world.app, "customer_a")
    ref, attachment = world.values["ref"], world.values["attachment_id"]
    for path in (f"/tickets/{ref}/attachments/{attachment}", f"/tickets/{ref}/attachments/{attachment}/preview"):
        response = ann.get(path)
        assert response.status_code == 200, path
        csp = policy(response.headers["Content-Security-Policy"])
        assert csp["default-src"] == ["'none'"] and "sandbox" in csp, path  # the attachment's own sandbox
        assert csp["frame-ancestors"] == ["'none'"] and not problems(response), path
    for role, path in (("anonymous", "/forgot-password"), ("agent", "/account/tokens/")):
        response = client_for(world.app, role).get(path)
        assert response.status_code == 200 and response.headers["Referrer-Policy"] == "no-referrer", path


# What the policy blocks, as it would appear in a template: inline script, event handlers, inline style.
BLOCKED = {
    "an inline <script> block": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "an event-handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "a style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "a <style> block": re.compile(r"<style\b", re.I),
    "a javascript: URL": re.compile(r"javascript:", re.I),
}


def test_templates_hold_nothing_the_policy_blocks():
    """Page templates only (e-mail templates are read by mail programs, where this policy does not apply)."""
    templates = [p for p in (WEB / "templates").rglob("*.html") if "mail" not in p.relative_to(WEB).parts]
    assert len(templates) > 20
    found = [f"{path.relative_to(WEB)}: {what}" for path in templates
             for what, pattern in BLOCKED.items() if pattern.search(path.read_text(encoding="utf-8"))]
    assert not found, found
    scripts = list((WEB / "static").glob("*.js"))
    assert scripts
    evals = [p.name for p in scripts if re.search(r"\beval\(|new Function\(|setAttribute\(\s*[\"']style",
                                                  p.read_text(encoding="utf-8"))]
    assert not evals, evals
