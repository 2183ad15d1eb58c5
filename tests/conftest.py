from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from kb.config import Settings
from tests.fakes import HashingEncoder

ROOT = Path(__file__).resolve().parent.parent

CATEGORIES = """\
printers: {title: Printers, description: Connecting and fixing printers.}
accounts: {title: Accounts, description: Passwords and sign-in.}
vpn: {title: VPN, description: Remote access.}
"""

SMALL_CENTER = {
    "categories.yml": CATEGORIES,
    "printers/printer-offline.md": """\
        ---
        title: Printer shows Offline
        category: printers
        questions: [my printer says offline, printer not printing]
        tags: [printer, offline]
        related: [reset-password]
        ---
        Bring the printer back online.

        ## Windows
        Open Settings > Bluetooth & devices > Printers & scanners and select the printer.

        ## macOS
        Open System Settings > Printers & Scanners and remove then re-add the printer.
        """,
    "accounts/reset-password.md": """\
        ---
        title: Reset your password
        category: accounts
        questions: [forgot password, password expired]
        ---
        Go to the self-service password page and follow the steps.
        See also [the printer article](../printers/printer-offline.md).
        """,
    "ru/vpn-oshibka.md": """\
        ---
        title: VPN не подключается
        category: vpn
        lang: ru
        questions: [не работает впн, ошибка подключения vpn]
        ---
        Перезапустите клиент VPN и проверьте подключение к интернету.

        ## Проверка пароля
        Убедитесь, что пароль не истёк.
        """,
    "accounts/agent-only.md": """\
        ---
        title: Agent procedure for password resets
        category: accounts
        audience: internal
        ---
        Verify the caller's identity with the callback number before any password reset.
        """,
    "printers/new-printers.md": """\
        ---
        title: New printer fleet
        category: printers
        status: draft
        ---
        Draft text about the new printers.
        """,
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def center(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "articles", SMALL_CENTER)


@pytest.fixture
def settings(tmp_path: Path, center: Path) -> Settings:
    return Settings(articles_dir=center, index_dir=tmp_path / "var" / "index", embedding_model="fake-hashing")


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()
