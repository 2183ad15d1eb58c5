"""Obsidian vault: each note an article, its top folder its category (`.obsidian/` and other hidden folders left
out). Wikilinks (`[[Note]]`, `[[Note|label]]`, `[[Note#Heading]]`) become article links, `![[image.png]]` embeds
images (copied), `![[Note]]` note embeds a reported link; tags come from the front matter and inline `#tags`, and
callouts (`> [!note] Title`) become blockquotes with a bold title. The old address is the note's Obsidian Publish
address (`/Folder/Note+name`)."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import quote, unquote

from kb.importers.records import Notice, Page, Site
from kb.importers.sources import read_text, safe_id, split_page, text, texts, title_of
from kb.importers.writer import FILE_SUFFIXES
from kb.sections import slugify

_WIKILINK = re.compile(r"(!?)\[\[([^\[\]|#^]*)(?:#\^?([^\[\]|]*))?(?:\|([^\[\]]*))?\]\]")
_CALLOUT = re.compile(r"^((?:>\s*)+)\[!([\w-]+)\][+-]?\s*(.*)$")
_TAG = re.compile(r"(?<![\w/#&`\]])#([\w/-]*[^\W\d][\w/-]*)")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")
_PICTURES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg"}
_IMAGE = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")


class _Vault:
    """The vault's notes and files by the names Obsidian resolves links by."""

    def __init__(self, root: Path, notes: list[str], files: list[str]) -> None:
        self.root = root
        self.by_name: dict[str, list[str]] = {}
        for rel in notes:
            self.by_name.setdefault(posixpath.splitext(posixpath.basename(rel))[0].lower(), []).append(rel)
            self.by_name.setdefault(posixpath.splitext(rel)[0].lower(), []).append(rel)
        for rel in files:
            self.by_name.setdefault(posixpath.basename(rel).lower(), []).append(rel)
            self.by_name.setdefault(rel.lower(), []).append(rel)

    def add_alias(self, alias: str, rel: str) -> None:
        self.by_name.setdefault(alias.lower(), []).append(rel)

    def find(self, name: str, here: str, rel: str, line: int, notices: list[Notice]) -> str | None:
        """The vault path `name` links to from the note `here`: the one in the same folder, else the shortest."""
        key = name.strip().lower().removesuffix(".md")
        found = list(dict.fromkeys(self.by_name.get(key, [])))
        if not found:
            return None
        folder = posixpath.dirname(here)
        chosen = next((f for f in found if posixpath.dirname(f) == folder),
                      min(found, key=lambda f: (f.count("/"), f)))
        if len(found) > 1:
            notices.append(Notice(rel, line, f"[[{name}]] names {len(found)} notes; linked to '{chosen}'"))
        return chosen


def convert(lines: list[str], rel: str, first_line: int, vault: _Vault, notices: list[Notice]) -> tuple[list[str],
                                                                                                       list[str]]:
    """(lines with wikilinks, embeds and callouts converted, inline tags)."""
    out, tags, fence = [], [], ""
    for i, line in enumerate(lines):
        where = first_line + i
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            fence = "" if fence and stripped.startswith(fence) else (fence or stripped[:3])
        if fence or stripped.startswith(("```", "~~~")):
            out.append(line)
            continue
        callout = _CALLOUT.match(line.rstrip("\n"))
        if callout:
            prefix = callout.group(1).rstrip() + " "
            title = callout.group(3).strip() or title_of(callout.group(2))
            out += [f"{prefix}**{title}**\n", prefix.rstrip() + "\n"]
            continue
        if not stripped.startswith("#") or not re.match(r"#+\s", stripped):
            tags += [t for t in _TAG.findall(re.sub(r"`[^`]*`|\[\[[^\]]*\]\]|\[[^\]]*\]\([^)]*\)|<[^>]*>", "", line))]

        def wikilink(m: re.Match) -> str:
            embed, name, heading, label = m.group(1), m.group(2), m.group(3), m.group(4)
            if not name:  # [[#Heading]]: a heading of this note
                return f"[{label or heading}](#{slugify(heading or '')})"
            is_file = posixpath.splitext(name)[1].lower() in FILE_SUFFIXES
            target = vault.find(name, rel, rel, where, notices)
            if target is None:
                target = name if is_file else name + ".md"  # the writer reports it, as any link to no page
            path = "/" + quote(target)
            if embed and is_file and posixpath.splitext(name)[1].lower() in _PICTURES:
                alt = label if label and not label.isdigit() and not re.fullmatch(r"\d+x\d+", label) else ""
                return f"![{alt or posixpath.splitext(posixpath.basename(name))[0]}]({path})"
            if embed and not is_file:
                notices.append(Notice(rel, where, f"note embed ![[{name}]] is not supported; kept as a link"))
            anchor = f"#{slugify(heading)}" if heading else ""
            return f"[{label or (name + (' > ' + heading if heading else ''))}]({path}{anchor})"

        line = _WIKILINK.sub(wikilink, line)
        out.append(_IMAGE.sub(lambda m: m.group(1) + _vault_path(vault, rel, m.group(2)) + m.group(3), line))
    return out, tags


def _vault_path(vault: _Vault, here: str, target: str) -> str:
    """A Markdown image path as Obsidian finds it: relative to the note, else from the vault's root."""
    if "://" in target or target.startswith("/"):
        return target
    if (vault.root / posixpath.dirname(here) / unquote(target)).is_file():
        return target
    return "/" + target if (vault.root / unquote(target)).is_file() else target


def read_site(root: Path) -> Site:
    """Every note of the Obsidian vault in `root`."""
    site = Site("obsidian", root, [], {}, [""])
    visible = sorted(p for p in root.rglob("*") if p.is_file()
                     and not any(part.startswith(".") for part in p.relative_to(root).parts))
    notes = [p.relative_to(root).as_posix() for p in visible if p.suffix.lower() == ".md"]
    files = [p.relative_to(root).as_posix() for p in visible if p.suffix.lower() != ".md"]
    vault = _Vault(root, notes, files)
    read = []
    for rel in notes:
        data, body, body_line = split_page(read_text(root / rel, rel, site.notices), rel, site.notices)
        for alias in texts(data.get("aliases")) if isinstance(data.get("aliases"), list) else []:
            vault.add_alias(alias, rel)
        read.append((rel, data, body, body_line))
    for rel, data, body, body_line in read:
        site.pages.append(_page(site, vault, rel, data, body, body_line))
    return site


def _page(site: Site, vault: _Vault, rel: str, data: dict, body: str, body_line: int) -> Page:
    stem = posixpath.splitext(posixpath.basename(rel))[0]
    title = text(data.get("title")) or stem
    lines = body.splitlines(keepends=True)
    first = next((n for n, x in enumerate(lines) if x.strip()), None)
    heading = _H1.match(lines[first]) if first is not None else None
    if heading and heading.group(1) == title:  # kb shows the title above the body, so not twice
        lines[first] = "\n"
    lines, inline_tags = convert(lines, rel, body_line, vault, site.notices)
    folder = rel.split("/")[0] if "/" in rel else ""
    category = safe_id(folder, "general") if folder else "general"
    site.categories.setdefault(category, {"title": folder or "General", "description": ""})
    tags = [t.lstrip("#") for t in texts(data.get("tags") or data.get("tag"))] + inline_tags
    return Page(key=rel, source=rel, slug=safe_id(stem), title=title, category=category, body="".join(lines),
                body_line=body_line, url="/" + posixpath.splitext(rel)[0].replace(" ", "+"),
                base_dir=posixpath.dirname(rel), lang=text(data.get("lang")),
                draft=data.get("draft") is True or data.get("publish") is False,
                description=text(data.get("description")), tags=list(dict.fromkeys(t for t in tags if t)))
