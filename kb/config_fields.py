"""How a setting is declared: its default, help line and accepted values (kb/config.py reads them)."""
from __future__ import annotations

from dataclasses import field
from typing import Any, Callable


def _rate_limit(value: str) -> None:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError(f"must be a limit like '10/minute', not {value!r}") from None


def _setting(default: Any, help: str, *, choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None,
             minimum: float | None = None, maximum: float | None = None,
             check: Callable[[Any], None] | None = None, allowed: str = "") -> Any:
    """A settings field: its default, help line and the values it accepts. `check` raises ValueError saying what is
    wrong (a predicate on the setting, e.g. "must be a limit like '10/minute', not 'often'"); `allowed` describes
    the accepted values where `choices`/`minimum`/`maximum` do not (shown in the README's settings table)."""
    return field(default=default, metadata={"help": help, "choices": choices, "minimum": minimum, "maximum": maximum,
                                            "check": check, "allowed": allowed})


_LIMIT = {"check": _rate_limit, "allowed": "a limit like `10/minute`"}
