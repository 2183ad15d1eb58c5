"""Synthetic-but-realistic help centers of any size, generated from the shipped sample articles.

Each generated article takes a sample article's front matter and sections, names a different product, site and
device model, and borrows one section from another article of its category, so no two articles share text.
"""
from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import yaml

from kb.check import load_help_center
from kb.config import Settings

SITES = ["Berlin office", "Warsaw branch", "Lyon plant", "Austin HQ", "Kyiv hub", "Sofia lab", "Leeds depot",
         "Porto studio", "Riga warehouse", "Oslo site", "Brno office", "Tartu campus"]
PRODUCTS = ["Latitude 7440", "ThinkPad T14", "MacBook Air M3", "Surface Laptop 6", "HP EliteBook 840",
            "Lenovo ThinkCentre", "Dell OptiPlex 7010", "iPhone 15", "Galaxy S24", "Pixel 8"]
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\.md[^)]*\)")
DETAILS = ["after the March update", "on the guest network", "when docked", "after a password change",
           "on battery power", "with two monitors", "behind the new firewall", "after travelling abroad",
           "with the 2024 client", "in the shared workspace"]


def generate(source: Path, target: Path, count: int, seed: int = 7) -> Path:
    """Write `count` articles plus categories.yml into `target` (replaced if it exists)."""
    center = load_help_center(source, Settings())
    base = [a for a in center.published() if a.audience == "public"]
    by_category: dict[str, list] = {}
    for article in base:
        by_category.setdefault(article.category, []).append(article)
    rng = random.Random(seed)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(source / "categories.yml", target / "categories.yml")
    for n in range(count):
        article = base[n % len(base)]
        site, product, detail = SITES[rng.randrange(len(SITES))], PRODUCTS[rng.randrange(len(PRODUCTS))], \
            DETAILS[rng.randrange(len(DETAILS))]
        donor = rng.choice(by_category[article.category])
        donor_sections = donor.body.split("\n## ")[1:]
        borrowed = ("\n## " + rng.choice(donor_sections)) if donor_sections else ""
        front = {
            "title": f"{article.title} ({product}, {site})",
            "category": article.category,
            "lang": article.lang,
            "questions": [f"{q} {detail}" for q in article.questions] + [f"{product} problem at the {site}"],
            "tags": list(article.tags) + [product.split()[0].lower()],
            "description": f"{article.description or article.title} For {product} users at the {site}.",
        }
        intro = (f"This guide is for the {product} fleet at the {site}, where the problem often appears "
                 f"{detail}. Reference case {n:06d}.\n\n")
        body = _MD_LINK.sub(r"\1", article.body.strip() + "\n" + borrowed)  # links to the sample's files
        text = "---\n" + yaml.safe_dump(front, allow_unicode=True, sort_keys=False) + "---\n" + intro + body + "\n"
        folder = target / article.category
        folder.mkdir(exist_ok=True)
        (folder / f"synthetic-{n:06d}.md").write_text(text, encoding="utf-8")
    return target
