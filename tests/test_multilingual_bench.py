"""bench/multilingual.py's plain baseline (one passage per article, cosine ranking) with the hashing encoder."""
from __future__ import annotations

import pytest

from bench.long_articles import published
from bench.multilingual import below_plain, opening_paragraph, plain_baseline, plain_passage
from tests.conftest import write_tree
from tests.fakes import HashingEncoder

CENTER = {
    "categories.yml": """\
        access: {title: Access, description: Signing in.}
        """,
    "access/reset-password.md": """\
        ---
        title: Reset your password
        category: access
        description: Choose a new password when you forgot the old one.
        ---
        Open the **sign-in page** and choose [Forgot password](https://example.com/forgot).
        A link arrives by email.

        The link works for one hour.

        ## If no email arrives
        Look in the spam folder.
        """,
    "access/account-locked.md": """\
        ---
        title: Account locked
        category: access
        description: Why an account locks after wrong passwords and how to unlock it.
        ---
        ## Why it locks
        Ten wrong passwords in a row lock the account for fifteen minutes.

        Wait, then sign in again.
        """,
    "access/vpn.md": """\
        ---
        title: Connect to the VPN
        category: access
        description: Reach office systems from home.
        ---
        Start the VPN client and sign in with your work account.
        """,
}


class RecordingEncoder(HashingEncoder):
    """The hashing encoder, remembering which texts it embedded as passages and which as queries."""

    def __init__(self) -> None:
        super().__init__()
        self.passages: list[str] = []
        self.queries: list[str] = []

    def encode_queries(self, texts):
        self.queries += list(texts)
        return super().encode_queries(texts)

    def encode_passages(self, texts):
        self.passages += list(texts)
        return super().encode_queries(texts)


@pytest.fixture(scope="module")
def articles(tmp_path_factory):
    return {a.id: a for a in published(write_tree(tmp_path_factory.mktemp("plain") / "articles", CENTER))}


def test_the_opening_paragraph_is_the_first_paragraph_a_reader_sees(articles):
    assert opening_paragraph(articles["reset-password"].body) == (
        "Open the sign-in page and choose Forgot password.\nA link arrives by email.")
    # An article that opens with a heading: the first paragraph under it.
    assert opening_paragraph(articles["account-locked"].body) == (
        "Ten wrong passwords in a row lock the account for fifteen minutes.")
    assert opening_paragraph("") == ""
    assert plain_passage(articles["vpn"]) == ("Connect to the VPN\nReach office systems from home.\n"
                                              "Start the VPN client and sign in with your work account.")


def test_plain_baseline_embeds_each_article_once_and_ranks_by_cosine(articles):
    encoder = RecordingEncoder()
    rows = [
        {"lang": "en", "kind": "title", "query": plain_passage(articles["vpn"]), "expected": ["vpn"]},
        {"lang": "en", "kind": "title", "query": plain_passage(articles["account-locked"]),
         "expected": ["account-locked"]},
        {"lang": "ru", "kind": "description", "query": plain_passage(articles["reset-password"]),
         "expected": ["reset-password"]},
        {"lang": "ru", "kind": "description", "query": "Ten wrong passwords in a row", "expected": ["missing"]},
    ]
    figures = plain_baseline(list(articles.values()), rows, encoder)
    assert sorted(encoder.passages) == sorted(plain_passage(a) for a in articles.values())
    assert encoder.queries == [r["query"] for r in rows]
    assert figures == {"en/title": {"plain_top1": 1.0, "plain_recall3": 1.0},
                       "ru/description": {"plain_top1": 0.5, "plain_recall3": 0.5}}


def test_below_plain_names_the_rows_where_hybrid_recall_is_lower():
    result = {"languages": {
        "ru/title": {"hybrid_recall3": 0.9, "plain_recall3": 0.95},
        "uk/title": {"hybrid_recall3": 0.95, "plain_recall3": 0.95},
        "en/title": {"hybrid_recall3": 1.0, "plain_recall3": 0.9},
        "bg": {"hybrid_recall3": 0.5},
    }}
    assert below_plain(result) == ["ru/title"]
