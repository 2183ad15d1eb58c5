"""The insights page and its CSV exports through Flask's test client: who may see them, the figures shown, a bad
date range, CSV that matches the tables."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.analytics import EFFORT, new_token
from kb.helpdesk.models import AnalyticsEvent, Deflection, SearchRecord, Ticket, User, Vote, utcnow
from tests.portal import PASSWORD, post, sign_in

AGENT, ADMIN, EDITOR = "agent@desk.example", "admin@desk.example", "editor@desk.example"
TODAY = utcnow().replace(hour=12, minute=0, second=0, microsecond=0)


@pytest.fixture
def staffed(app):
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
        add_staff(db, ADMIN, PASSWORD, "admin")
        add_staff(db, EDITOR, PASSWORD, "editor")
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        for n, text in enumerate(["printer offline", "printer offline", "=HYPERLINK(\"x\")", "vpn"]):
            db.add(SearchRecord(token=new_token(), source="portal", visitor=f"user:{ann.id}", query=text,
                                confident=n != 3, created_at=TODAY))
        db.add(Ticket(ref="KB-77", customer_id=ann.id, subject="VPN", description="down", category="network",
                      created_at=TODAY))
        db.add(Deflection(article_id="printer-offline", visitor=f"user:{ann.id}", created_at=TODAY))
        db.add(AnalyticsEvent(kind=EFFORT, value=5, created_at=TODAY))
        db.add(Vote(article_id="printer-offline", visitor="v:x", helpful=False, reason="no macOS steps",
                    updated_at=TODAY))
    return app


def signed_in(app, email: str):
    client = app.test_client()
    assert sign_in(client, email).status_code == 302
    return client


@pytest.mark.parametrize("path", ["/desk/insights/", "/desk/insights/daily.csv", "/desk/insights/top_searches.csv"])
def test_only_admins_and_editors_see_insights(staffed, path):
    anonymous = staffed.test_client().get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in")
    for email in ("ann@acme.example", AGENT):
        assert signed_in(staffed, email).get(path).status_code == 404
    for email in (ADMIN, EDITOR):
        assert signed_in(staffed, email).get(path).status_code == 200


def test_an_editor_lands_on_insights_and_works_no_tickets(staffed):
    editor = staffed.test_client()
    landed = sign_in(editor, EDITOR)
    assert landed.headers["Location"] == "/desk/insights/"
    assert editor.get("/desk/").headers["Location"] == "/desk/insights/"
    assert editor.get("/desk/tickets/KB-77").status_code == 404
    assert editor.get("/desk/admin/").status_code == 404
    page = editor.get("/desk/insights/").get_data(as_text=True)
    assert 'href="/desk/insights/"' in page and 'href="/desk/"' not in page
    assert 'href="/desk/insights/"' in signed_in(staffed, ADMIN).get("/desk/").get_data(as_text=True)


def test_the_page_shows_the_figures_charts_and_tables(staffed):
    page = signed_in(staffed, EDITOR).get("/desk/insights/").get_data(as_text=True)
    assert page.count('<svg class="chart"') == 5
    cards = re.findall(r'<span class="figure">([^<]*)</span>', page)
    # 1 session / 1 customer with a ticket; 1 solved of 2 answers; ann's one session ended in a ticket; effort 5
    assert cards[:4] == ["1.0", "50 %", "0 %", "5.0"]
    assert "printer offline" in page and "no macOS steps" in page


def test_a_bad_range_names_the_field_and_keeps_what_was_typed(staffed):
    editor = signed_in(staffed, EDITOR)
    bad = editor.get("/desk/insights/?from=2026-13-01&to=2026-01-31")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "from: 2026-13-01 is not a date" in text
    assert 'value="2026-13-01"' in text and 'aria-invalid="true"' in text
    reversed_ = editor.get("/desk/insights/?from=2026-02-01&to=2026-01-01")
    assert reversed_.status_code == 400 and "starts after it ends" in reversed_.get_data(as_text=True)
    assert editor.get("/desk/insights/top_searches.csv?from=nope").status_code == 400
    assert editor.get("/desk/insights/no_such_table.csv").status_code == 404


def test_csv_matches_the_tables(staffed):
    editor = signed_in(staffed, EDITOR)
    day = TODAY.date().isoformat()
    response = editor.get(f"/desk/insights/top_searches.csv?from={day}&to={day}")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["search"], r["count"]) for r in rows][:1] == [("printer offline", "2")]
    formula = next(r for r in rows if "hyperlink" in r["search"])
    assert formula["search"].startswith("'=")  # never run as a formula by a spreadsheet
    daily = list(csv.DictReader(io.StringIO(editor.get(
        f"/desk/insights/daily.csv?from={(TODAY - timedelta(days=2)).date()}&to={day}").get_data(as_text=True)
        .lstrip("\ufeff"))))
    assert [r["period"] for r in daily][-1] == day and len(daily) == 3
    assert (daily[-1]["sessions"], daily[-1]["tickets"], daily[-1]["solved"]) == ("1", "1", "1")
    page = editor.get(f"/desk/insights/?from={(TODAY - timedelta(days=2)).date()}&to={day}").get_data(as_text=True)
    table = page.split('id="daily-table"')[1].split("</table>")[0]
    assert [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<tr><td>(.*?)</td>", table)] == [
        r["period"] for r in daily]
    assert post(editor, "/desk/insights/daily.csv").status_code == 405


def test_the_gaps_page_groups_failed_searches(staffed):
    assert signed_in(staffed, AGENT).get("/desk/insights/gaps").status_code == 404
    assert signed_in(staffed, "ann@acme.example").get("/desk/insights/gaps").status_code == 404
    page = signed_in(staffed, EDITOR).get("/desk/insights/gaps")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<li class="gap">' in text
    assert "vpn" in text and "Closest article:" in text  # the one search with no confident answer
    assert "printer offline" not in text  # answered confidently, no ticket after it
    bad = signed_in(staffed, ADMIN).get("/desk/insights/gaps?to=31-01-2026")
    assert bad.status_code == 400 and "to: 31-01-2026 is not a date" in bad.get_data(as_text=True)
