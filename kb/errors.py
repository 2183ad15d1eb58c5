"""Domain errors. The CLI and the web app translate these into messages and status codes."""
from __future__ import annotations

from typing import Sequence


class KbError(Exception):
    """Base of every error kb raises on purpose; its message is meant for the user."""


class ConfigError(KbError):
    """Settings have bad values or a config file cannot be read; `problems` lists every one, each naming the
    setting (and where its value came from, when known)."""

    def __init__(self, problems: str | Sequence[str]) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            message = f"{len(self.problems)} problems in the settings:\n" + "\n".join(f"  {p}" for p in self.problems)
        super().__init__(message)


class ArticleError(KbError):
    """Articles failed validation; `problems` lists every one found."""

    def __init__(self, problems: list) -> None:
        self.problems = problems
        errors = [p for p in problems if p.is_error]
        super().__init__(f"{len(errors)} problem(s) in the articles")


class IndexMissingError(KbError):
    """No built index where one was expected."""


class IndexFormatError(KbError):
    """An index directory is incomplete, corrupt or of an unknown format version."""


class ModelMismatchError(KbError):
    """An index was built with a different embedding model than the one configured."""


class EncoderError(KbError):
    """The embedding model cannot be loaded or is unknown."""


class BuildError(KbError):
    """A build failed; the previous index is left in place."""


class DatabaseError(KbError):
    """The database cannot be reached, or its URL or schema is wrong."""


class AccountError(KbError):
    """An organisation or user cannot be created or changed as asked."""


class TicketError(KbError):
    """A ticket cannot be created or changed as asked (e.g. an unknown status)."""


class NoticeError(KbError):
    """A known-issue notice cannot be created, changed or attached as asked."""


class MacroError(KbError):
    """A macro (a saved reply) cannot be saved, changed or used as asked; `field` names the bad field."""

    def __init__(self, message: str, field: str = "") -> None:
        self.field = field
        super().__init__(message)


class MailboxError(KbError):
    """The IMAP mailbox cannot be reached, signed in to or read."""


class AttachmentError(KbError):
    """Files cannot be attached as given; `problems` lists every refused file, each naming the file and the rule
    it breaks (kb/helpdesk/attachments.py `Problem`)."""

    def __init__(self, problems: Sequence) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def filename(self) -> str:
        return self.problems[0].filename if self.problems else ""

    @property
    def rule(self) -> str:
        return self.problems[0].rule if self.problems else ""


class LinkError(AccountError):
    """An account link that cannot be used: unknown, forged, expired, withdrawn, used already or someone else's.
    One message for all of them, so a link's answer tells nothing about why."""


class NotAllowedError(AccountError):
    """The signed-in user may not do this (a member inviting, a manager reaching outside their organisation)."""


class CommunityError(KbError):
    """A community question, answer, vote or report cannot be posted or changed as asked; `field` names the bad
    field (empty when it is no field's fault, e.g. a vote on one's own answer)."""

    def __init__(self, message: str, field: str = "") -> None:
        self.field = field
        super().__init__(message)


class CommunityForbidden(CommunityError):
    """The user may read the post but not do this to it (edit someone else's answer, moderate as a customer)."""
