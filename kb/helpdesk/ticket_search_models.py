"""The tickets' search text: one row per ticket with its words as analysed (kb/helpdesk/ticket_search.py).

The full-text index over it is the database's own, created by the migration (not by these models): on SQLite an
FTS5 table, `ticket_search_fts`, kept in step with this table by triggers; on PostgreSQL a generated column
`terms_vector` (`to_tsvector('simple', terms)`, stored) with a GIN index. The words are analysed before they are
stored (stemmed, lemmatised, folded per language), so both databases only split them on spaces.
"""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.helpdesk.models import Base

FTS_TABLE = "ticket_search_fts"  # SQLite's FTS5 table over ticket_search.terms
FTS_VECTOR = "terms_vector"  # PostgreSQL: a generated column, to_tsvector('simple', terms), stored
FTS_INDEX = "ix_ticket_search_terms"  # PostgreSQL's GIN index over it


class TicketSearch(Base):
    """A ticket's subject (as typed and as fixed), description and every event's text, as analysed terms."""

    __tablename__ = "ticket_search"

    ticket_id: Mapped[int] = mapped_column(Integer, ForeignKey("tickets.id"), primary_key=True, autoincrement=False)
    terms: Mapped[str] = mapped_column(Text, default="")
