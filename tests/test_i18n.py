"""The interface language: chosen from the browser or the switcher, on the portal and the desk; catalogues complete
and compiled; articles offered in their other languages."""
from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from kb.helpdesk.accounts import add_staff
from tests.conftest import ROOT
from tests.portal import PASSWORD, add_people, file_ticket, make_app, post, sign_in
from web.i18n import LANG_COOKIE, LANGUAGES, TRANSLATIONS, compile_catalogues

AGENT = "agent@desk.example"
TRANSLATED = ("ru", "uk")


def page(client, path: str, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def choose(client, lang: str, back: str = "/"):
    return post(client, "/language", {"lang": lang, "next": back})


# --- choosing the language --------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, lang, words", [
    ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru", ["Справочный центр", "Опишите вашу проблему", "Категории"]),
    ("uk-UA,uk;q=0.9", "uk", ["Довідковий центр", "Опишіть вашу проблему", "Категорії"]),
    ("de-DE,de;q=0.9,uk;q=0.5,ru;q=0.4", "uk", ["Довідковий центр"]),  # the best match among those offered
    ("en-GB,en;q=0.9,ru;q=0.5", "en", ["Help center", "Describe your problem", "Categories"]),
    ("de-DE,fr;q=0.8", "en", ["Help center"]),  # nothing offered: English
    ("", "en", ["Help center"]),
])
def test_accept_language_picks_the_interface_language(client, header, lang, words):
    html = page(client, "/", **{"Accept-Language": header})
    assert f'<html lang="{lang}">' in html
    for word in words:
        assert word in html
    assert f'value="{lang}" lang="{lang}"\n                aria-current="true"' in html  # the switcher marks it


def test_switcher_sets_a_cookie_and_the_next_pages_follow(client):
    response = choose(client, "uk", "/search?q=printer")
    assert response.status_code == 302 and response.headers["Location"] == "/search?q=printer"
    cookie = client.get_cookie(LANG_COOKIE)
    assert cookie is not None and cookie.value == "uk" and cookie.http_only
    # The choice beats the browser's language.
    results = page(client, "/search?q=printer", **{"Accept-Language": "ru"})
    assert '<html lang="uk">' in results and "Результати за запитом «printer»" in results
    assert "Опишіть вашу проблему" in page(client, "/")
    assert "Сторінку не знайдено" in client.get("/no/such/page").get_data(as_text=True)
    choose(client, "en")
    assert '<html lang="en">' in page(client, "/", **{"Accept-Language": "ru"})


def test_every_page_has_a_labelled_switcher_that_works_without_javascript(client):
    html = page(client, "/categories/printers")
    nav = html.split('<nav class="languages" aria-label="Language">', 1)[1].split("</nav>", 1)[0]
    assert '<form class="inline" method="post" action="/language">' in nav and 'name="csrf_token"' in nav
    assert '<input type="hidden" name="next" value="/categories/printers">' in nav
    for code, name in LANGUAGES.items():
        assert f'<button class="link" type="submit" name="lang" value="{code}" lang="{code}"' in nav and name in nav


@pytest.mark.parametrize("form", [
    {"lang": "de"}, {"lang": "ru' onmouseover=alert(1)"}, {"lang": ""}, {},
    {"lang": "uk", "next": "https://evil.example/"}, {"lang": "uk", "next": "//evil.example"},
])
def test_unknown_languages_and_foreign_targets_are_ignored(client, form):
    response = post(client, "/language", form)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = client.get_cookie(LANG_COOKIE)
    assert (cookie is not None) == (form.get("lang") in LANGUAGES)


def test_the_switcher_needs_the_forms_token(client):
    assert client.post("/language", data={"lang": "ru"}).status_code == 400
    assert client.get_cookie(LANG_COOKIE) is None


PROBLEM = {"en": "Describe your problem", "ru": "Опишите вашу проблему", "uk": "Опишіть вашу проблему"}


@pytest.mark.parametrize(("headers", "lang"), [
    ({"Accept-Language": "xx-YY;q=oops, ;;;, *;q=2"}, "en"), ({"Accept-Language": "ru" * 2000}, "en"),
    ({"Accept-Language": "\u00e9\u00e9;q=1"}, "en"), ({"Cookie": f"{LANG_COOKIE}=de"}, "en"),
    ({"Cookie": f"{LANG_COOKIE}=../../etc"}, "en"), ({"Accept-Language": "xx-YY;q=oops, ;;;, uk;q=0.5"}, "uk"),
    ({"Accept-Language": "\u00e9\u00e9;q=1, ru;q=0.1"}, "ru"),
    ({"Accept-Language": "ru", "Cookie": f"{LANG_COOKIE}=../../etc"}, "ru"),
])
def test_hostile_language_headers_leave_the_usable_choice_or_english(client, headers, lang):
    html = page(client, "/", **headers)
    assert f'<html lang="{lang}">' in html and PROBLEM[lang] in html


def test_pages_say_they_vary_by_language(client):
    vary = client.get("/").headers.get("Vary", "")
    assert "Accept-Language" in vary and "Cookie" in vary


# --- the portal in each language -----------------------------------------------------------------------------

def test_contact_page_and_its_script_strings_in_russian(ann):
    choose(ann, "ru", "/contact")
    html = page(ann, "/contact")
    assert "<h1>Связаться с поддержкой</h1>" in html
    assert '<label for="subject">Тема</label>' in html and '<label for="description">Опишите проблему</label>' in html
    # portal.js takes its words from the page
    assert 'data-solved-label="Это решило мою проблему"' in html and 'data-category-label="Похоже на:"' in html
    assert "Мне всё ещё нужна помощь" in html and "Найти ответы" in html
    js = (ROOT / "web" / "static" / "portal.js").read_text(encoding="utf-8")
    assert "This solved my problem" not in js and "Looks like" not in js


def test_form_errors_are_in_the_chosen_language(ann):
    choose(ann, "uk")
    response = post(ann, "/tickets/new", {"subject": "", "description": "x" * 20001, "category": ""})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Тема: заповніть, будь ласка." in html
    assert "Опис: не більше ніж 20000 символів (зараз 20001)." in html
    assert "Перевірте форму" in html


def test_ticket_tracker_statuses_and_flash_in_ukrainian(ann):
    choose(ann, "uk")
    ref = file_ticket(ann)
    html = page(ann, f"/tickets/{ref}")
    tracker = html.split('<ol class="tracker"', 1)[1].split("</ol>", 1)[0]
    for label in ("Подана", "У роботі", "Чекає на відповідь клієнта", "Вирішена"):
        assert f'<span class="label">{label}</span>' in tracker
    assert f"Заявку {ref} подано." in html  # the flash message
    assert 'aria-label="Перебіг виконання"' in html
    listing = page(ann, "/tickets")
    assert "<h1>Мої заявки</h1>" in listing and "Подана" in listing


def test_dates_are_written_in_the_chosen_language_and_kept_machine_readable(client):
    choose(client, "ru")
    html = page(client, "/articles/printer-offline")
    meta = html.split('<p class="meta"', 1)[1].split("</p>", 1)[0]
    assert "Обновлено <time datetime=" in meta and "г., " in meta and "UTC</time>" in meta
    assert 'lang="ru"' in meta  # the interface's words inside an English article say so
    choose(client, "en")
    english = page(client, "/articles/printer-offline").split('<p class="meta"', 1)[1].split("</p>", 1)[0]
    assert "Updated <time datetime=" in english and "г., " not in english


@pytest.mark.parametrize("lang, expected", [
    ("en", ["1 article", "3 articles", "5 articles", "21 articles"]),
    ("ru", ["1 статья", "3 статьи", "5 статей", "21 статья"]),
    ("uk", ["1 стаття", "3 статті", "5 статей", "21 стаття"]),
])
def test_plurals_follow_each_languages_rules(app, lang, expected):
    from flask import render_template_string

    template = "{% trans count=n %}{{ count }} article{% pluralize %}{{ count }} articles{% endtrans %}"
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        assert [render_template_string(template, n=n) for n in (1, 3, 5, 21)] == expected


# --- the desk ----------------------------------------------------------------------------------------------------

@pytest.fixture
def agent(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
    client = app.test_client()
    assert sign_in(client, AGENT).status_code == 302
    return client


def test_desk_queue_and_ticket_in_russian(app, agent, ann):
    ref = file_ticket(ann)
    choose(agent, "ru", "/desk/")
    queue = page(agent, "/desk/")
    assert '<html lang="ru">' in queue and "<h1>Очередь</h1>" in queue
    for label in ("Отправлена", "В работе", "Ждёт ответа клиента", "Решена"):
        assert label in queue
    assert "1 заявка." in queue and "Применить фильтр" in queue
    ticket = page(agent, f"/desk/tickets/{ref}")
    assert "Обращение клиента" in ticket and "Отправить ответ" in ticket
    assert "Оставить: Отправлена" in ticket  # the composer's status choice
    response = post(agent, f"/desk/tickets/{ref}/status", {"status": "in_progress"})
    assert response.status_code == 302
    assert "Статус: В работе." in page(agent, f"/desk/tickets/{ref}")


def test_desk_confirmation_for_internal_articles_is_translated(app, agent, ann):
    ref = file_ticket(ann, subject="Password reset procedure", description="agent procedure for password resets")
    choose(agent, "uk")
    html = page(agent, f"/desk/tickets/{ref}?kb=agent+procedure")
    assert "data-internal data-confirm=\"«Agent procedure for password resets» — внутрішня стаття" in html
    js = (ROOT / "web" / "static" / "desk.js").read_text(encoding="utf-8")
    assert "is an internal article" not in js


# --- searches carry the language; articles in several languages --------------------------------------------

class Translated:
    """The shared search service with `reset-password` also in Russian, and searches recorded."""

    def __init__(self, service) -> None:
        self._service = service
        group = {"en": "reset-password", "ru": "reset-password@ru"}
        english = replace(service.articles["reset-password"], translations=dict(group))
        russian = replace(english, id="reset-password@ru", lang="ru", title="Сброс пароля",
                          related=[], translations=dict(group))
        self.articles = {**service.articles, "reset-password": english, "reset-password@ru": russian}
        self.searches: list[dict] = []

    def search(self, query, **kwargs):
        self.searches.append({"query": query, **kwargs})
        return self._service.search(query, **kwargs)

    def visible_articles(self, audience="public"):
        return {key: meta for key, meta in self.articles.items() if meta.audience == "public"}

    def __getattr__(self, name):
        return getattr(self._service, name)


@pytest.fixture
def translated(portal_index, portal_settings):
    service = Translated(portal_index[1])
    app = make_app(portal_settings, service)
    return app, service


def test_article_offers_its_other_languages(translated):
    app, _ = translated
    client = app.test_client()
    english = page(client, "/articles/reset-password")
    also = english.split('<p class="also-in"', 1)[1].split("</p>", 1)[0]
    assert 'Also in:' in also
    assert '<a href="/articles/reset-password@ru" lang="ru" hreflang="ru">Русский</a>' in also
    assert '<link rel="alternate" hreflang="ru" href="/articles/reset-password@ru">' in english
    russian = page(client, "/articles/reset-password@ru", **{"Accept-Language": "ru"})
    assert '<article lang="ru">' in russian and "Сброс пароля" in russian
    assert '<a href="/articles/reset-password" lang="en" hreflang="en">English</a>' in russian
    assert "Эта статья также на языках:" in russian
    plain = page(client, "/articles/printer-offline")
    assert 'class="also-in"' not in plain  # one language only: nothing offered


def test_lists_show_each_article_once_in_the_readers_language(translated):
    app, _ = translated
    client = app.test_client()
    english = page(client, "/categories/accounts")
    assert "Reset your password" in english and "Сброс пароля" not in english
    russian = page(client, "/categories/accounts", **{"Accept-Language": "ru"})
    assert "Сброс пароля" in russian and "Reset your password" not in russian
    assert '<span class="count">1 статья</span>' in page(client, "/", **{"Accept-Language": "ru"})
    ukrainian = page(client, "/categories/accounts", **{"Accept-Language": "uk"})
    assert "Reset your password" in ukrainian  # no Ukrainian version: the default language's


def test_searches_carry_the_interface_language(translated):
    app, service = translated
    client = app.test_client()
    choose(client, "uk")
    page(client, "/search?q=password")
    client.get("/api/suggest?q=forgot+my+password")
    client.get("/api/search?q=password")
    assert [s["lang"] for s in service.searches] == ["uk", "uk", "uk"]
    add_people(app)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
    ann = app.test_client()
    sign_in(ann, "ann@acme.example")
    ref = file_ticket(ann)
    agent = app.test_client()
    sign_in(agent, AGENT)
    choose(agent, "ru")
    service.searches.clear()
    page(agent, f"/desk/tickets/{ref}?kb=printer")
    assert len(service.searches) == 2 and {s["lang"] for s in service.searches} == {"ru"}


# --- catalogues ---------------------------------------------------------------------------------------------------

def source_messages() -> dict:
    """Every msgid marked in web/ (Python and templates), extracted as `pybabel extract -F babel.cfg` does."""
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.setdefault(message, f"{filename}:{lineno}")
    return found


def test_extraction_finds_the_interface_strings():
    found = source_messages()
    ids = {m if isinstance(m, str) else m[0] for m in found}
    for expected in ("Help center", "Waiting on customer", "%(field)s: please fill this in.", "Page not found",
                     "%(count)s article", "This solved my problem", "Queue"):
        assert expected in ids
    assert len(found) > 150


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_translates_every_string(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    problems = []
    for message_id, where in source_messages().items():
        key = message_id if isinstance(message_id, str) else message_id[0]
        entry = catalog.get(key)
        if entry is None:
            problems.append(f"{where}: {key!r} is not in the {lang} catalogue")
            continue
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        if entry.fuzzy or not all(s.strip() for s in strings):
            problems.append(f"{where}: {key!r} has no finished {lang} translation")
    for entry, errors in catalog.check():  # placeholders like %(title)s kept, plural forms complete
        problems += [f"{entry.id!r}: {e}" for e in errors]
    assert not problems, "\n".join(problems)
    assert catalog.num_plurals == 3


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalogue_holds_no_strings_the_interface_no_longer_uses(lang):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = read_po(fh, locale=lang)
    used = {m if isinstance(m, str) else m[0] for m in source_messages()}
    assert sorted(m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id and
                  (m.id if isinstance(m.id, str) else m.id[0]) not in used) == []


def test_catalogues_compile_when_missing_or_older_than_their_source(tmp_path):
    folder = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, folder, ignore=shutil.ignore_patterns("*.mo"))
    assert compile_catalogues(folder) == folder
    mo = folder / "ru" / "LC_MESSAGES" / "messages.mo"
    po = mo.with_suffix(".po")
    assert mo.is_file() and (folder / "uk" / "LC_MESSAGES" / "messages.mo").is_file()
    from babel.support import Translations

    assert Translations.load(str(folder), ["ru"]).gettext("Help center") == "Справочный центр"
    # A .po edited after the .mo was written is compiled again at the next start.
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Справочный центр"', 'msgstr "Центр помощи"'),
                  encoding="utf-8")
    os.utime(mo, (po.stat().st_mtime - 60, po.stat().st_mtime - 60))
    compile_catalogues(folder)
    assert Translations.load(str(folder), ["ru"]).gettext("Help center") == "Центр помощи"
    # Up to date: left alone.
    before = mo.stat().st_mtime_ns
    compile_catalogues(folder)
    assert mo.stat().st_mtime_ns == before


def test_catalogues_compile_elsewhere_when_the_package_folder_is_read_only(tmp_path, monkeypatch):
    folder = tmp_path / "translations"
    shutil.copytree(TRANSLATIONS, folder, ignore=shutil.ignore_patterns("*.mo"))
    import web.i18n

    real = web.i18n._compile

    def refuse_in_package(po: Path, mo: Path) -> None:
        if mo.is_relative_to(folder):
            raise PermissionError(13, "Permission denied", str(mo))
        real(po, mo)

    monkeypatch.setattr(web.i18n, "_compile", refuse_in_package)
    target = compile_catalogues(folder)
    assert target != folder and (target / "uk" / "LC_MESSAGES" / "messages.mo").is_file()
    assert not (folder / "uk" / "LC_MESSAGES" / "messages.mo").exists()
    shutil.rmtree(target)


def test_after_a_form_the_switcher_returns_to_a_page_that_can_be_shown(ann):
    # A form answered with errors on its own address (which also answers GET): back to that page.
    html = post(ann, "/tickets/new", {"subject": "", "description": ""}).get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/tickets/new">' in html
    # An address that only takes the form (POST): back to the page the form was on.
    html = post(ann, "/contact/solved", {"article_id": "printer-offline", "query": "printer"},
                headers={"Referer": "http://localhost/contact?q=printer"}).get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/contact?q=printer">' in html
    html = post(ann, "/contact/solved", {"article_id": "printer-offline", "query": "printer"},
                headers={"Referer": "https://evil.example/phish"}).get_data(as_text=True)
    assert '<input type="hidden" name="next" value="/">' in html
