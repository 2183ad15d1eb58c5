"""Result lists without junk: the search stops its list where relevance falls off, leaves out other languages'
tail, lists nothing when nothing is relevant; the portal, the JSON API and the contact form's suggestions follow."""
from __future__ import annotations

from dataclasses import replace

import pytest

from search.service import SearchService
from tests.fakes import HashingEncoder
from tests.portal import make_app

GIBBERISH = "asdf qwer zxcv"
# Settings that list every ranked article (the cutoff off), to compare the cut lists with.
UNCUT = {"list_cosine_margin": 1000.0, "list_score_share": 0.0, "list_confidence_floor": 0.0}


@pytest.fixture
def service_with(portal_index):
    """A search service over the shared small index with some settings changed."""
    opened = []

    def load(**changes) -> SearchService:
        settings = replace(portal_index[0], **changes)
        opened.append(SearchService.load(settings.index_dir, settings, HashingEncoder()))
        return opened[-1]

    yield load
    for service in opened:
        service.close()


def ids(response) -> list[str]:
    return [h.id for h in response.hits]


# --- the search service ------------------------------------------------------------------------------------------


def test_the_list_stops_where_relevance_falls_off(portal_index, service_with):
    service, uncut = portal_index[1], service_with(**UNCUT)
    full = uncut.search("my printer says offline", lang="ru")
    cut = service.search("my printer says offline", lang="ru")
    assert len(ids(full)) == 3 and ids(cut) == ["printer-offline"]
    assert cut.hits[0] == full.hits[0] and cut.confident == full.confident
    # two articles both close to the query are both listed; k still caps the list
    assert ids(service.search("printer password")) == ["reset-password", "printer-offline"]
    assert ids(service.search("printer password", k=1)) == ["reset-password"]


def test_a_stricter_margin_or_share_lists_less(service_with):
    query = "printer password"
    assert len(service_with().search(query).hits) == 2
    assert ids(service_with(list_cosine_margin=0.0).search(query)) == ["reset-password"]
    assert ids(service_with(list_score_share=0.95).search(query)) == ["reset-password"]


def test_other_languages_below_an_article_in_the_query_or_reader_language_are_left_out(service_with):
    uncut = service_with(**UNCUT)
    # an English query: an English reader gets no Russian article below the English ones, a Russian reader does
    assert "vpn-oshibka" not in ids(uncut.search("my printer says offline", lang="en"))
    assert "vpn-oshibka" in ids(uncut.search("my printer says offline", lang="ru"))
    # a Russian article that ranks first for an English query is kept: it is the best answer there is
    assert ids(uncut.search("vpn", lang="en"))[0] == "vpn-oshibka"


def test_nothing_relevant_lists_nothing(service_with):
    strict = service_with(list_confidence_floor=0.5)  # with the fake encoder, this gibberish is about 0.45 confident
    gibberish = strict.search(GIBBERISH)
    assert gibberish.hits == [] and not gibberish.confident and 0 < gibberish.confidence < 0.5
    assert gibberish.to_dict()["results"] == []
    assert ids(service_with(list_confidence_floor=0.0).search(GIBBERISH))  # without the floor it lists
    sure = strict.search("forgot password")
    assert sure.confident and ids(sure) == ["reset-password"]  # a confident answer is always listed


# --- the portal, the API and the suggestions ---------------------------------------------------------------------


@pytest.fixture
def strict_client(portal_settings, service_with):
    """The portal over a search that lists nothing for an answer it is not confident of."""
    return make_app(portal_settings, service_with(list_confidence_floor=0.5)).test_client()


def test_gibberish_shows_no_matching_articles_and_the_contact_button(strict_client):
    page = strict_client.get("/search", query_string={"q": GIBBERISH}).get_data(as_text=True)
    assert "No matching articles" in page
    assert 'class="button" href="/contact?q=asdf+qwer+zxcv"' in page
    assert '<ol class="hits">' not in page and "Nothing fits?" not in page and "Looks like:" not in page


def test_gibberish_gets_an_empty_list_from_the_api(strict_client):
    body = strict_client.get("/api/search", query_string={"q": GIBBERISH}).get_json()
    assert body["results"] == [] and body["confident"] is False
    assert [r["id"] for r in strict_client.get("/api/search?q=forgot+password").get_json()["results"]] == \
        ["reset-password"]
    assert strict_client.get("/api/suggest", query_string={"q": GIBBERISH}).get_json()["suggestions"] == []


def test_a_confident_search_shows_no_nothing_fits(client):
    page = client.get("/search?q=forgot+password").get_data(as_text=True)
    assert '<ol class="hits">' in page and "Nothing fits?" not in page and "No matching articles" not in page
    assert "Not what you need?" in page and 'href="/contact?q=forgot+password"' in page


def test_an_unsure_search_keeps_the_banner_above_its_results(client):
    page = client.get("/search?q=zzz+qqq").get_data(as_text=True)  # about 0.38 confident: above the floor
    assert '<ol class="hits">' in page and "No matching articles" not in page
    assert page.index("Nothing fits?") < page.index('<ol class="hits">')
    assert "Not what you need?" not in page


def test_a_category_without_results_says_so_and_offers_all_categories(client):
    page = client.get("/search?q=forgot+password&category=printers").get_data(as_text=True)
    assert "No matching articles" in page and 'href="/search?q=forgot+password"' in page


def test_suggestions_stop_as_the_list_does_with_their_own_margin_and_share(portal_index, portal_settings, client):
    loose = make_app(replace(portal_settings, suggest_cosine_margin=1000.0, suggest_score_share=0.0),
                     portal_index[1]).test_client()
    listed = loose.get("/api/suggest?q=my+printer+says+offline").get_json()
    assert listed["confident"] and [s["id"] for s in listed["suggestions"]] == ["printer-offline", "reset-password"]
    assert [s["id"] for s in client.get("/api/suggest?q=my+printer+says+offline").get_json()["suggestions"]] == \
        ["printer-offline"]
    strict = make_app(replace(portal_settings, suggest_score_share=0.95), portal_index[1]).test_client()
    assert [s["id"] for s in client.get("/api/suggest?q=printer+password").get_json()["suggestions"]] == \
        ["reset-password", "printer-offline"]
    assert [s["id"] for s in strict.get("/api/suggest?q=printer+password").get_json()["suggestions"]] == \
        ["reset-password"]
    unsure = loose.get("/api/suggest?q=zzz+qqq").get_json()
    assert not unsure["confident"] and unsure["suggestions"] == []


def test_text_the_model_cannot_read_keeps_its_keyword_matches_listed(service_with, monkeypatch):
    import search.service

    monkeypatch.setattr(search.service, "model_reads", lambda model, text: False)  # as an English-only model
    response = service_with(list_confidence_floor=0.5).search("не работает впн")
    assert response.confidence == 0.0 and not response.confident
    assert ids(response)[0] == "vpn-oshibka"  # no confidence to judge by: not emptied by the floor
