"""The help center's own texts as calibration searches (indexer/held_out.py)."""
from __future__ import annotations

from indexer.held_out import held_out_texts
from indexer.passages import passages_for
from kb.articles import Article


def article(article_id: str, title: str, description: str = "", questions: tuple[str, ...] = ()) -> Article:
    return Article(id=article_id, title=title, category="c", body="## Steps\nDo this.\n", description=description,
                   questions=tuple(questions), path=f"{article_id}.md")


def test_titles_descriptions_and_questions_each_hide_the_passage_they_come_from():
    articles = [article("a", "Reset a password", "Change a forgotten password.", ("forgot my password",)),
                article("b", "Printer offline")]
    passages = [p for a in articles for p in passages_for(a, 180)]
    held = held_out_texts(articles, passages, list(range(len(passages))))
    pairs = {(text, a): passages[row] for text, a, row in zip(held.texts, held.articles, held.hidden)}
    assert set(pairs) == {("Reset a password", "a"), ("Change a forgotten password.", "a"),
                          ("forgot my password", "a"), ("Printer offline", "b")}
    assert pairs[("forgot my password", "a")].kind == "question"
    assert pairs[("forgot my password", "a")].text == "forgot my password"
    assert pairs[("Reset a password", "a")].kind == "summary"
    assert pairs[("Printer offline", "b")].kind == "summary"  # no questions: the title still calibrates


def test_only_the_given_rows_and_at_most_the_limit():
    articles = [article(f"a{n}", f"Title {n}", f"Description {n}", (f"question {n}", f"other {n}")) for n in range(10)]
    passages = [p for a in articles for p in passages_for(a, 180)]
    rows = [r for r, p in enumerate(passages) if p.article_id in {"a1", "a2"}]
    held = held_out_texts(articles, passages, rows)
    assert set(held.articles) == {"a1", "a2"} and all(r in rows for r in held.hidden)
    limited = held_out_texts(articles, passages, list(range(len(passages))), limit=25)
    assert len(limited.texts) == 25
    # titles and descriptions first: every article is represented, questions fill the rest
    assert sum(t.startswith(("Title", "Description")) for t in limited.texts) == 20
