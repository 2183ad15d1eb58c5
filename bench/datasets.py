"""Evaluation help centers built from two real customer-query data sets.

    .venv/bin/python bench/datasets.py banking77 --out /tmp/b77 [--questions 10] [--seed 13] [--ood 500]
    .venv/bin/python bench/datasets.py bitext --out /tmp/bitext

Each data set labels customer queries with intents. For every intent this module writes one kb article
(hand-written help text, kept in bench/data/<name>_help_center.yml, plus `--questions` of that intent's real
queries as the article's `questions`), and an evaluation file of every remaining query with the article that
answers it, followed by out-of-scope queries taken from the *other* data set, which the help center has no
article for:

    DIR/articles/categories.yml
    DIR/articles/<category>/<intent-id>.md
    DIR/eval.jsonl      {"query": ..., "expected": "<intent-id>" | null, "category": "<category-id>" | null}
    DIR/README.md       data set, licence, seed and counts

The in-scope rows of eval.jsonl are shuffled with the seed (both CSVs are sorted by intent, so the first rows
of the file are a fair sample of all intents); the out-of-scope rows follow them. Everything is deterministic
for a given seed. The data stays where it is (`../shared/data` from the project root, or `--data DIR`):
nothing is copied into the repository, and nothing is written outside `--out DIR`.

Data sets
---------
* banking77: PolyAI's Banking77 train split (Casanueva et al. 2020, "Efficient Intent Detection with Dual
  Sentence Encoders"), CC BY 4.0: 10,003 online-banking queries in 77 intents. The help center is a fictional
  online bank, "Northwind Bank"; the 77 intents are grouped into the 10 categories of BANKING77_CATEGORIES.
* bitext: Bitext's customer-service sample data set, CDLA-Sharing-1.0: 8,175 e-commerce utterances in
  27 intents and the data set's own 11 categories. The help center is a fictional online shop, "Meadowlane".

Queries are put on one line (whitespace, including line breaks inside CSV cells, collapsed) and identical
queries are kept once: the Bitext utterances, and four Banking77 texts that differ from another only by
surrounding line breaks (each pair has the same intent).

Out-of-scope exclusions
-----------------------
An out-of-scope query must have no answer in the help center, so intents of the other data set that the help
center does answer are left out of the out-of-scope pool.

For the banking77 center (out-of-scope queries come from Bitext), these Bitext intents are excluded:

* refunds: `check_refund_policy`, `get_refund`, `track_refund` -- Northwind answers refund requests and
  missing refunds (request-refund, refund-not-showing-up).
* payments and invoices: `payment_issue`, `check_payment_methods`, `check_invoice`, `get_invoice` -- card
  payments, declined or pending payments, accepted cards and statements are what a bank help center is about.
* account: `create_account`, `delete_account`, `edit_account`, `recover_password`, `registration_problems`,
  `switch_account` -- Northwind answers opening and closing an account, editing personal details, a forgotten
  passcode and identity checks; a generic "I can't sign up / log in / switch account" question is in scope.
* contact and feedback: `contact_customer_service`, `contact_human_agent`, `complaint`, `review` -- every help
  center answers "how do I reach you" and "how do I complain"; they are not out of scope for a bank.

For the bitext center (out-of-scope queries come from Banking77), these Banking77 intents are excluded:

* refunds: `request_refund`, `Refund_not_showing_up`, `reverted_card_payment?` (a payment sent back to the
  customer), `transaction_charged_twice` (the customer wants the duplicate charge back) -- Meadowlane answers
  getting, tracking and the policy of refunds.
* payments: `card_payment_fee_charged`, `card_payment_not_recognised`, `card_payment_wrong_exchange_rate`,
  `declined_card_payment`, `pending_card_payment`, `direct_debit_payment_not_recognised`,
  `extra_charge_on_statement`, `apple_pay_or_google_pay`, `card_acceptance`, `supported_cards_and_currencies`
  -- a shop answers payment problems, unexpected charges and which cards and wallets it accepts.
* account creation and closure: `age_limit` (who may open an account), `country_support` (where one can
  sign up), `terminate_account`, `edit_personal_details` -- Meadowlane answers creating, editing and deleting
  an account.
* password and passcode: `passcode_forgotten` -- Meadowlane answers recovering a password.
* contact: no Banking77 intent is about contacting the bank, so none is excluded for that reason.

Other intents stay in the pool even when their wording is close to the other domain (a card that has not
arrived, cancelling a transfer): the help center has no article that answers them, which makes them useful
hard negatives.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_QUESTIONS = 10
DEFAULT_SEED = 13
DEFAULT_OOD = 500
DATASETS = ("banking77", "bitext")
MARKER = ".kb-bench-dataset"  # written into DIR/articles, so a rerun may replace a folder it generated itself


@dataclass(frozen=True)
class Intent:
    """Hand-written help text for one intent: the article's title, one-line description, intro and steps."""

    category: str
    title: str
    description: str
    summary: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """One labelled query of a data set."""

    text: str
    intent: str  # the data set's own label


@dataclass(frozen=True)
class Dataset:
    """A data set and the help center written for it."""

    name: str
    title: str
    brand: str
    source: str  # path under the data folder
    licence: str
    citation: str
    help_file: str  # bench/data/<help_file>: category id -> title and description, intent label -> help text
    ood_source: str  # the other data set's name
    ood_excluded: frozenset[str]  # the other data set's intents left out of the out-of-scope pool

    @cached_property
    def _help(self) -> tuple[dict[str, tuple[str, str]], dict[str, Intent]]:
        return _help_center(self.help_file)

    @property
    def categories(self) -> dict[str, tuple[str, str]]:
        """Category id -> (title, description)."""
        return self._help[0]

    @property
    def intents(self) -> dict[str, Intent]:
        """The data set's intent label -> help text."""
        return self._help[1]


@dataclass
class Summary:
    """What `generate` wrote."""

    dataset: str
    out: Path
    articles: int
    categories: int
    questions: int
    in_scope: int
    out_of_scope: int
    seed: int
    per_category: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "out": str(self.out), "articles": self.articles,
                "categories": self.categories, "questions": self.questions, "in_scope": self.in_scope,
                "out_of_scope": self.out_of_scope, "seed": self.seed, "per_category": self.per_category}


def _help_center(file_name: str) -> tuple[dict[str, tuple[str, str]], dict[str, Intent]]:
    """The hand-written categories and articles of one evaluation help center (bench/data/<file_name>)."""
    data = yaml.safe_load((DATA_DIR / file_name).read_text(encoding="utf-8"))
    categories = {cid: (c["title"], c["description"]) for cid, c in data["categories"].items()}
    intents = {label: Intent(i["category"], i["title"], i["description"], i["summary"], tuple(i["steps"]))
               for label, i in data["intents"].items()}
    return categories, intents


# ----------------------------------------------------------------------------------------------------------
# Data sets
# ----------------------------------------------------------------------------------------------------------

BANKING77 = Dataset(
    name="banking77", title="Banking77 (train split)", brand="Northwind Bank",
    source="banking77/train.csv", licence="CC BY 4.0",
    citation="Casanueva, Temčinas, Gerz, Henderson, Vulić (PolyAI), \"Efficient Intent Detection with Dual "
             "Sentence Encoders\", 2020",
    help_file="banking77_help_center.yml", ood_source="bitext",
    ood_excluded=frozenset({
        "check_refund_policy", "get_refund", "track_refund", "payment_issue", "check_payment_methods",
        "check_invoice", "get_invoice", "delete_account", "create_account", "edit_account",
        "recover_password", "registration_problems", "switch_account", "contact_customer_service",
        "contact_human_agent", "complaint", "review"}),
)

BITEXT = Dataset(
    name="bitext", title="Bitext customer-service sample data set (8k)", brand="Meadowlane",
    source="bitext-customer-service/bitext_8k_customer_service.csv", licence="CDLA-Sharing-1.0",
    citation="Bitext Innovations, Customer Service sample training data set for English, 2022",
    help_file="bitext_help_center.yml", ood_source="banking77",
    ood_excluded=frozenset({
        "request_refund", "Refund_not_showing_up", "reverted_card_payment?", "transaction_charged_twice",
        "card_payment_fee_charged", "card_payment_not_recognised", "card_payment_wrong_exchange_rate",
        "declined_card_payment", "pending_card_payment", "direct_debit_payment_not_recognised",
        "extra_charge_on_statement", "apple_pay_or_google_pay", "card_acceptance",
        "supported_cards_and_currencies", "age_limit", "country_support", "terminate_account",
        "edit_personal_details", "passcode_forgotten"}),
)

SPECS: dict[str, Dataset] = {"banking77": BANKING77, "bitext": BITEXT}


def intent_id(label: str) -> str:
    """The kebab-case article id of a data set label: 'Refund_not_showing_up' -> 'refund-not-showing-up'."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def clean(text: str) -> str:
    """One query on one line: whitespace (including the line breaks of multi-line CSV cells) collapsed."""
    return " ".join(text.split())


def load_queries(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[Query]:
    """Every labelled query of a data set, in file order; empty texts dropped, identical texts kept once."""
    spec = SPECS[name]
    path = data_dir / spec.source
    if not path.is_file():
        raise FileNotFoundError(f"{path}: data file not found (give the data folder with --data)")
    text_column = "text" if name == "banking77" else "utterance"
    label_column = "category" if name == "banking77" else "intent"
    queries: list[Query] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            text = clean(row[text_column] or "")
            if text and text not in seen:
                seen.add(text)
                queries.append(Query(text, row[label_column].strip()))
    return queries


def _check_spec(spec: Dataset, queries: list[Query], questions: int) -> dict[str, list[str]]:
    """Queries by intent label, after checking the hand-written intents match the data set exactly."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for query in queries:
        by_intent[query.intent].append(query.text)
    missing = sorted(set(by_intent) - set(spec.intents))
    unknown = sorted(set(spec.intents) - set(by_intent))
    if missing or unknown:
        raise ValueError(f"{spec.name}: intents without help text {missing}, "
                         f"help text for unknown intents {unknown}")
    for label, intent in spec.intents.items():
        if intent.category not in spec.categories:
            raise ValueError(f"{spec.name}: intent {label!r} has undeclared category {intent.category!r}")
        if not 2 <= len(intent.steps) <= 4:
            raise ValueError(f"{spec.name}: intent {label!r} needs 2-4 steps, has {len(intent.steps)}")
        if len(by_intent[label]) <= questions:
            raise ValueError(f"{spec.name}: intent {label!r} has only {len(by_intent[label])} queries")
    if len({intent_id(label) for label in spec.intents}) != len(spec.intents):
        raise ValueError(f"{spec.name}: two intents map to the same article id")
    return by_intent


def render_article(intent: Intent, questions: list[str]) -> str:
    """The Markdown article: YAML front matter (safe_dump quotes every string as YAML needs) and body."""
    front = yaml.safe_dump({"title": intent.title, "category": intent.category, "questions": questions,
                            "description": intent.description},
                           sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False)
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(intent.steps, start=1))
    return f"---\n{front}---\n{intent.summary}\n\n## What to do\n\n{steps}\n"


def _prepare_articles_dir(articles: Path) -> None:
    """Empty the articles folder of an earlier run; refuse a non-empty folder this module did not write."""
    if articles.exists() and any(articles.iterdir()):
        if not (articles / MARKER).is_file():
            raise FileExistsError(f"{articles} exists and was not written by bench/datasets.py; "
                                  "choose an empty or new --out folder")
        shutil.rmtree(articles)
    articles.mkdir(parents=True, exist_ok=True)
    (articles / MARKER).write_text("generated by bench/datasets.py; the folder is replaced on every run\n",
                                   encoding="utf-8")


def ood_pool(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """Out-of-scope candidates for `name`: the other data set's queries minus the excluded intents."""
    spec = SPECS[name]
    return [q.text for q in load_queries(spec.ood_source, data_dir) if q.intent not in spec.ood_excluded]


def generate(name: str, out: Path, *, questions: int = DEFAULT_QUESTIONS, seed: int = DEFAULT_SEED,
             ood: int = DEFAULT_OOD, data_dir: Path = DEFAULT_DATA_DIR) -> Summary:
    """Write the help center, eval.jsonl and README.md of data set `name` into `out`; return the counts."""
    spec = SPECS[name]
    by_intent = _check_spec(spec, load_queries(name, data_dir), questions)
    known = {text.casefold() for texts in by_intent.values() for text in texts}
    pool = [text for text in ood_pool(name, data_dir) if text.casefold() not in known]
    if ood > len(pool):
        raise ValueError(f"{name}: asked for {ood} out-of-scope queries, the pool has {len(pool)}")
    out = Path(out)
    articles = out / "articles"
    _prepare_articles_dir(articles)

    categories = {cid: {"title": title, "description": description}
                  for cid, (title, description) in spec.categories.items()}
    (articles / "categories.yml").write_text(
        yaml.safe_dump(categories, sort_keys=False, allow_unicode=True, width=1_000_000), encoding="utf-8")

    rng = random.Random(seed)
    in_scope: list[dict] = []
    per_category: Counter[str] = Counter()
    for label in sorted(spec.intents):
        intent, texts = spec.intents[label], by_intent[label]
        chosen = set(rng.sample(range(len(texts)), questions))
        picked = [texts[i] for i in sorted(chosen)]
        path = articles / intent.category / f"{intent_id(label)}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_article(intent, picked), encoding="utf-8")
        per_category[intent.category] += 1
        in_scope += [{"query": text, "expected": intent_id(label), "category": intent.category}
                     for i, text in enumerate(texts) if i not in chosen]
    rng.shuffle(in_scope)

    out_of_scope = [{"query": text, "expected": None, "category": None}
                    for text in random.Random(seed).sample(pool, ood)]

    with (out / "eval.jsonl").open("w", encoding="utf-8") as handle:
        for row in in_scope + out_of_scope:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    summary = Summary(dataset=name, out=out, articles=len(spec.intents), categories=len(spec.categories),
                      questions=questions, in_scope=len(in_scope), out_of_scope=len(out_of_scope), seed=seed,
                      per_category={cid: per_category[cid] for cid in spec.categories})
    (out / "README.md").write_text(_readme(spec, summary, len(pool)), encoding="utf-8")
    return summary


def _readme(spec: Dataset, summary: Summary, pool: int) -> str:
    other = SPECS[spec.ood_source]
    rows = "\n".join(f"| `{cid}` | {spec.categories[cid][0]} | {count} |"
                     for cid, count in summary.per_category.items())
    return f"""# {spec.brand} evaluation help center ({spec.name})

Generated by `bench/datasets.py {spec.name} --out DIR --questions {summary.questions} --seed {summary.seed} \
--ood {summary.out_of_scope}`. Do not edit: rerunning the command replaces `articles/`.

- Data set: {spec.title}, `shared/data/{spec.source}`. {spec.citation}.
- Licence: {spec.licence}. The `questions` of the articles and the queries of `eval.jsonl` are taken from the
  data set; the titles, descriptions and article bodies are written for this fictional help center.
- Out-of-scope queries: {other.title} (`shared/data/{other.source}`), licence {other.licence}.
- Seed: {summary.seed} (`random.Random(seed)` picks the questions, shuffles the in-scope rows and samples the
  out-of-scope rows).

## Counts

| what | count |
|---|---|
| articles (one per intent) | {summary.articles} |
| categories | {summary.categories} |
| questions per article | {summary.questions} |
| eval rows in scope (every query not used as a question) | {summary.in_scope} |
| eval rows out of scope (`expected: null`) | {summary.out_of_scope} (sampled from a pool of {pool}) |

| category | title | articles |
|---|---|---|
{rows}

## Files

- `articles/`: `categories.yml` and one article per intent, `articles/<category>/<intent-id>.md`.
- `eval.jsonl`: one `{{"query", "expected", "category"}}` object per line: the in-scope rows (shuffled), then
  the out-of-scope rows, whose `expected` and `category` are null. The intents of the other data set that this
  help center does answer are left out of the out-of-scope pool (see the docstring of `bench/datasets.py`):
  {", ".join(f"`{label}`" for label in sorted(spec.ood_excluded))}.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("--out", type=Path, required=True,
                        help="Output folder (articles/, eval.jsonl, README.md).")
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, help="Questions per article.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--ood", type=int, default=DEFAULT_OOD, help="Out-of-scope rows in eval.jsonl.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="Folder of the data sets.")
    args = parser.parse_args(argv)
    if args.questions < 0 or args.ood < 0:
        parser.error("--questions and --ood must not be negative")
    try:
        summary = generate(args.dataset, args.out, questions=args.questions, seed=args.seed, ood=args.ood,
                           data_dir=args.data)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{summary.dataset}: {summary.articles} articles in {summary.categories} categories, "
          f"{summary.questions} questions each -> {summary.out}")
    print(f"eval.jsonl: {summary.in_scope} in scope + {summary.out_of_scope} out of scope = "
          f"{summary.in_scope + summary.out_of_scope} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
