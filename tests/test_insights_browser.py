"""Insights in real Chromium against a live waitress server: searches a customer makes are recorded and show up
on an editor's insights page; the charts render; the CSV downloads and matches the table; a phone-wide window
does not scroll sideways. Screenshots are saved under test-artifacts/browser/."""
from __future__ import annotations

import csv
import io

import pytest

from kb.helpdesk.accounts import add_staff
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
EDITOR = "editor@desk.example"


def test_an_editor_reads_what_customers_searched(live, browser):
    app, base = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, EDITOR, PASSWORD, "editor")
    customer, page = sign_in(browser, base, "ann@acme.example")
    for query in ("printer offline", "printer offline", "how do I order business cards"):
        page.goto(base + "/search?q=" + query.replace(" ", "+"))
    customer.close()
    app.extensions["kb.events"].flush()

    context, page = sign_in(browser, base, EDITOR)
    assert page.url == base + "/desk/insights/"
    assert page.locator("svg.chart").count() == 5
    assert page.locator("svg.chart").first.bounding_box()["width"] > 100
    top = page.locator("#top-searches + .table-wrap tbody tr").first.inner_text()
    assert "printer offline" in top and "2" in top
    shot(page, "insights-1-page")

    with page.expect_download() as download_info:
        page.locator("#top-searches a.csv").click()
    text = open(download_info.value.path(), encoding="utf-8-sig").read()
    rows = list(csv.DictReader(io.StringIO(text)))
    table = [[cell.inner_text() for cell in row.locator("td").all()[:2]]
             for row in page.locator("#top-searches + .table-wrap tbody tr").all()]
    assert [[r["search"], r["count"]] for r in rows] == table
    context.close()

    phone, page = sign_in(browser, base, EDITOR, viewport={"width": 375, "height": 740})
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator("svg.chart").first.bounding_box()["width"] <= 375
    shot(page, "insights-2-phone")
    phone.close()
