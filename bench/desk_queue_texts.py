"""Ticket texts for bench/desk_queue.py: subjects, descriptions and replies in English, Russian and Ukrainian, by category,
combined at random (devices, places, times, error codes), a few subjects typed in the wrong keyboard layout."""
from __future__ import annotations

import random
from dataclasses import dataclass

from search.spelling import LAYOUTS

GROUPS = {"printers": "devices", "laptops": "devices", "phones": "devices", "vpn": "network", "wifi": "network",
          "email": "accounts", "passwords": "accounts", "software": "general"}
CATEGORIES = tuple(GROUPS)

SUBJECTS = {
    "en": {"printers": ["Printer offline", "Printer does not print", "Paper jam in the {place} printer",
                        "Toner low warning on the printer"],
           "laptops": ["Laptop will not start", "Laptop battery drains fast", "Laptop screen flickers"],
           "phones": ["Work phone cannot sync mail", "Phone lost, please block it", "New phone setup"],
           "vpn": ["VPN keeps disconnecting", "Cannot connect to VPN from home", "VPN error {code}"],
           "wifi": ["Wi-Fi slow in the {place}", "Cannot join the guest Wi-Fi", "Wi-Fi drops every hour"],
           "email": ["Mailbox full", "Emails go to spam", "Cannot send email with attachments"],
           "passwords": ["Password expired", "Account locked after password change", "Reset my password"],
           "software": ["Install a licence for the editor", "Update fails with error {code}", "App crashes on start"]},
    "ru": {"printers": ["Принтер не печатает", "Принтер офлайн", "Замятие бумаги в принтере ({place})",
                        "Закончился тонер в принтере"],
           "laptops": ["Ноутбук не включается", "Ноутбук быстро разряжается", "Мерцает экран ноутбука"],
           "phones": ["Рабочий телефон не синхронизирует почту", "Потерял телефон", "Настройка нового телефона"],
           "vpn": ["VPN постоянно отключается", "Не могу подключиться к VPN из дома", "Ошибка VPN {code}"],
           "wifi": ["Медленный Wi-Fi ({place})", "Не подключается гостевой Wi-Fi", "Wi-Fi пропадает каждый час"],
           "email": ["Почтовый ящик переполнен", "Письма попадают в спам", "Не отправляются письма с вложениями"],
           "passwords": ["Истёк срок действия пароля", "Учётная запись заблокирована", "Сбросить пароль"],
           "software": ["Нужна лицензия на редактор", "Обновление не ставится, ошибка {code}",
                        "Программа падает при запуске"]},
    "uk": {"printers": ["Принтер не друкує", "Принтер офлайн", "Папір застряг у принтері ({place})",
                        "Закінчився тонер у принтері"],
           "laptops": ["Ноутбук не вмикається", "Ноутбук швидко розряджається", "Мерехтить екран ноутбука"],
           "phones": ["Робочий телефон не синхронізує пошту", "Загубив телефон", "Налаштування нового телефону"],
           "vpn": ["VPN постійно відключається", "Не можу підключитися до VPN з дому", "Помилка VPN {code}"],
           "wifi": ["Повільний Wi-Fi ({place})", "Не підключається гостьовий Wi-Fi", "Wi-Fi зникає щогодини"],
           "email": ["Поштова скринька переповнена", "Листи потрапляють у спам", "Не надсилаються листи з вкладеннями"],
           "passwords": ["Термін дії пароля минув", "Обліковий запис заблоковано", "Скинути пароль"],
           "software": ["Потрібна ліцензія на редактор", "Оновлення не встановлюється, помилка {code}",
                        "Програма падає під час запуску"]},
}
PLACES = {"en": ["third floor", "reception", "meeting room B", "warehouse", "finance office"],
          "ru": ["третий этаж", "приёмная", "переговорная Б", "склад", "бухгалтерия"],
          "uk": ["третій поверх", "приймальня", "переговорна Б", "склад", "бухгалтерія"]}
SENTENCES = {
    "en": ["It started {when} and nothing I tried helped.", "I restarted the computer twice.",
           "The message says error {code}.", "Colleagues in the {place} have the same problem.",
           "This blocks my work, I have a deadline today.", "Could someone look at it, please?",
           "I already checked the cables and the settings.", "It worked fine until the last update."],
    "ru": ["Началось {when}, ничего не помогает.", "Я дважды перезагрузил компьютер.",
           "Появляется сообщение об ошибке {code}.", "У коллег ({place}) та же проблема.",
           "Это мешает работе, сегодня срок сдачи.", "Посмотрите, пожалуйста.",
           "Кабели и настройки я уже проверил.", "До последнего обновления всё работало."],
    "uk": ["Почалося {when}, нічого не допомагає.", "Я двічі перезавантажив комп'ютер.",
           "З'являється повідомлення про помилку {code}.", "У колег ({place}) та сама проблема.",
           "Це заважає роботі, сьогодні термін здачі.", "Подивіться, будь ласка.",
           "Кабелі та налаштування я вже перевірив.", "До останнього оновлення все працювало."],
}
WHEN = {"en": ["this morning", "yesterday", "on Monday", "after lunch"],
        "ru": ["сегодня утром", "вчера", "в понедельник", "после обеда"],
        "uk": ["сьогодні вранці", "вчора", "у понеділок", "після обіду"]}
AGENT_REPLIES = {
    "en": ["Thank you, we are looking into it.", "Please restart the device and tell us if the error {code} stays.",
           "We replaced the toner cartridge; please try again.", "Your password was reset, check your e-mail.",
           "The VPN certificate was renewed; reconnect, please."],
    "ru": ["Спасибо, разбираемся.", "Перезагрузите устройство и напишите, осталась ли ошибка {code}.",
           "Мы заменили картридж с тонером, попробуйте снова.", "Пароль сброшен, проверьте почту.",
           "Сертификат VPN обновлён, переподключитесь, пожалуйста."],
    "uk": ["Дякуємо, розбираємося.", "Перезавантажте пристрій і напишіть, чи лишилася помилка {code}.",
           "Ми замінили картридж з тонером, спробуйте знову.", "Пароль скинуто, перевірте пошту.",
           "Сертифікат VPN оновлено, перепідключіться, будь ласка."],
}
CUSTOMER_REPLIES = {"en": ["Still the same, sorry.", "That helped, thank you!", "Tried it, error {code} again."],
                    "ru": ["Всё так же, увы.", "Помогло, спасибо!", "Попробовал, снова ошибка {code}."],
                    "uk": ["Все так само, на жаль.", "Допомогло, дякую!", "Спробував, знову помилка {code}."]}


@dataclass(frozen=True)
class MadeTicket:
    subject: str
    subject_fixed: str
    description: str
    category: str
    replies: list[tuple[str, str]]  # (author kind, body)


def _fill(rng: random.Random, template: str, lang: str) -> str:
    return template.format(place=rng.choice(PLACES[lang]), when=rng.choice(WHEN[lang]),
                           code=f"0x{rng.randrange(16 ** 4):04X}")


def ticket_text(rng: random.Random) -> MadeTicket:
    lang = rng.choice(("en", "ru", "uk"))
    category = rng.choice(CATEGORIES)
    subject = _fill(rng, rng.choice(SUBJECTS[lang][category]), lang)
    fixed = ""
    if lang == "ru" and rng.random() < 0.06:  # typed with the keyboard still in English: filing stores the fix
        subject, fixed = subject.lower().translate(LAYOUTS["ru>en"]), subject.lower()
    description = " ".join(_fill(rng, s, lang) for s in rng.sample(SENTENCES[lang], rng.randint(2, 5)))
    replies = []
    for n in range(rng.choice((0, 1, 1, 2, 2, 3, 4))):
        pool = AGENT_REPLIES if n % 2 == 0 else CUSTOMER_REPLIES
        replies.append(("agent" if n % 2 == 0 else "customer", _fill(rng, rng.choice(pool[lang]), lang)))
    return MadeTicket(subject, fixed, description, category, replies)
