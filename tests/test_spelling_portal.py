"""The portal and the search API over the small help center: a certain fix is searched ("Searched for …"), an
uncertain one is offered as "Did you mean …?" linking to a search for it, a correct word is left alone."""
from __future__ import annotations

import html

import pytest


def page(client, path: str, **headers) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def test_an_uncertain_fix_is_offered_as_did_you_mean(client):
    # The articles say "scanners", never "scanner": the dictionary's word is suggested (the index knows its stem),
    # and the query is searched as typed.
    text = page(client, "/search?q=scaner+not+working")
    assert 'Did you mean <a href="/search?q=scanner+not+working">scanner not working</a>?' in text
    assert "Searched for" not in text
    data = client.get("/api/search?q=scaner+not+working").get_json()
    assert (data["did_you_mean"], data["corrected_query"]) == ("scanner not working", None)


@pytest.mark.parametrize("lang, words", [("ru", "Возможно, вы имели в виду"), ("uk", "Можливо, ви мали на увазі")])
def test_did_you_mean_speaks_the_interface_language(client, lang, words):
    text = page(client, "/search?q=scaner", **{"Accept-Language": lang})
    assert f'{words} <a href="/search?q=scanner">scanner</a>?' in text


def test_a_certain_fix_is_searched_and_not_asked_about(client):
    text = page(client, "/search?q=pasword+expired")
    assert "Searched for “password expired”." in text and "Did you mean" not in text
    data = client.get("/api/search?q=pasword+expired").get_json()
    assert (data["corrected_query"], data["did_you_mean"]) == ("password expired", None)
    assert data["results"][0]["id"] == "reset-password"


def test_a_correct_ukrainian_query_is_searched_as_typed(client):
    data = client.get("/api/search", query_string={"q": "не можу підключитися до VPN з дому"}).get_json()
    assert (data["corrected_query"], data["did_you_mean"]) == (None, None)


def test_the_suggestion_is_escaped(client):
    raw = client.get("/search", query_string={"q": "scaner <b>bold</b>"}).get_data(as_text=True)
    assert "Did you mean" in raw and "<b>bold</b>" not in raw and "&lt;b&gt;bold&lt;/b&gt;" in raw
