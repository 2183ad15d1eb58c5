"""Community moderation by agents and admins: hide and show posts, release held ones, lock a question, move it to
another topic, merge a duplicate into another question (its answers move; its address redirects), and the
reports customers file."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from kb.errors import CommunityError, CommunityForbidden
from kb.helpdesk.community import Post, may_moderate
from kb.helpdesk.community_models import OPEN, Answer, Follow, Question, Report, Topic
from kb.helpdesk.models import User, utcnow


def _moderator(user: User | None) -> User:
    if not may_moderate(user):
        raise CommunityForbidden("only agents and admins moderate the community")
    return user


def set_hidden(db: Session, moderator: User | None, post: Post, hidden: bool) -> Post:
    _moderator(moderator)
    post.hidden = hidden
    if hidden and isinstance(post, Answer) and post.question.accepted_answer_id == post.id:
        post.question.accepted_answer_id, post.question.status = None, OPEN
    db.flush()
    return post


def release(db: Session, moderator: User | None, post: Post) -> Post:
    """A held post is reviewed and shown to everyone who may read its topic."""
    _moderator(moderator)
    post.held = False
    db.flush()
    return post


def set_locked(db: Session, moderator: User | None, question: Question, locked: bool) -> Question:
    _moderator(moderator)
    question.locked = locked
    db.flush()
    return question


def move(db: Session, moderator: User | None, question: Question, topic: Topic) -> Question:
    _moderator(moderator)
    question.topic_id, question.topic = topic.id, topic
    question.updated_at = utcnow()
    db.flush()
    return question


def merge(db: Session, moderator: User | None, duplicate: Question, target: Question) -> Question:
    """`duplicate`'s answers, followers and reports move to `target`; `duplicate` stays, empty, only to redirect
    its address there. Its accepted answer becomes `target`'s when `target` has none."""
    _moderator(moderator)
    if target.id == duplicate.id or target.merged_into_id is not None:
        raise CommunityError("merge into another question that was not merged itself", "target")
    if duplicate.merged_into_id is not None:
        raise CommunityError("this question was merged already", "target")
    if target.topic.organisation_id != duplicate.topic.organisation_id:
        raise CommunityError("a question can only be merged into one its readers may read", "target")
    for reply in list(duplicate.answers):
        reply.question_id, reply.question = target.id, target
    if target.accepted_answer_id is None and duplicate.accepted_answer_id is not None:
        target.accepted_answer_id, target.status = duplicate.accepted_answer_id, duplicate.status
    followers = set(db.scalars(select(Follow.user_id).where(Follow.question_id == target.id)))
    for row in db.scalars(select(Follow).where(Follow.question_id == duplicate.id)):
        if row.user_id in followers:
            db.delete(row)
        else:
            row.question_id = target.id
    db.execute(update(Report).where(Report.question_id == duplicate.id).values(question_id=target.id))
    duplicate.merged_into_id, duplicate.accepted_answer_id, duplicate.status = target.id, None, OPEN
    duplicate.locked = True
    target.updated_at = utcnow()
    db.flush()
    return target


def open_reports(db: Session, moderator: User | None) -> list[Report]:
    _moderator(moderator)
    return list(db.scalars(select(Report).where(Report.resolved.is_(False)).order_by(Report.id)))


def resolve_report(db: Session, moderator: User | None, report: Report) -> Report:
    report.resolved, report.resolved_by_id = True, _moderator(moderator).id
    db.flush()
    return report


def held_posts(db: Session, moderator: User | None) -> tuple[list[Question], list[Answer]]:
    """What waits for review, oldest first."""
    _moderator(moderator)
    return (list(db.scalars(select(Question).where(Question.held.is_(True)).order_by(Question.id))),
            list(db.scalars(select(Answer).where(Answer.held.is_(True)).order_by(Answer.id))))

