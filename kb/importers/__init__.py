"""`kb import FORMAT SOURCE`: bring a help center written for another tool. One small module per format reads its
site into records (kb.importers.records); the shared writer (kb.importers.writer) turns them into articles."""
from __future__ import annotations

import importlib
from pathlib import Path

from kb.errors import KbError
from kb.importers.records import ImportSummary

FORMATS = ("jekyll", "hugo", "mkdocs")


def run_import(format_name: str, source: Path, articles: Path, dry_run: bool = False,
               default_lang: str = "en") -> ImportSummary:
    """Import the `format_name` site in `source` into the articles folder `articles`."""
    from kb.importers.writer import write_site

    if format_name not in FORMATS:
        raise KbError(f"unknown format {format_name!r}; use one of: {', '.join(FORMATS)}")
    if not source.is_dir():
        raise KbError(f"{source}: no such folder")
    site = importlib.import_module(f"kb.importers.{format_name}").read_site(source)
    if not site.pages and not site.skipped:
        raise KbError(f"{source}: no pages found; is it a {format_name} site? (see README, \"Moving from Jekyll, "
                      "Hugo or MkDocs\")")
    return write_site(site, articles, dry_run, default_lang)
