"""The index manifest: read first, written last, plain JSON with sorted keys."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kb.errors import IndexFormatError, IndexMissingError
from kb.index.checksums import digest_text
from kb.index.layout import MANIFEST

FORMAT_VERSION = 7
# What changed in each format, for the message that asks to rebuild an older index.
_CHANGES = {5: "customers' search is now built from public articles alone, with files per audience",
            6: "sections carry their heading path, and sub-sections are embedded with it",
            7: "article pages are read from pages.jsonl, and large vector indexes hold quantized (8- or 4-bit) vectors"}

# Whose articles each audience of a search may see: customers the public ones, agents every one. Each audience has
# its own spelling vocabulary, category classifier and confidence curve, built from what it may see (their files:
# kb.index.layout).
AUDIENCES = {"public": ("public",), "internal": ("public", "internal")}


@dataclass
class Manifest:
    model_name: str
    model_dimension: int
    built_at: str
    articles: dict[str, str]  # article id -> content hash
    counts: dict[str, int]
    format_version: int = FORMAT_VERSION
    git: dict[str, Any] = field(default_factory=dict)
    languages: list[str] = field(default_factory=list)
    vector_index: str = "flat-ip"
    classifier: dict[str, Any] = field(default_factory=dict)
    confidence: dict[str, Any] = field(default_factory=dict)
    # Per audience, the fusion weights fitted on the build's held-out searches (indexer/fusion_fit.py); an index
    # without them is searched with the configured weights.
    fusion: dict[str, Any] = field(default_factory=dict)
    # With a multilingual model, a second model's view of confidence for the text it reads (Latin script):
    # {"model", "dimension", "training_key", "confidence": {audience: curve}} (indexer/second_opinion.py); empty
    # without one.
    second_opinion: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    # Every other file of the index by its path in the folder, with its checksum (kb.index.checksums); empty in an
    # index built before checksums were recorded, which is then loaded unchecked.
    files: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """The manifest's JSON, ending with the checksum of everything before it."""
        data = asdict(self)
        data["model"] = {"name": data.pop("model_name"), "dimension": data.pop("model_dimension")}
        return _canonical({**data, "checksum": digest_text(_canonical(data))})

    def write(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(self.to_json(), encoding="utf-8")


def _canonical(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def read_manifest(directory: Path, any_format: bool = False) -> Manifest:
    """The manifest of the index at `directory`, refused unless of this kb's format (with `any_format`, of any: for
    a build reusing an older index's vectors, whose rows are keyed by the hash of the text they embed)."""
    path = directory / MANIFEST
    if not directory.exists():
        raise IndexMissingError(f"no index at {directory}: run 'kb build' first")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMissingError(f"{directory} has no {MANIFEST}: it is not a built index (run 'kb build')") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise IndexFormatError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise IndexFormatError(f"{path}: not an object; rebuild the index")
    version = data.get("format_version")
    if version != FORMAT_VERSION and not any_format:
        why = f" ({_CHANGES[FORMAT_VERSION]})" if isinstance(version, int) and version < FORMAT_VERSION else ""
        raise IndexFormatError(f"{path}: index format {version!r}, this kb reads format {FORMAT_VERSION}{why}; "
                               "rebuild with 'kb build'")
    checksum = data.pop("checksum", None)  # (none in a manifest written before checksums were)
    if checksum is not None and checksum != digest_text(_canonical(data)):
        raise IndexFormatError(f"{path}: damaged (not the content the build wrote: changed since); rebuild the index")
    try:
        model = data.pop("model")
        return Manifest(model_name=model["name"], model_dimension=int(model["dimension"]), **data)
    except (KeyError, TypeError) as exc:
        raise IndexFormatError(f"{path}: incomplete manifest ({exc})") from None
