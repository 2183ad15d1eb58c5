"""The help center's own texts as calibration searches (indexer/held_out.py)."""
from __future__ import annotations

import numpy as np

from indexer.held_out import STAND_IN_WORDS, each_text_once, held_out_sections, held_out_texts
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


def long_article(article_id: str, body: str) -> Article:
    return Article(id=article_id, title=f"Title {article_id}", category="c", body=body, path=f"{article_id}.md")


def test_sub_section_headings_that_name_a_topic_are_searched_with_their_sections_standing_in():
    long_text = " ".join(f"word{n}" for n in range(400))  # one section split into several passages
    articles = [
        long_article("a", "## Sign up\n### The confirmation email never arrived\nCheck the spam folder.\n"
                          "### Before you start\nHave a card ready.\n### Overview\nShort.\n"
                          f"### Sync a very large folder\n{long_text}\n### Empty heading here\n"),
        long_article("b", "## Billing\n### Before you start\nHave an invoice ready.\n"
                          "### Change the card on file\nOpen Billing and choose Card.\n"),
        Article(id="c", title="Title c", category="c", questions=("how do I export my files",), path="c.md",
                body="## Export\n### Download everything at once\nOpen Settings and choose Export.\n"),
    ]
    passages = [p for a in articles for p in passages_for(a, 180)]
    sections = held_out_sections(articles, passages, list(range(len(passages))))
    by_heading = dict(zip(sections.headings, zip(sections.articles, sections.rows, sections.bodies)))
    # "Before you start" is in both articles and "Overview" is one word: parts of articles, not topics; a heading
    # without text of its own has nothing to stand in for it; an article with customers' questions is calibrated
    # on those
    assert set(by_heading) == {"The confirmation email never arrived", "Sync a very large folder",
                               "Change the card on file"}
    article_id, rows, body = by_heading["The confirmation email never arrived"]
    assert article_id == "a" and body == "Check the spam folder."
    assert [passages[r].anchor for r in rows] == ["the-confirmation-email-never-arrived"]
    # Its keyword search sees the article's heading field without it (indexer/fusion_fit.py)
    rest = dict(zip(sections.headings, sections.rests))["Change the card on file"]
    assert rest == "Billing\nBefore you start"
    _, rows, body = by_heading["Sync a very large folder"]
    assert len(rows) > 1 and {passages[r].anchor for r in rows} == {"sync-a-very-large-folder"}  # every chunk hidden
    assert body == " ".join(long_text.split()[:STAND_IN_WORDS])  # its opening
    only_b = held_out_sections(articles, passages, [r for r, p in enumerate(passages) if p.article_id == "b"])
    assert only_b.headings == ["Change the card on file"]  # only the given rows; b's "Before you start" is
    # still a part shared with a's
    limited = held_out_sections(articles, passages, list(range(len(passages))), limit=2)
    assert len(limited.headings) == 2 and set(limited.headings) <= set(by_heading)
    kept = held_out_sections(articles, passages, list(range(len(passages)))).only(lambda t: "card" not in t)
    assert kept.headings == ["The confirmation email never arrived", "Sync a very large folder"]
    assert [r.count("\n") for r in kept.rests] == [4, 4]  # the rest of each one's article's six headings


def test_each_text_is_embedded_once_across_calls():
    asked: list[list[str]] = []

    def encode(texts):
        asked.append(list(texts))
        return np.array([[len(t), len(t.split())] for t in texts], dtype=np.float32)

    encoded = each_text_once(encode)
    first = encoded(["a title", "another", "a title"])
    second = encoded(["another", "new one"])
    assert asked == [["a title", "another"], ["new one"]]
    assert first.tolist() == [[7, 2], [7, 1], [7, 2]] and second.tolist() == [[7, 1], [7, 2]]
    assert encoded(["a title"]).dtype == np.float32 and len(asked) == 2
