"""Text made safe for a native embedding engine: the one function every encoder's input goes through.

The engines behind kb's encoders are native code (a C engine, ONNX Runtime, torch, Rust tokenizers) fed with text
typed by anyone. Some size their buffers from the UTF-8 length of the input and then normalise it themselves: a
compatibility character such as U+FDFA (3 bytes, 18 code points after NFKC) then writes past the end of a buffer.
`prepare_text` hands them text that is already NFKC-normalised (it does not grow again: the E5 engine's table maps
no character of a normalised text to more than one code point), valid UTF-8, free of control characters, with
single spaces, and bounded in code points and in bytes.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Iterable

# No model reads more than 512 tokens of a text (all-MiniLM-L6-v2 stops at 256; multilingual-e5-small's window is
# 512), and no piece of their vocabularies is longer than 18 code points (all-MiniLM-L6-v2: "telecommunications")
# or 48 UTF-8 bytes (the sentencepiece vocabularies of multilingual-e5-small and use-multilingual-v3). With one
# separating space per token, these bounds keep everything a 512-token window can hold. (use-multilingual-v3
# averages over all its tokens; a passage longer than this is far beyond `section_max_words`.)
MAX_TOKENS = 512
LONGEST_PIECE_CODE_POINTS = 18
LONGEST_PIECE_BYTES = 48
MAX_CODE_POINTS = MAX_TOKENS * (LONGEST_PIECE_CODE_POINTS + 1)  # 9,728
MAX_BYTES = MAX_TOKENS * (LONGEST_PIECE_BYTES + 1)  # 25,088
# NFKC composes at most 4 code points into one (U+1F82 is four in NFKD), so the first 4 × MAX_CODE_POINTS code
# points of the input hold all that survives the bound; cutting there first keeps the work linear in the bound.
MAX_COMPOSED = 4
# Unicode's stream-safe format (UAX #15): no more than 30 non-starters (combining marks) in a row. Normalisation
# reorders a run of marks in quadratic time; a longer stack of marks carries nothing a model reads.
MAX_NON_STARTERS = 30
# Any input longer than this is cut before anything else, whatever it holds (whitespace runs included).
MAX_INPUT_CODE_POINTS = 16 * MAX_CODE_POINTS

_SURROGATES = re.compile("[\ud800-\udfff]")  # lone halves: not encodable as UTF-8
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0 and C1 controls (a NUL ends a C string)


def prepare_text(text: object) -> str:
    """`text` NFKC-normalised, without lone surrogates, control characters or stacks of more than 30 combining
    marks, whitespace collapsed to single spaces, and at most MAX_CODE_POINTS code points and MAX_BYTES UTF-8
    bytes (cut at a character boundary). Never raises; preparing a prepared text changes nothing."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _CONTROL.sub(" ", _SURROGATES.sub("", text[:MAX_INPUT_CODE_POINTS]))
    text = " ".join(text.split())
    if not text.isascii():  # ASCII is already NFKC, has no marks, and has one byte per code point
        text = _stream_safe(text[:MAX_COMPOSED * MAX_CODE_POINTS])
        text = " ".join(unicodedata.normalize("NFKC", text).split())
    text = text[:MAX_CODE_POINTS]
    encoded = text.encode("utf-8")
    if len(encoded) > MAX_BYTES:
        text = encoded[:MAX_BYTES].decode("utf-8", "ignore")
    return text.rstrip()


def prepare_texts(texts: Iterable[object]) -> list[str]:
    """`prepare_text` of each text, in order. A single string is one text, not a sequence of characters."""
    if isinstance(texts, str):
        texts = [texts]
    return [prepare_text(t) for t in texts]


def _stream_safe(text: str) -> str:
    """`text` less the combining marks beyond MAX_NON_STARTERS in a row, counted in its compatibility
    decomposition (a character such as U+0F73 decomposes into marks only)."""
    kept, run = [], 0
    for ch in text:
        leading, trailing, only_marks = _non_starters(ch)
        if run + leading > MAX_NON_STARTERS:
            continue
        run = run + leading if only_marks else trailing
        kept.append(ch)
    return "".join(kept)


@lru_cache(maxsize=8192)
def _non_starters(ch: str) -> tuple[int, int, bool]:
    """Combining marks at the start and at the end of the NFKD of `ch`, and whether it is marks only."""
    decomposed = unicodedata.normalize("NFKD", ch)
    marks = [unicodedata.combining(c) != 0 for c in decomposed]
    if all(marks):
        return len(marks), len(marks), True
    return marks.index(False), marks[::-1].index(False), False
