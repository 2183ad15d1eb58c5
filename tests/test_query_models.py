"""`kb build` prepares the query models a serving process will load for the new index (indexer/query_models.py)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from indexer import query_models
from kb.config import Settings
from kb.embedding import encoders as encoder_module
from kb.errors import EncoderError
from tests.fakes import HashingEncoder

E5 = "multilingual-e5-small"
MINILM = "all-MiniLM-L6-v2"


def manifest(model: str, second: str | None = None):
    return SimpleNamespace(model_name=model, second_opinion={"model": second, "dimension": 384} if second else {})


def test_the_serving_models_are_the_index_model_and_its_second_opinion():
    assert query_models.serving_models(manifest(E5, MINILM)) == [E5, MINILM]
    assert query_models.serving_models(manifest(MINILM)) == [MINILM]


@pytest.fixture
def loads(monkeypatch):
    """The loads of every encoder as (name, query runtime, cache folder); 'broken' fails to load."""
    seen: list[tuple[str, str, Path]] = []

    def fake(name):
        def load(threads, batch, precision, query_runtime="torch", cache_dir=None, **options):
            seen.append((name, query_runtime, cache_dir))
            if name == "broken":
                raise EncoderError("model broken: weights missing")
            return HashingEncoder()
        return load
    for name in ("fake-a", "fake-b", "broken"):
        monkeypatch.setitem(encoder_module.ENCODERS, name, fake(name))
    return seen


def test_each_serving_model_is_loaded_as_a_server_loads_it(monkeypatch, loads, tmp_path: Path):
    monkeypatch.setattr(query_models, "read_manifest", lambda directory: manifest("fake-a", "fake-b"))
    settings = Settings(index_dir=tmp_path / "index", model_cache_dir=tmp_path / "models", query_runtime="onnx")
    assert query_models.prepare_query_models(settings) == []
    assert loads == [("fake-a", "onnx", tmp_path / "models"), ("fake-b", "onnx", tmp_path / "models")]


def test_a_model_that_cannot_be_prepared_is_a_warning_and_the_others_are_prepared(monkeypatch, loads, tmp_path):
    monkeypatch.setattr(query_models, "read_manifest", lambda directory: manifest("broken", "fake-b"))
    settings = Settings(index_dir=tmp_path / "index", model_cache_dir=tmp_path / "models", query_runtime="onnx")
    (warning,) = query_models.prepare_query_models(settings)
    assert "broken" in warning and "weights missing" in warning and "when it starts" in warning
    assert [name for name, _, _ in loads] == ["broken", "fake-b"]


def test_queries_through_the_engines_need_nothing_prepared(monkeypatch, loads, tmp_path: Path):
    monkeypatch.setattr(query_models, "read_manifest", lambda directory: manifest("fake-a", "fake-b"))
    settings = Settings(index_dir=tmp_path / "index", model_cache_dir=tmp_path / "models", query_runtime="torch")
    assert query_models.prepare_query_models(settings) == [] and loads == []


def test_the_real_models_files_are_made_once_for_the_next_processes(monkeypatch, tmp_path: Path):
    monkeypatch.setattr(query_models, "read_manifest", lambda directory: manifest(E5, MINILM))
    settings = Settings(index_dir=tmp_path / "index", model_cache_dir=tmp_path / "models", query_runtime="onnx",
                        embedding_threads=1)
    assert query_models.prepare_query_models(settings) == []
    made = {path.name: path.stat().st_mtime_ns for path in (tmp_path / "models").glob("*.onnx")}
    assert sorted(name.split("-")[0] for name in made) == ["all", "multilingual"], made
    assert query_models.prepare_query_models(replace(settings)) == []  # found ready: nothing made again
    assert {path.name: path.stat().st_mtime_ns for path in (tmp_path / "models").glob("*.onnx")} == made
