"""The interface language (Flask-Babel): English, Russian or Ukrainian, chosen with the switcher or the browser.

The gettext catalogues are `translations/<lang>/LC_MESSAGES/messages.po` beside this file; their compiled `.mo`
files are written when the app is created, whenever one is missing or older than its `.po`.
"""
from __future__ import annotations

import os
import tempfile
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from babel import Locale
from flask import Blueprint, Flask, current_app, redirect, request
from flask_babel import Babel, get_locale, lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from kb.helpdesk.models import IN_PROGRESS, RESOLVED, SUBMITTED, WAITING

# The interface languages, each named in itself (as the switcher shows them).
LANGUAGES = {"en": "English", "ru": "Русский", "uk": "Українська"}
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "kb_lang"
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

STATUS_LABELS = {SUBMITTED: _l("Submitted"), IN_PROGRESS: _l("In progress"), WAITING: _l("Waiting on customer"),
                 RESOLVED: _l("Resolved")}

bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The switcher's choice (a cookie), else the best match of the browser's Accept-Language, else English."""
    chosen = request.cookies.get(LANG_COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default=DEFAULT_LANGUAGE)


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale is not None and locale.language in LANGUAGES else DEFAULT_LANGUAGE


def language_name(code: str) -> str:
    """A language's name in that language (`ru` → `Русский`), for links to an article's other versions."""
    if code in LANGUAGES:
        return LANGUAGES[code]
    from babel import UnknownLocaleError

    try:
        name = Locale.parse(code).get_display_name(code)
    except (ValueError, TypeError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:] if name else code


def format_moment(moment: datetime) -> str:
    """A date and time (UTC) as the interface language writes it: `Mar 5, 2026, 2:03 PM`, `5 мар. 2026 г., 14:03`."""
    from babel.dates import UTC, format_date, format_time

    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # the database keeps naive UTC times
    date = format_date(moment, "medium", locale=locale)
    time = format_time(moment, "short", tzinfo=UTC, locale=locale)
    return str(locale.datetime_formats["medium"]).replace("{1}", date).replace("{0}", time)


def compile_catalogues(source: Path = TRANSLATIONS) -> Path:
    """Compile every `.po` into its `.mo` when the `.mo` is missing or older; returns the folder to load from.

    Each `.mo` is written to a temporary file and renamed into place, so concurrent starts never read half a
    file. Where the package folder is read-only, the catalogues are compiled into a temporary folder instead.
    """
    stale = [po for po in sorted(source.glob("*/LC_MESSAGES/*.po"))
             if not po.with_suffix(".mo").is_file() or po.with_suffix(".mo").stat().st_mtime < po.stat().st_mtime]
    if not stale:
        return source
    try:
        for po in stale:
            _compile(po, po.with_suffix(".mo"))
        return source
    except OSError:
        target = Path(tempfile.mkdtemp(prefix="kb-translations-"))
        for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
            mo = target / po.relative_to(source).with_suffix(".mo")
            mo.parent.mkdir(parents=True, exist_ok=True)
            _compile(po, mo)
        return target


def _compile(po: Path, mo: Path) -> None:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with open(po, "rb") as fh:
        catalog = read_po(fh, locale=po.parent.parent.name)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, prefix=".messages-", suffix=".mo")
    try:
        with os.fdopen(fd, "wb") as out:
            write_mo(out, catalog)
        os.replace(tmp, mo)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def page_to_return_to() -> str:
    """Where the switcher goes back to: this page; for a page answering a form, the page the form was on."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    try:
        current_app.url_map.bind(request.host).match(request.path, method="GET")
        return request.path
    except HTTPException:  # no GET here (405), or a redirect: the form's own page, if on this site
        pass
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


@bp.post("/language")
def choose():
    """The switcher: keeps the chosen language in a cookie and goes back to the page it was used on."""
    from web.auth import safe_next
    from web.security import request_cookies_secure

    response = redirect(safe_next(request.form.get("next")))
    lang = request.form.get("lang", "")
    if lang in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request_cookies_secure())
        _remember(lang)
    return response


def _remember(lang: str) -> None:
    """A signed-in user's choice is kept on their account too: their e-mail is written in it."""
    from web.context import current_user, db

    user = current_user()
    if user is not None and user.language != lang:
        user.language = lang
        db().commit()


def init_app(app: Flask) -> None:
    folder = compile_catalogues()
    app.config.update(BABEL_DEFAULT_LOCALE=DEFAULT_LANGUAGE, BABEL_DEFAULT_TIMEZONE="UTC",
                      BABEL_TRANSLATION_DIRECTORIES=str(folder))
    Babel(app, locale_selector=select_locale)
    app.jinja_env.policies["ext.i18n.trimmed"] = True  # {% trans %} blocks as one line, as babel.cfg extracts them
    app.add_template_filter(format_moment)
    app.add_template_global(language_name)
    app.register_blueprint(bp)

    @app.context_processor
    def languages() -> dict:
        return {"interface_lang": current_language(), "languages": LANGUAGES, "language_back": page_to_return_to()}

    @app.after_request
    def vary(response):
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
        return response
