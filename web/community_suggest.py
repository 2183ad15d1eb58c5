"""Asked before it is posted: while a question is typed on the ask form, the articles that answer it (the contact
form's suggestions, web/suggestions.py) and the community's answered questions like it
(kb/helpdesk/community_search.py), which the asker may read. Served as JSON to the page's script
(`GET /community/suggest`) and, without JavaScript, on a server-rendered step before the question is posted."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import url_for

from kb.helpdesk.community_models import Topic
from kb.helpdesk.community_search import answered_like
from web.context import current_user, db
from web.forms import QUERY_MAX
from web.suggestions import MIN_CHARS, problem_text, suggest

MAX_QUESTIONS = 5


@dataclass(frozen=True)
class Asked:
    """What may already answer the typed question: `articles` (as /api/suggest lists them) and `questions`."""

    query: str
    articles: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.articles or self.questions)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "articles": self.articles, "questions": self.questions}


def asked_before(title: str, body: str = "", topic: Topic | None = None) -> Asked:
    """Articles and readable answered questions matching the typed title (and body); nothing for too short a text."""
    text = problem_text(title, body)[:QUERY_MAX]
    if len(text.strip()) < MIN_CHARS:
        return Asked(text)
    found = suggest(text, source="community", notices=False)
    articles = [{**item, "kind": "article"} for item in found.items]
    # Titles are matched against the title typed (the body's words would match too widely), else the whole text.
    matches = answered_like(db(), current_user(), title if len(title.strip()) >= MIN_CHARS else text, topic,
                            MAX_QUESTIONS)
    questions = [{"kind": "community", "id": m.question.id, "title": m.question.title, "answer": m.answer,
                  "topic": m.question.topic.title,
                  "url": url_for("community.question", question_id=m.question.id)} for m in matches]
    return Asked(found.query, articles, questions)
