"""How long `kb import jekyll` takes on a generated site of 1,000 posts (each with front matter, Liquid, a link to
another post and an image), the first time and again with nothing changed.

    .venv/bin/python bench/import_speed.py [--posts 1000] [--runs 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import write_report  # noqa: E402
from kb.importers import run_import  # noqa: E402

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")
TOPICS = ["password", "printer", "vpn", "invoice", "mailbox", "laptop", "backup", "wifi"]


def generate(root: Path, posts: int) -> None:
    """A Jekyll site of `posts` posts in eight categories; every post links to the next and shows an image."""
    (root / "_posts").mkdir(parents=True)
    (root / "assets").mkdir()
    (root / "_config.yml").write_text("baseurl: /help\n", encoding="utf-8")
    for n in range(posts):
        topic = TOPICS[n % len(TOPICS)]
        (root / "assets" / f"shot-{n}.png").write_bytes(PNG)
        nxt = f"2020-01-01-{TOPICS[(n + 1) % len(TOPICS)]}-{(n + 1) % posts}"
        body = "\n\n".join(f"Paragraph {p} about the {topic} problem number {n}: what to check and what to do "
                           "when it happens again." for p in range(6))
        (root / "_posts" / f"2020-01-01-{topic}-{n}.md").write_text(
            f"---\ntitle: Fixing {topic} problem {n}\ncategories: [{topic}]\ntags: {topic} howto\n"
            f"redirect_from: /old/{n}/\n---\n{body}\n\n![Screen {n}]({{{{ site.baseurl }}}}/assets/shot-{n}.png)\n\n"
            f"## Q: What if {topic} {n} comes back?\n\nSee [the next one]({{% post_url {nxt} %}}#steps).\n",
            encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    first, again = [], []
    with tempfile.TemporaryDirectory() as work:
        site = Path(work) / "site"
        generate(site, args.posts)
        for run in range(args.runs):
            articles = Path(work) / f"articles-{run}"
            start = time.perf_counter()
            summary = run_import("jekyll", site, articles)
            first.append(time.perf_counter() - start)
            assert len(summary.imported) == args.posts, summary.imported[:3]
            start = time.perf_counter()
            summary = run_import("jekyll", site, articles)
            again.append(time.perf_counter() - start)
            assert len(summary.unchanged) == args.posts
    results = {"posts": args.posts, "runs": args.runs,
               "first_import_s": {"median": round(statistics.median(first), 3), "all": [round(x, 3) for x in first]},
               "unchanged_reimport_s": {"median": round(statistics.median(again), 3),
                                        "all": [round(x, 3) for x in again]},
               "posts_per_s": round(args.posts / statistics.median(first))}
    print(f"{args.posts} Jekyll posts: first import {results['first_import_s']['median']:.2f} s "
          f"({results['posts_per_s']} posts/s), again unchanged {results['unchanged_reimport_s']['median']:.2f} s "
          f"(median of {args.runs})")
    write_report(ROOT / "bench" / "out" / "import_speed.json", results)


if __name__ == "__main__":
    main()
