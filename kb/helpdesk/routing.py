"""Routing rules: which agent group a new ticket goes to, by its predicted category.

The rules are one setting, `routing`, a comma-separated list of `category=group` pairs; `*=group` names the
group of every category without a rule of its own (e.g. `printers=hardware, accounts=identity, *=general`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kb.errors import ConfigError
from kb.helpdesk.models import GROUP_MAX

DEFAULT_GROUP = "general"
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class Routing:
    rules: tuple[tuple[str, str], ...]  # (category, group), in the order written
    default: str = DEFAULT_GROUP

    def group_for(self, category: str | None) -> str:
        """The group for `category`; the default group for no category or one without a rule."""
        return dict(self.rules).get(category or "", self.default)

    @property
    def groups(self) -> list[str]:
        return sorted({group for _, group in self.rules} | {self.default})


def parse_routing(text: str) -> Routing:
    """Rules from a setting like `printers=hardware, *=general`; a malformed rule is a ConfigError naming the setting
    (`kb.config` validates the setting with `routing_rules` when settings are loaded)."""
    try:
        return routing_rules(text)
    except ValueError as exc:
        raise ConfigError(f"setting 'routing' {exc}") from None


def routing_rules(text: str) -> Routing:
    """Rules from a setting like `printers=hardware, *=general`; ValueError saying what is wrong with a rule."""
    rules: dict[str, str] = {}
    default = DEFAULT_GROUP
    for part in (text or "").split(","):
        if not part.strip():
            continue
        category, sep, group = (piece.strip() for piece in part.partition("="))
        if not sep or not category or not group:
            raise ValueError(f"has {part.strip()!r}, which is not a rule like 'category=group'")
        if not _NAME.match(group) or len(group) > GROUP_MAX or (category != "*" and not _NAME.match(category)):
            raise ValueError(f"has the rule {part.strip()!r}: names may use letters, digits, '_', '.', '-'")
        if category == "*":
            default = group
        elif category in rules:
            raise ValueError(f"has two rules for the category {category!r}")
        else:
            rules[category] = group
    return Routing(tuple(rules.items()), default)
