"""How fast the community's reading answers on a large SQLite database: the topics with their counts and the
recent questions (`/community`), one page of a topic (newest and unanswered), one question with its answers, and
the ask form's answered questions like a typed title (`/community/suggest`, kb/helpdesk/community_search.py).

    .venv/bin/python bench/community.py [--questions 100000] [--answers 200] [--repeat 20]

A SQLite database (a real file, the schema from the migrations) gets `--questions` questions spread over ten
public topics and one private one (one in a thousand asked by the customer timed, one in fifty hidden), each with
two answers, and one question with `--answers` answers. Timed, the
best and the median of `--repeat` runs of kb/helpdesk/community.py's functions, as an anonymous visitor and as a
customer of the private topic's organisation. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import insert, select  # noqa: E402

from bench.report import write_report  # noqa: E402
from kb.helpdesk import community as cm  # noqa: E402
from kb.helpdesk.accounts import add_organisation, add_user  # noqa: E402
from kb.helpdesk.community_models import ANSWERED, OPEN, Answer, Question, Topic  # noqa: E402
from kb.helpdesk.community_search import answered_like  # noqa: E402
from kb.helpdesk.db import open_database  # noqa: E402
from kb.helpdesk.models import User, utcnow  # noqa: E402


def timed(run, repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return {"best_ms": round(min(times), 2), "median_ms": round(statistics.median(times), 2)}


def fill(factory, questions: int, answers: int) -> int:
    """The rows; returns the id of the question with `answers` answers."""
    with factory.begin() as db:
        acme = add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        bob = add_user(db, "bob@acme.example", "password-bob", "Acme", "member")
        carl = add_user(db, "carl@acme.example", "password-carl", "Acme", "member")
        topics = [Topic(slug=f"topic-{i}", title=f"Topic {i}") for i in range(10)]
        topics.append(Topic(slug="acme-only", title="Acme only", organisation_id=acme.id))
        db.add_all(topics)
        db.flush()
        now, rng = utcnow(), random.Random(7)
        rows = [{"topic_id": topics[i % len(topics)].id, "title": f"Question {i}",
                 "author_id": ann.id if i % 1000 == 0 else carl.id,  # the customer timed asked a hundred
                 "body": "Printer offline since Monday", "status": ANSWERED if i % 3 == 0 else OPEN,
                 "hidden": i % 50 == 0, "locked": False, "held": False,
                 "created_at": now - timedelta(minutes=rng.randrange(60 * 24 * 365)), "updated_at": now}
                for i in range(questions)]
        db.execute(insert(Question), rows)
        ids = list(db.scalars(select(Question.id)))
        db.execute(insert(Answer), [{"question_id": qid, "author_id": bob.id, "body": "Restart it", "official": False,
                                     "score": rng.randrange(5), "hidden": False, "held": False, "created_at": now,
                                     "updated_at": now} for qid in ids for _ in range(2)])
        many = ids[1]
        db.execute(insert(Answer), [{"question_id": many, "author_id": bob.id, "body": f"Answer {n} with **Markdown**",
                                     "official": False, "score": rng.randrange(20), "hidden": False, "held": False,
                                     "created_at": now, "updated_at": now} for n in range(answers)])
        return many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    from kb.markdown_html import PostRenderer

    with tempfile.TemporaryDirectory() as folder:
        engine, factory = open_database(f"sqlite:///{Path(folder) / 'kb.sqlite3'}")
        start = time.perf_counter()
        many = fill(factory, args.questions, args.answers)
        results = {"questions": args.questions, "answers_on_one_question": args.answers,
                   "fill_s": round(time.perf_counter() - start, 1)}
        with factory() as db:
            ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
            topic = cm.find_topic(db, None, "topic-1")
            for who, user in (("anonymous", None), ("customer", ann)):
                def home() -> None:
                    recent = cm.recent_questions(db, user)
                    cm.readable_topics(db, user), cm.topic_counts(db, user)
                    cm.answer_counts(db, user, [q.id for q in recent])

                def topic_page(listing: str) -> None:
                    questions = cm.topic_questions(db, user, topic, listing)
                    cm.answer_counts(db, user, [q.id for q in questions])

                def question_page() -> None:
                    db.expire_all()
                    question = cm.find_question(db, user, many)
                    renderer = PostRenderer()  # one per request, as web/community.py keeps it
                    for answer in cm.visible_answers(user, question):
                        renderer.render(answer.body)

                results[who] = {"community_home": timed(home, args.repeat),
                                "topic_newest": timed(lambda: topic_page(cm.NEWEST), args.repeat),
                                "topic_unanswered": timed(lambda: topic_page(cm.UNANSWERED), args.repeat),
                                "question_with_answers_rendered": timed(question_page, args.repeat),
                                # Every title holds "question": the words match everywhere, the answers decide.
                                "asked_before": timed(lambda: answered_like(db, user, "a question: printer offline?"),
                                                      args.repeat)}
        engine.dispose()
    print(results)
    write_report(ROOT / "bench" / "out" / "community.json", results)


if __name__ == "__main__":
    main()
