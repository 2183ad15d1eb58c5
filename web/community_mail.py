"""E-mail to a question's followers when it gets a new answer, written into the outbox in the answer's own
transaction (web/mail.py renders it in each follower's language). Following is the choice: each message links to
the question, whose page has the "Stop following" button."""
from __future__ import annotations

from sqlalchemy.orm import Session

from kb.helpdesk import community as cm
from kb.helpdesk.community_models import Answer
from web.mail import compose, external_url, recipient_language

COMMUNITY_ANSWER = "community_answer"


def answer_posted(db: Session, reply: Answer) -> int:
    """Queue one message per follower who may read the new answer (none while it is held); returns how many."""
    question = reply.question
    url = external_url("community.question", question_id=question.id, _anchor=f"a{reply.id}")
    followers = cm.followers_to_tell(db, reply)
    for user in followers:
        compose(db, COMMUNITY_ANSWER, to=user.email, lang=recipient_language(user), kind=COMMUNITY_ANSWER, user=user,
                name=user.name or user.email, title=question.title, reply=reply.body, official=reply.official,
                question_url=url)
    return len(followers)
