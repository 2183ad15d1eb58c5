"""What a person wrote in an e-mail, without the message they quoted or their signature.

mail-parser-reply does the work (English "On … wrote:", Outlook's "From:/Sent:" block, "-----Original Message-----",
signatures, "Sent from my iPhone"); it knows no Russian or Ukrainian, so a few rules of our own cut there first:
Outlook's "От:/Від:" block, Thunderbird's and Gmail's Cyrillic "… пишет:/написал(а):/пише:/написав:" lines and
their "<address>:" line, the Cyrillic "Original message" separators and the usual closing formulas. A trailing
block of "> " lines is quoted text in any language.
"""
from __future__ import annotations

import re

from mailparser_reply import EmailMessage

# Outlook (ru/uk): "От: …" then, on the next lines, at least one more of its header labels.
_OUTLOOK_BLOCK = re.compile(
    r"^[ \t>*]*(?:От|Від|From)[ \t*]*:.*\n(?:[ \t>*]*.*\n){0,2}?[ \t>*]*(?:Отправлено|Надіслано|Дата|Кому|Тема|"
    r"Копия|Копія|Sent|Date|To|Subject)[ \t*]*:", re.MULTILINE)
_SEPARATORS = re.compile(
    r"^[ \t>]*-{2,}[ \t]*(?:Исходное сообщение|Оригинальное сообщение|Оригінальне повідомлення|"
    r"Вихідне повідомлення|Original Message)[ \t]*-{2,}[ \t]*$", re.MULTILINE | re.IGNORECASE)
# "… пишет:", "… написал(а):", "… пише:", "… написав(ла):", and Gmail's Russian "…, Имя <адрес>:" (no verb),
# possibly wrapped onto a second line, followed by a quoted line.
_WROTE = re.compile(
    r"^(?![ \t]*>)[^\n]{0,200}?(?:\n(?![ \t]*>)[^\n]{0,200}?)?(?:пишет|написал(?:а|\(а\))?|пише|написав(?:ла|\(ла\))?|написала|"
    r"<[^<>@\s]+@[^<>\s]+>)[ \t]*:[ \t]*\n(?:[ \t]*\n)*[ \t]*>", re.MULTILINE | re.IGNORECASE)
_SIGNATURES = re.compile(
    r"^[ \t]*(?:С уважением|С наилучшими пожеланиями|Всего доброго|З повагою|З найкращими побажаннями|"
    r"Отправлено с (?:iPhone|iPad|моего|мобильного)|Отправлено из мобильной|Надіслано з (?:iPhone|iPad|мого)|"
    r"Sent from my)\b.*", re.MULTILINE | re.IGNORECASE | re.DOTALL)
_FORWARD_MARKERS = re.compile(
    r"^[ \t]*-{2,}[ \t]*(?:Forwarded message|Begin forwarded message|Пересылаемое сообщение|"
    r"Пересланное сообщение|Пересылаемое письмо|Переслане повідомлення|Пересланий лист)[ \t]*-{0,}[ \t]*$"
    r"|^[ \t]*Begin forwarded message:", re.MULTILINE | re.IGNORECASE)
_FORWARD_SUBJECT = re.compile(r"^\s*(?:fwd?|fw|пересл|переслано|пересилання)\s*:", re.IGNORECASE)


def _earliest(text: str, *patterns: re.Pattern[str]) -> int:
    starts = [m.start() for m in (p.search(text) for p in patterns) if m]
    return min(starts) if starts else len(text)


def cut_cyrillic_quotes(text: str) -> str:
    """`text` up to the first Russian/Ukrainian quote header or separator (the rules the library lacks)."""
    return text[:_earliest(text, _OUTLOOK_BLOCK, _SEPARATORS, _WROTE)]


def latest_reply(text: str) -> str:
    """What the sender wrote above the quoted message, without the signature; the whole text when nothing is left
    (a message that is all quote is kept rather than lost)."""
    text = text.replace("\r\n", "\n")
    mine = cut_cyrillic_quotes(text)
    parsed = EmailMessage(text=mine, languages=["en", "de"], keep_hyphen_lists=True).read()
    reply = parsed.replies[0].body if parsed.replies else mine
    reply = _SIGNATURES.sub("", reply)
    return _without_trailing_quote(reply) or text.strip()


def _without_trailing_quote(text: str) -> str:
    """`text` without the "> " lines (and blank ones) it ends with."""
    lines = text.strip().split("\n")
    while lines and (not lines[-1].strip() or lines[-1].lstrip().startswith(">")):
        lines.pop()
    return "\n".join(lines).strip()


def is_forward(subject: str, text: str) -> bool:
    """Whether the message forwards another (its subject says so, or its text starts a forwarded message)."""
    return bool(_FORWARD_SUBJECT.match(subject or "") or _FORWARD_MARKERS.search(text or ""))
