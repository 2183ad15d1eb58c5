"""Community answers beside the articles: does search quality hold, and how soon is an accepted answer searchable?

    .venv/bin/python bench/community_search.py --index DIR [--threads 200] [--articles articles]

On a built index of the sample help center (`kb build`; the model is the index's), 200 community threads are made
from the development phrasings (`bench/data/dev_questions.jsonl`: each row's query as the question's title, the
expected article's description as its accepted answer) and indexed with search/community.py as the serving
process does. Then, with and without them merged in (search/community.py `merge`, the configured penalty and floor):
- the golden queries (`articles/queries.yml`): the expected article first, in the top 3, and the first result an
  article;
- the development phrasings themselves, the hardest case (each has a community question with its very words):
  the same figures, and how often a community answer comes above every article;
- how many community answers a list holds, and that `confident` never changes (it is the articles').
And accept -> searchable on a SQLite database holding the threads: one refresh pass (read, embed what is new) after
one more accepted answer, beside a first pass over all of them; a pass runs every `community_index_interval` s.
Writes bench/out/community_search.json; asserts nothing.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bench.report import write_report  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.helpdesk import community as cm  # noqa: E402
from kb.helpdesk.accounts import add_organisation, add_user  # noqa: E402
from kb.helpdesk.community_models import Topic  # noqa: E402
from kb.helpdesk.db import open_database  # noqa: E402
from kb.helpdesk.community_threads import Thread  # noqa: E402
from search.community import KIND, CommunityIndex, merge, refresh_from_database, within_list  # noqa: E402
from search.service import SearchService  # noqa: E402

OUT = ROOT / "bench" / "out" / "community_search.json"


def threads_from(service: SearchService, rows: list[dict], count: int) -> list[Thread]:
    threads = []
    for n, row in enumerate(rows[:count], start=1):
        meta = service.articles[row["expected"][0]]
        answer = f"{meta.description} The article “{meta.title}” walks through it."
        threads.append(Thread(n, row["query"], f"{row['query']}\n\n{answer}", True, False, answer))
    return threads


def score(service: SearchService, index: CommunityIndex | None, queries: list[tuple[str, list[str]]]) -> dict:
    settings = service.settings
    first = top3 = article_first = community_above = listed = confident = 0
    for query, expected in queries:
        service.prime([query])
        response = service.search(query)
        hits = list(response.hits)
        if index is not None:
            vector = service.embed_queries([query])[0]
            found = within_list(index.search(vector, 3, settings.community_search_penalty, -1.0), response.hits,
                                settings.community_search_min_cosine)
            hits = merge(hits, found)
            listed += len(found)
        articles = [h.id for h in hits if getattr(h, "kind", "") != KIND]
        first += bool(articles) and articles[0] in expected
        top3 += any(a in expected for a in articles[:3])
        article_first += bool(hits) and getattr(hits[0], "kind", "") != KIND
        community_above += bool(hits) and getattr(hits[0], "kind", "") == KIND and bool(articles)
        confident += response.confident
    n = len(queries)
    return {"queries": n, "expected_first_article": round(first / n, 3), "expected_in_top3_articles": round(top3 / n, 3),
            "first_result_is_an_article": round(article_first / n, 3),
            "community_above_every_article": round(community_above / n, 3),
            "community_hits_per_list": round(listed / n, 2), "confident": round(confident / n, 3)}


def accept_to_searchable(service: SearchService, threads: list[Thread], settings: Settings) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        _engine, factory = open_database(f"sqlite:///{Path(folder) / 'kb.sqlite3'}")
        with factory.begin() as db:
            add_organisation(db, "Acme")
            ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
            bob = add_user(db, "bob@acme.example", "password-bob", "Acme", "member")
            topic = Topic(slug="help", title="Help")
            db.add(topic)
            db.flush()
            for t in threads:
                question = cm.ask(db, ann, topic, t.title[:200], "As in the title.")
                cm.accept(db, ann, cm.answer(db, bob, question, t.answer))
        index = CommunityIndex()
        start = time.perf_counter()
        full = refresh_from_database(index, factory, service, settings.community_search_min_votes)
        first_pass = time.perf_counter() - start
        with factory.begin() as db:
            ann, bob = db.get(type(ann), ann.id), db.get(type(bob), bob.id)
            question = cm.ask(db, ann, db.get(Topic, topic.id), "Teams camera is black in meetings",
                              "Only in Teams, the camera app works.")
            cm.accept(db, ann, cm.answer(db, bob, question, "Close other apps using the camera, then restart Teams."))
        passes = []
        for _ in range(5):
            start = time.perf_counter()
            done = refresh_from_database(index, factory, service, settings.community_search_min_votes)
            passes.append(time.perf_counter() - start)
            if len(passes) == 1:
                one = done
        found = index.search(service.embed_queries(["teams camera black"])[0], 1, 0.0, -1.0)
        return {"first_pass_s": round(first_pass, 3), "first_pass": full.__dict__,
                "pass_after_one_accept_s": round(passes[0], 4), "pass_after_one_accept": one.__dict__,
                "unchanged_pass_median_s": round(statistics.median(passes[1:]), 4),
                "new_question_found_first": bool(found) and found[0].question_id == max(index_ids(index)),
                "worst_case_accept_to_searchable_s": round(settings.community_index_interval + passes[0], 2)}


def index_ids(index: CommunityIndex) -> list[int]:
    return [t.question_id for t in index._snapshot.threads]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--articles", type=Path, default=ROOT / "articles")
    parser.add_argument("--threads", type=int, default=200)
    args = parser.parse_args()
    settings = Settings(index_dir=args.index, articles_dir=args.articles)
    service = SearchService.load(args.index, settings)
    dev = [json.loads(line) for line in (ROOT / "bench/data/dev_questions.jsonl").read_text().splitlines()
           if line.strip()]
    dev = [r for r in dev if r.get("expected") and all(e in service.articles for e in r["expected"])]
    golden = [(g["query"], [g["expect"]]) for g in yaml.safe_load((args.articles / "queries.yml").read_text())
              if g.get("expect") and g["expect"] != "none"]
    threads = threads_from(service, dev, args.threads)
    index = CommunityIndex()
    start = time.perf_counter()
    index.refresh(threads, lambda texts: service.embed_queries(texts, keep=False), service.manifest.model_name)
    phrasings = [(r["query"], r["expected"]) for r in dev[:args.threads]]
    results = {"model": service.manifest.model_name, "threads": len(threads),
               "embed_threads_s": round(time.perf_counter() - start, 2),
               "penalty": settings.community_search_penalty, "min_cosine": settings.community_search_min_cosine,
               "golden": {"without": score(service, None, golden), "with": score(service, index, golden)},
               "phrasings": {"without": score(service, None, phrasings), "with": score(service, index, phrasings)},
               "accept_to_searchable": accept_to_searchable(service, threads, settings)}
    print(json.dumps(results, indent=2, ensure_ascii=False))
    write_report(OUT, results)


if __name__ == "__main__":
    main()
