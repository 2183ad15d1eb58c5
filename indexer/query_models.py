"""The query models a serving process loads for a built index, prepared when the index is built.

With `query_runtime = "onnx"` a serving process answers queries from files in `model_cache_dir`: the ONNX export
of all-MiniLM-L6-v2 (made through torch: 5–6 s, with torch's import) and multilingual-e5-small's query graph
(about a second). A process that finds them missing prepares them first, so the first start after a fresh install
would wait for them, and several workers starting at once would each prepare them. `kb build` prepares them instead,
for the index's model and its second opinion's, right after publishing the index: a process that finds them ready
loads each in a fraction of a second. A model that cannot be prepared leaves the build as it is (the index is
already published) with a warning: the serving process prepares it, or falls back, as it would have.
"""
from __future__ import annotations

from kb.config import Settings
from kb.embedding.encoders import load_encoder
from kb.errors import KbError
from kb.index.manifest import Manifest, read_manifest


def serving_models(manifest: Manifest) -> list[str]:
    """The models whose query vectors the index's searches need: its own, and its second opinion's."""
    second = manifest.second_opinion.get("model") if manifest.second_opinion else None
    return [manifest.model_name] + ([str(second)] if second and second != manifest.model_name else [])


def prepare_query_models(settings: Settings) -> list[str]:
    """Load each serving model of the index at `settings.index_dir` and embed a query, as a serving process does
    when it starts, so that what it needs from `model_cache_dir` exists; the warnings for those that could not be
    prepared."""
    if settings.query_runtime != "onnx":
        return []  # queries through the models' own engines: nothing is kept on disk for them
    manifest = read_manifest(settings.index_dir)
    warnings = []
    for model in serving_models(manifest):
        try:
            encoder = load_encoder(model, settings.embedding_threads, settings.embedding_batch_size,
                                   settings.embedding_precision, settings.query_runtime, settings.model_cache_dir)
            encoder.encode_queries(["warm-up"])  # a query model may be made on its first query
        except KbError as exc:
            warnings.append(f"the query model {model} was not prepared for serving ({exc}); the portal will "
                            "prepare it when it starts")
    return warnings
