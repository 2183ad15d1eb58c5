"""Confidence's trade-off: at each confidence threshold, the answerable questions the contact form shows against the
out-of-scope questions it offers an answer to.

    .venv/bin/python bench/confidence_tradeoff.py --center sample --models multilingual-e5-small --public-oos 800
    .venv/bin/python bench/confidence_tradeoff.py --center long --models all-MiniLM-L6-v2 --public-oos 800

A help center (`sample`: articles/ with bench/data/dev_questions.jsonl; `long`: bench/data/long_center with its
questions) is built once per model (`--work` keeps the index for the next run). Then, for each value of the
`confidence_threshold` setting (0.5, the default, is the operating point the build's calibration places), every
question is searched as the contact form searches it (bench/deflection.py), and so are `--public-oos N` questions
of each public data set (Banking77: online banking; Bitext: e-commerce), in English, leaving out the intents the
help center answers. Reported per threshold: the answerable questions shown (an answering article among the form's
suggestions, and confident), the help center's own out-of-scope questions answered confidently, and the public
questions offered confidently. The 0.5 row is what the product does; the others are what moving the threshold
would buy and cost. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.datasets import DEFAULT_DATA_DIR  # noqa: E402
from bench.deflection import PUBLIC_ANSWERED, form_search, outcome, public_sample  # noqa: E402
from bench.multilingual import built_service, load_rows  # noqa: E402
from bench.report import write_report  # noqa: E402
from search.service import SearchService  # noqa: E402

# Public intents the long-article center answers (read from its articles): accounts (sign-up, settings and closing,
# passwords, a lost phone), invoices, the cards it accepts, cancelling, refunds and a charge made twice.
LONG_PUBLIC_ANSWERED = {
    "banking77": {"passcode_forgotten", "terminate_account", "edit_personal_details", "lost_or_stolen_phone",
                  "visa_or_mastercard", "supported_cards_and_currencies", "request_refund", "Refund_not_showing_up",
                  "transaction_charged_twice"},
    "bitext": {"create_account", "delete_account", "edit_account", "switch_account", "recover_password",
               "registration_problems", "check_invoice", "get_invoice", "check_payment_methods", "payment_issue",
               "get_refund", "check_refund_policy", "track_refund", "check_cancellation_fee"},
}
CENTERS = {
    "sample": (ROOT / "articles", ROOT / "bench" / "data" / "dev_questions.jsonl", PUBLIC_ANSWERED),
    "long": (ROOT / "bench" / "data" / "long_center", ROOT / "bench" / "data" / "long_center_questions.jsonl",
             LONG_PUBLIC_ANSWERED),
}
THRESHOLDS = (0.5, 0.47, 0.45, 0.43, 0.4, 0.38, 0.36, 0.34, 0.3)


def offered(service: SearchService, text: str) -> bool:
    """Whether the contact form offers an answer to `text` (in English) confidently."""
    response = form_search(service, text, "en")
    return response.confident and bool(response.hits)


def at_threshold(service: SearchService, threshold: float, rows: list[dict], public: dict[str, list]) -> dict:
    """The figures of one threshold (the service searches with it, and is left so)."""
    service.settings = dataclasses.replace(service.settings, confidence_threshold=threshold)
    results = [(bool(row["expected"]), outcome(service, row)) for row in rows]
    answerable = [r for a, r in results if a]
    out_of_scope = [r for a, r in results if not a]
    figures = {"threshold": threshold,
               "answerable_shown": round(sum(r["shown"] for r in answerable) / max(1, len(answerable)), 3),
               "out_of_scope_confident": round(sum(r["confident"] and bool(r["first"]) for r in out_of_scope)
                                               / max(1, len(out_of_scope)), 3)}
    for name, queries in public.items():
        figures[name] = round(sum(offered(service, q.text) for q in queries) / max(1, len(queries)), 3)
    return figures


def run(model: str, center: str, work: Path, public_oos: int, data_dir: Path) -> dict:
    articles, questions, answered = CENTERS[center]
    rows = load_rows(questions)
    service, _encoder, _report, _seconds = built_service(model, articles, work / center)
    public = {name: public_sample(name, public_oos, data_dir, answered=intents)
              for name, intents in answered.items()} if public_oos else {}
    service.prime([" ".join(r["query"].split()) for r in rows] + [q.text for qs in public.values() for q in qs])
    return {"answerable": sum(bool(r["expected"]) for r in rows),
            "out_of_scope": sum(not r["expected"] for r in rows),
            "public": {name: len(qs) for name, qs in public.items()},
            "thresholds": [at_threshold(service, t, rows, public) for t in THRESHOLDS]}


def print_table(center: str, results: dict) -> None:
    for model, result in results.items():
        names = list(result["public"])
        print(f"\n{center} help center, {model}: {result['answerable']} answerable, {result['out_of_scope']} out of "
              f"scope" + "".join(f", {n} {name}" for name, n in result["public"].items()))
        print(f"{'threshold':>9s} {'shown':>6s} {'out-of-scope':>12s}" + "".join(f" {n:>10s}" for n in names))
        for f in result["thresholds"]:
            print(f"{f['threshold']:>9.2f} {f['answerable_shown']:>6.3f} {f['out_of_scope_confident']:>12.3f}"
                  + "".join(f" {f[n]:>10.3f}" for n in names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--center", choices=sorted(CENTERS), default="sample")
    parser.add_argument("--models", nargs="+", default=["multilingual-e5-small"])
    parser.add_argument("--work", type=Path, help="keep the indexes here (reused by the next run)")
    parser.add_argument("--public-oos", type=int, default=0, metavar="N",
                        help="also search N queries of each public data set, out of scope here")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="Folder of the public data sets.")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-tradeoff-") as tmp:
        for model in args.models:
            results[model] = run(model, args.center, args.work or Path(tmp), args.public_oos, args.data)
            print(f"{model}: {json.dumps(results[model]['thresholds'][0])}", flush=True)
    print_table(args.center, results)
    write_report(args.out or ROOT / "bench" / "out" / f"confidence_tradeoff_{args.center}.json", results)


if __name__ == "__main__":
    main()
