"""Specific exceptions, each with the Chinese message a person sees.

Views and commands catch these by type and show their message; anything else is a bug.
"""


class OpinionError(Exception):
    """Base class: str(exc) is the message shown to the user, in Chinese."""


class DistrictFileError(OpinionError):
    """The district YAML file is unreadable or inconsistent."""


class ImportFileError(OpinionError):
    """An import file cannot be read at all (a bad line is reported, not raised)."""


class BadItemError(OpinionError):
    """One incoming item is unusable; the message says which field and why."""


class CaseStateError(OpinionError):
    """An action not allowed in the case's current state."""


class PermissionDenied(OpinionError):
    """The user's role or unit does not allow this."""


class ReportError(OpinionError):
    """A report cannot be made: an unknown period, case or topic, or a format that cannot be written."""


class EditLockedError(OpinionError):
    """Someone else is composing a reply on this case (the message names them and until when)."""


class PublishError(OpinionError):
    """A reply could not be published through its channel; the draft is kept to retry."""


class ConflictError(OpinionError):
    """Someone else changed the case since this person opened it (optimistic locking)."""


class AlertStateError(OpinionError):
    """An alert cannot take this action in its state (already acknowledged, or cleared)."""


class TopicEditError(OpinionError):
    """A monitor's topic edit (merge, move posts, rename) is not possible as asked."""


class DeliveryError(OpinionError):
    """A notification channel refused or could not reach its server; the row keeps it to retry."""


class SourceConfigError(OpinionError):
    """A data source's settings are invalid (a missing URL or token, an interval out of range)."""


class ApiTokenError(OpinionError):
    """A personal API token cannot be used or made as asked; `code` names why for API callers."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


class InterviewError(OpinionError):
    """An online interview (在线访谈) or one of its questions cannot take this input or step."""


class InterviewClosed(InterviewError):
    """The interview no longer takes questions (ended or published), or does not exist."""
