"""Small talk: a query made only of greetings, thanks, pleasantries and words that name nothing ("hi, how are
you", "привет, как дела", "дякую", "благодаря много") asks no question an article could answer.

A multilingual model places such text close to everything written in its language (multilingual-e5-small gives
"привет, как дела" a cosine of 0.88 to a Russian article on VPN errors, as high as many real questions get), so
its scores cannot tell it from a question; its words can. A query names a topic when at least one of its words is
not in the lexicon below (a word with a digit always names one: an error code, a floor, a version). The lexicon
holds only words that carry no problem of their own: the stop words of English and Russian (kb/text_analysis.py,
as the keyword index drops them), the same kind of words for Ukrainian and Bulgarian, and greetings, farewells,
thanks and politeness in the four languages. "thanks, it works now" and "hi, my printer is offline" name a topic
and are searched as usual.
"""
from __future__ import annotations

import re

from kb.text_analysis import STOP_WORDS

_SMALL_TALK = {
    "en": """hi hello hey hiya howdy yo greetings good morning afternoon evening day night bye goodbye cheers thanks
        thank thx ty please pls plz ok okay k sorry excuse dear sir madam everyone everybody anyone anybody someone
        somebody folks guys team there how's what's whats sup going doing nice meet fine great well yes yeah yep
        no nope lol much lot really appreciate appreciated welcome regards best kind wishes hm hmm um uh oh ah
        wow cool awesome today i'm it's that's you're we're""",
    "ru": """привет приветик приветствую здравствуйте здравствуй здрасте здрасьте добрый доброе доброго добрая
        день утро утра вечер вечера ночи спокойной пока свидания спасибо спс благодарю большое огромное
        пожалуйста дела делишки нового хорошо отлично нормально норм ок окей ладно да нет извините простите
        всем всех ребята коллеги друзья эй алло ау хай салют сегодня""",
    "uk": """привіт привітик вітаю вітання добрий доброго добра добре день дня ранку ранок вечора вечір ночі
        надобраніч бувай бувайте до побачення дякую дякуємо дуже спасибі будь ласка як справи ти ви у в тебе
        вас вам тобі що нового гаразд нормально так ні вибачте перепрошую усім всім гей алло хай і й та а але
        я мене мені ми нас це чи на з із за по про для не ну от тут там ось вже ще теж також сьогодні""",
    "bg": """здравей здравейте здрасти здрасе привет добър добро добра добре ден утро вечер лека нощ чао
        довиждане благодаря благодарим мерси много моля как си сте какво става ново наред окей да не
        извинете съжалявам всички хей ало и а но аз ти вие ние ме ми ни на в във с със за по от до това
        ли е са съм се тук там вече още също днес""",
}
LEXICON = STOP_WORDS["en"] | STOP_WORDS["ru"] | frozenset(
    word for words in _SMALL_TALK.values() for word in words.split())
_WORD = re.compile(r"\w+(?:['’]\w+)?")


def names_a_topic(text: str) -> bool:
    """Whether `text` holds a word that names something (see the module doc): False for small talk alone."""
    for word in _WORD.findall(text.lower().replace("ё", "е").replace("’", "'")):
        if any(ch.isdigit() for ch in word) or word not in LEXICON:
            return True
    return False
