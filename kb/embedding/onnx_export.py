"""Query embeddings through ONNX Runtime: the same weights as the torch model, about three times faster per query.

A sentence-transformers folder (BERT-style encoder with mean pooling) is exported once with torch into a cache
folder, checked against torch on a few sentences, and reused by every later process, which then never imports
torch to answer queries.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.errors import EncoderError

CHECK_SENTENCES = ["How do I reset my password?", "Принтер не печатает после обновления",
                   "vpn connects but shared drives are missing", "x"]
MIN_COSINE = 0.999


def cached_model_path(name: str, model_dir: Path, cache_dir: Path) -> Path:
    """Where the exported model of these weights lives: keyed by the weights file's path, size and time."""
    return keyed_path(cache_dir, name, model_dir / "model.safetensors")


def keyed_path(cache_dir: Path, stem: str, weights: Path, version: str = "") -> Path:
    """`<cache_dir>/<stem>-<key>.onnx`, the key naming the weights file (its path, size and time) and the `version`
    of what is made from them: a file made from other weights, or made otherwise, is never read."""
    try:
        stat = weights.stat()
    except OSError as exc:
        raise EncoderError(f"model {stem!r}: cannot read {weights} ({exc})") from None
    key = f"{weights.resolve()}|{stat.st_size}|{stat.st_mtime_ns}" + (f"|{version}" if version else "")
    return Path(cache_dir) / f"{stem}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.onnx"


@contextlib.contextmanager
def staged_file(target: Path):
    """A temporary path beside `target` that becomes `target` when the block ends without an exception (atomically:
    processes making the same file at once are harmless) and is removed otherwise."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def export(name: str, model_dir: Path, target: Path, threads: int = 1) -> Path:
    """Export the model with mean pooling and L2 normalisation in the graph; verify it against torch."""
    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise EncoderError(f"cannot export model {name!r}: {exc}") from None
    if threads > 0:
        torch.set_num_threads(threads)
    print(f"Preparing the ONNX query model for {name} (once) …", file=sys.stderr, flush=True)
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model = _pooled(AutoModel.from_pretrained(str(model_dir))).eval()
    sample = tokenizer(CHECK_SENTENCES, padding=True, return_tensors="pt")
    inputs = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with staged_file(target) as tmp:  # kept only when it agrees with torch
        with torch.no_grad(), _quiet_tracing(torch):
            expected = model(*inputs).numpy()
            torch.onnx.export(model, inputs, str(tmp), input_names=names, output_names=["embedding"],
                              dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names},
                                            "embedding": {0: "batch"}},
                              opset_version=17, dynamo=False)
        got = OnnxQueryModel(tmp, model_dir, threads).encode(CHECK_SENTENCES)
        cosine = float((got * expected).sum(axis=1).min())
        if cosine < MIN_COSINE:
            raise EncoderError(f"model {name!r}: the ONNX export differs from torch (cosine {cosine:.4f})")
    return target


@contextlib.contextmanager
def _quiet_tracing(torch):
    """Silence what tracing and the exporter say about the model's Python control flow (screens of
    TracerWarning, UserWarning and deprecation notes that ask nothing of the user); the export is checked
    against torch afterwards instead."""
    exporter_log = logging.getLogger("torch.onnx")
    level = exporter_log.level
    with warnings.catch_warnings():
        for category in (torch.jit.TracerWarning, UserWarning, DeprecationWarning, FutureWarning):
            warnings.simplefilter("ignore", category)
        exporter_log.setLevel(logging.ERROR)
        try:
            yield
        finally:
            exporter_log.setLevel(level)


def _pooled(bert):
    """`bert` with mean pooling over the attention mask and L2 normalisation, as one torch module to export."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                                token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=-1)

    return Pooled(bert)


class OnnxQueryModel:
    """An exported model with the folder's tokenizer; encodes a batch padded to its longest text."""

    def __init__(self, onnx_path: Path, model_dir: Path, threads: int = 1) -> None:
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise EncoderError(f"cannot load {onnx_path}: {exc}") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = onnxruntime.InferenceSession(str(onnx_path), options,
                                                         providers=["CPUExecutionProvider"])
            self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EncoderError(f"cannot load {onnx_path}: {exc}") from None
        self._tokenizer.enable_truncation(_max_tokens(model_dir))
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id("[PAD]") or 0)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        (vectors,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
        return np.asarray(vectors, dtype=np.float32)


def _max_tokens(model_dir: Path) -> int:
    try:
        return int(json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256
