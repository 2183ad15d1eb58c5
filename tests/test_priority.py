"""The priority rules (kb/helpdesk/priority.py) on crafted tickets in English, Russian, Ukrainian and Bulgarian."""
from __future__ import annotations

import pytest

from kb.helpdesk.priority import parse_category_priorities, predict_priority, words


@pytest.mark.parametrize("subject, description, expected", [
    # security incidents are P1 on their own
    ("My account was hacked", "Someone sends mail in my name", "P1"),
    ("Ransomware message", "A screen asks for bitcoin", "P1"),
    ("Взломали почту", "Кто-то рассылает спам", "P1"),
    ("Зламали пошту", "Хтось розсилає спам", "P1"),
    ("Откраднат лаптоп", "Оставих го във влака", "P1"),
    # an outage for everyone is P1
    ("Email down", "Nobody in the office receives email", "P1"),
    ("Интернет", "У всех в офисе сбой сети, не можем работать", "P1"),
    ("Інтернет", "Весь офіс: збій мережі", "P1"),
    ("Мрежа", "Срив на мрежата, всички са засегнати", "P1"),
    # one person who cannot work, or something that touches everyone, is P2
    ("Laptop", "I can't work, the laptop won't start", "P2"),
    ("Ноутбук", "Не могу работать, ноутбук не включается", "P2"),
    ("Ноутбук", "Не можу працювати з ранку", "P2"),
    ("Лаптоп", "Не мога да работя от сутринта", "P2"),
    ("Printer", "The printer is slow for everyone", "P2"),
    # questions and planned requests are P4
    ("New user", "Please create an account for our new colleague", "P4"),
    ("Toner", "We need toner for the HP printer", "P4"),
    ("Вопрос", "Как мне сменить подпись в Outlook?", "P4"),
    ("Питання", "Як мені змінити підпис?", "P4"),
    ("Въпрос", "Как да сменя подписа си?", "P4"),
    # anything else: the default
    ("Outlook", "Outlook does not sync but webmail works", "P3"),
])
def test_rules(subject, description, expected):
    assert predict_priority(subject, description).priority == expected


def test_reasons_name_the_words_that_decided():
    prediction = predict_priority("E-mail down", "Nobody can send mail")
    assert prediction.reasons == (("outage", "down"), ("everyone", "nobody"))
    assert predict_priority("Hacked!", "").reasons == (("security", "hacked"),)
    assert predict_priority("Hello", "something odd").reasons == (("default", "P3"),)


def test_short_words_match_whole_only():
    # "how" is not "however", "down" is not "download", "all" is not "allow"
    assert predict_priority("However", "the download is slow, allow more time").priority == "P3"
    assert words("Can’t WORK, ёлка") == ["cant", "work", "елка"]


def test_category_defaults_and_the_default_apply_when_no_words_do():
    by_category = parse_category_priorities("security=P2, billing=P4")
    assert by_category == {"security": "P2", "billing": "P4"}
    assert predict_priority("Invoice", "a wrong amount", "billing", by_category).priority == "P4"
    assert predict_priority("Invoice", "a wrong amount", "billing", by_category).reasons == (("category", "billing"),)
    assert predict_priority("Invoice", "a wrong amount", "network", by_category, default="P2").priority == "P2"
    # words beat the category's default
    assert predict_priority("Invoice portal down", "nobody can pay", "billing", by_category).priority == "P1"


@pytest.mark.parametrize("text", ["security", "security=P5", "=P1", "security:P1"])
def test_bad_category_priorities(text):
    with pytest.raises(ValueError, match="must be like"):
        parse_category_priorities(text)
