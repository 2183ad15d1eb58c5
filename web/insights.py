"""Insights for admins and editors (/desk/insights): what self-service saves and what to write next, over a date
range, as charts drawn here (web/charts.py), tables and CSV. To everyone else signed in the page does not exist
(404); anonymous visitors are sent to sign in."""
from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.helpdesk import reports
from kb.helpdesk.insights import Day, daily, summary
from web.charts import bar_chart, line_chart
from web.context import current_user, db

bp = Blueprint("insights", __name__, url_prefix="/desk/insights")
DEFAULT_DAYS = 28
MAX_DAYS = 731
WEEKLY_AFTER = 62  # longer ranges are charted per week
TABLES = ("daily", "top_searches", "unanswered_searches", "not_helpful", "viewed_before_ticket", "most_linked",
          "tickets_per_category_week")


@bp.before_request
def insight_readers_only():
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if not user.reads_insights:
        abort(404)
    return None


@dataclass(frozen=True)
class Period:
    first: date  # inclusive
    last: date  # inclusive
    errors: dict

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time())

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time())


def period_from(args) -> Period:
    """The range asked for (`from`, `to`: YYYY-MM-DD, both inclusive), else the last DEFAULT_DAYS days; a bad value
    is reported by field and the default used in its place."""
    errors, values = {}, {}
    for name in ("to", "from"):
        raw = args.get(name, "").strip()
        try:
            values[name] = date.fromisoformat(raw) if raw else None
        except ValueError:
            errors[name] = _("%(field)s: %(value)s is not a date like 2026-03-31.", field=name, value=raw[:40])
            values[name] = None
    values["to"] = values["to"] or datetime.utcnow().date()
    if values["from"] is None:
        values["from"] = values["to"] - timedelta(days=DEFAULT_DAYS - 1)
    elif values["from"] > values["to"]:
        errors["from"] = _("%(field)s: the range starts after it ends.", field="from")
        values["from"] = values["to"] - timedelta(days=DEFAULT_DAYS - 1)
    elif (values["to"] - values["from"]).days >= MAX_DAYS:
        errors["from"] = _("%(field)s: a range covers at most %(days)d days.", field="from", days=MAX_DAYS)
        values["from"] = values["to"] - timedelta(days=MAX_DAYS - 1)
    return Period(values["from"], values["to"], errors)


def _typed(period: Period) -> dict:
    """The range form's values as typed (a wrong one is shown back to be corrected), else the period's days."""
    return {"from": request.args.get("from", period.first.isoformat()),
            "to": request.args.get("to", period.last.isoformat())}


def buckets(per_day: list[Day]) -> list[dict]:
    """The chart's points: each day, or each ISO week for a long range (its days' counts added up)."""
    weekly = len(per_day) > WEEKLY_AFTER
    out: dict[str, dict] = {}
    for d in per_day:
        key = reports.week_of(date.fromisoformat(d.day)).isoformat() if weekly else d.day
        row = out.setdefault(key, {"period": key, **{k: 0 for k in asdict(d) if k != "day"}})
        for name, value in asdict(d).items():
            if name != "day":
                row[name] += value
    for row in out.values():
        answered = row["solved"] + row["tickets"]
        row["deflection_rate"] = round(row["solved"] / answered, 4) if answered else None
        followed = row["followed_sessions"]
        row["resolution_before_contact"] = (round((followed - row["contacted_sessions"]) / followed, 4)
                                            if followed else None)
        row["effort_score"] = (round(row["effort_total"] / row["effort_answers"], 2)
                               if row["effort_answers"] else None)
    return list(out.values())


def _titles() -> dict[str, str]:
    return {key: meta.title for key, meta in current_app.extensions["kb.search"].articles.items()}


def table(name: str, period: Period) -> list[dict]:
    """The rows of one of TABLES over the period."""
    if name == "daily":
        return buckets(daily(db(), period.start, period.end))
    rows = getattr(reports, name)(db(), period.start, period.end)
    titles = _titles()
    for row in rows:
        if "article" in row:
            row["title"] = titles.get(row["article"], "")
    return rows


@bp.get("/")
def page():
    period = period_from(request.args)
    settings = current_app.config["KB_SETTINGS"]
    per_day = daily(db(), period.start, period.end)
    totals = summary(db(), period.start, period.end, settings.cost_per_ticket,
                     settings.cost_per_self_service_session, per_day=per_day)
    points = buckets(per_day)
    labels = [p["period"] for p in points]
    charts = {
        "sessions": bar_chart(_("Help-center sessions"), labels, [p["sessions"] for p in points]),
        "tickets": bar_chart(_("Tickets filed"), labels, [p["tickets"] for p in points]),
        "deflection": line_chart(_("Contact-form deflection rate"), labels, [p["deflection_rate"] for p in points],
                                 ceiling=1.0),
        "resolution": line_chart(_("Resolution before first contact"), labels,
                                 [p["resolution_before_contact"] for p in points], ceiling=1.0),
        "effort": line_chart(_("Customer effort score (1-7)"), labels, [p["effort_score"] for p in points],
                             floor=1.0, ceiling=7.0),
    }
    tables = {name: table(name, period) for name in TABLES if name != "daily"}
    return render_template("desk/insights.html", period=period, totals=totals, points=points, charts=charts,
                           tables=tables, weekly=len(per_day) > WEEKLY_AFTER, settings=settings,
                           args=_typed(period)), 400 if period.errors else 200


GAPS_SHOWN = 30


def _vector_cache(service):
    """This process's query vectors of failed texts for the serving model (read from `kb gaps`' cache on disk,
    again when it was written since, e.g. by the upkeep of web/gap_worker.py; kept in memory, never written from a
    request)."""
    from search.vector_cache import VectorCache

    caches = current_app.extensions.setdefault("kb.gap_vectors", {})
    key = (service.manifest.model_name, service.manifest.model_dimension)
    if key not in caches or caches[key].changed_on_disk():
        caches[key] = VectorCache.for_service(current_app.config["KB_SETTINGS"].model_cache_dir, service)
    return caches[key]


def find_period_gaps(period: Period) -> list:
    """The period's failed and ticket-ending searches and unanswered tickets grouped by meaning (search/gaps.py),
    biggest gaps first."""
    from search.gaps import recorded_gaps

    service = current_app.extensions["kb.search"]
    service = service.pinned() if hasattr(service, "pinned") else service
    return recorded_gaps(db(), service, period.start, period.end, limit=GAPS_SHOWN, cache=_vector_cache(service))


@bp.get("/gaps")
def gaps():
    """Content gaps: what customers failed to find, grouped by meaning across languages, each group with its
    closest article; a group is a draft waiting to be written (`kb draft-from-ticket`, the desk's button)."""
    period = period_from(request.args)
    found = find_period_gaps(period)
    return render_template("desk/gaps.html", period=period, gaps=found, args=_typed(period)), \
        400 if period.errors else 200


def _cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @ first) is kept as text with a quote."""
    text = "; ".join(value) if isinstance(value, list) else "" if value is None else str(value)
    if isinstance(value, (list, str)) and text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@bp.get("/<name>.csv")
def export(name: str):
    """One table as CSV (UTF-8 with a byte-order mark, so spreadsheets read Cyrillic right)."""
    if name not in TABLES:
        abort(404)
    period = period_from(request.args)
    if period.errors:
        return Response("\n".join(period.errors.values()) + "\n", status=400, mimetype="text/plain")
    rows = table(name, period)
    out = io.StringIO()
    out.write("\ufeff")
    columns = list(rows[0]) if rows else []
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row.values()])
    filename = f"{name}-{period.first.isoformat()}-{period.last.isoformat()}.csv"
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
