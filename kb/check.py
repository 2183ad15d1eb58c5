"""`kb check`: load every article, run the checks across articles, and collect every problem at once."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from kb.articles import Article, Category, Problem, load_categories, parse_article
from kb.config import Settings
from kb.golden import GoldenQuery, load_golden

CATEGORIES_FILE = "categories.yml"
_LINK_RE = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")


@dataclass
class HelpCenter:
    """Everything read from an articles folder: categories, articles (drafts included) and the problems found."""

    root: Path
    categories: dict[str, Category]
    articles: list[Article]
    problems: list[Problem]
    golden: list[GoldenQuery] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def published(self) -> list[Article]:
        return [a for a in self.articles if a.status == "published"]


def article_files(root: Path) -> list[Path]:
    """Markdown files under root, sorted, skipping hidden folders and README files."""
    files = []
    for path in sorted(root.rglob("*.md")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or path.name.lower() == "readme.md":
            continue
        if path.is_file():
            files.append(path)
    return files


def load_help_center(root: Path, settings: Settings, strict: bool = False) -> HelpCenter:
    """Read and validate the whole articles folder. Never raises for content problems: it lists them."""
    shown = Path(root)
    if not root.is_dir():
        return HelpCenter(root, {}, [], [Problem(str(shown), 1, "articles folder not found")])
    categories, problems = load_categories(root / CATEGORIES_FILE, str(shown / CATEGORIES_FILE))
    articles: list[Article] = []
    unreadable: dict[str, str] = {}  # path -> default id of files that exist but could not be parsed
    for path in article_files(root):
        rel = str(shown / path.relative_to(root).as_posix())
        article, found = parse_article(path, rel, default_lang=settings.default_lang,
                                       max_bytes=settings.max_article_kb * 1024, strict=strict)
        problems.extend(found)
        if article is not None:
            articles.append(article)
        else:
            unreadable[rel] = path.stem
    if not articles and not problems:
        problems.append(Problem(str(shown), 1, "no articles found (expected *.md files)"))
    problems.extend(_cross_checks(articles, categories, unreadable))
    golden, found = load_golden(root, articles, str(shown))
    problems.extend(found)
    problems.sort(key=lambda p: (p.path, p.line, p.message))
    return HelpCenter(root, categories, articles, problems, golden)


def _cross_checks(articles: list[Article], categories: dict[str, Category],
                  unreadable: dict[str, str]) -> list[Problem]:
    """Checks across articles. Links to a file that exists but failed to parse are not reported again."""
    problems: list[Problem] = []
    by_id: dict[str, Article] = {}
    by_version: dict[tuple[str, str], Article] = {}
    for article in articles:
        if article.category and categories and article.category not in categories:
            problems.append(Problem(article.path, article.line_of("category"),
                                    f"category '{article.category}' is not declared in {CATEGORIES_FILE} "
                                    f"(declared: {', '.join(sorted(categories))})"))
        # Articles sharing an id in different languages are translations of each other (kb.translations).
        first = by_version.get((article.id, article.lang))
        if first is not None:
            problems.append(Problem(article.path, article.line_of("id"),
                                    f"duplicate id '{article.id}' in language '{article.lang}': already used by "
                                    f"{first.path} (translations share an id but differ in `lang`)"))
        else:
            by_version[(article.id, article.lang)] = article
            by_id.setdefault(article.id, article)
    problems.extend(_check_aliases(articles))
    files = {a.path for a in articles} | set(unreadable)
    known_ids = set(by_id) | set(unreadable.values())
    public_ids = {a.id for a in articles if a.audience == "public"}
    by_path = {a.path: a for a in articles}
    for article in articles:
        for rid in article.related:
            if rid not in known_ids:
                problems.append(Problem(article.path, article.line_of("related"),
                                        f"related article '{rid}' does not exist"))
            elif article.audience == "public" and rid in by_id and rid not in public_ids:
                problems.append(Problem(article.path, article.line_of("related"),
                                        f"related article '{rid}' is internal: customers are never shown it",
                                        "warning"))
        problems.extend(_check_links(article, files, by_path))
    return problems


def _check_aliases(articles: list[Article]) -> list[Problem]:
    """An old address redirects to one article (its language versions share an id, and so may share it)."""
    problems: list[Problem] = []
    owner: dict[str, Article] = {}
    for article in articles:
        for alias in article.aliases:
            first = owner.setdefault(alias, article)
            if first.id != article.id:
                problems.append(Problem(article.path, article.line_of("aliases"),
                                        f"alias '{alias}' is already an alias of {first.path}"))
    return problems


def _check_links(article: Article, files: set[str], by_path: dict[str, Article]) -> list[Problem]:
    """Relative links to other .md files must point at an article that exists; a public article's links to an
    internal one are reported too (customers get only the link's text)."""
    problems = []
    in_fence = False
    for offset, text in enumerate(article.body.splitlines()):
        if text.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        if in_fence:
            continue
        for match in _LINK_RE.finditer(text):
            target = match.group(1).split("#", 1)[0]
            if not target.endswith(".md") or "://" in target or target.startswith(("/", "mailto:")):
                continue
            path = resolve_link(article.path, target)
            if path not in files:
                problems.append(Problem(article.path, article.body_line + offset,
                                        f"link to missing article '{target}'"))
            elif article.audience == "public" and path in by_path and by_path[path].audience != "public":
                problems.append(Problem(article.path, article.body_line + offset,
                                        f"link to internal article '{target}' from a public article: customers "
                                        "see only the link's text", "warning"))
    return problems


def resolve_link(article_path: str, target: str) -> str:
    """The article path a relative .md link points to (same form as Article.path)."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(article_path), target))
