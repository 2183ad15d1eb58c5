"""Small talk names no topic (search/small_talk.py): the search lists nothing for it, whatever its cosines."""
from __future__ import annotations

from dataclasses import replace

import pytest

from search.service import SearchService
from search.small_talk import names_a_topic
from tests.fakes import HashingEncoder


@pytest.mark.parametrize("text", [
    "hi, how are you", "Hello?", "thank you so much!!", "good morning team", "ok thanks, bye",
    "привет, как дела", "Добрый день!", "спасибо большое", "Здравствуйте, всё хорошо",
    "дякую", "Доброго ранку", "привіт, як справи?", "благодаря много", "здравейте, как сте?", "чао",
])
def test_greetings_thanks_and_pleasantries_alone_name_no_topic(text):
    assert not names_a_topic(text)


@pytest.mark.parametrize("text", [
    "hi, my printer is offline", "thanks, it works now", "help", "vpn 809", "error 0x80070005",
    "good morning, outlook keeps asking for my password", "привет, не печатает принтер", "доброго дня, не працює vpn",
    "здравейте, забравих паролата си", "ok 2fa", "how are you charging me twice",
])
def test_a_word_that_names_something_makes_it_a_question(text):
    assert names_a_topic(text)


def test_small_talk_lists_nothing_and_is_never_confident(portal_index):
    settings = replace(portal_index[0], list_confidence_floor=0.0)  # a floor of 0 lists any near miss otherwise
    service = SearchService.load(settings.index_dir, settings, HashingEncoder())
    try:
        for text in ("hello, how are you", "привет, как дела", "дякую"):
            response = service.search(text)
            assert response.hits == [] and not response.confident and response.confidence == 0.0
        assert service.search("hello, I forgot my password").hits  # a greeting with a question is searched
        assert service.search("how are you today").hits == [] and service.search("how are you billing").hits
    finally:
        service.close()


def test_the_portal_answers_small_talk_with_no_matching_articles(client):
    page = client.get("/search", query_string={"q": "hi, how are you"}).get_data(as_text=True)
    assert "No matching articles" in page and '<ol class="hits">' not in page
    assert client.get("/api/suggest", query_string={"q": "thanks a lot"}).get_json()["suggestions"] == []
