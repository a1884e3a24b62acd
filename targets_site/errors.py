"""The domain's error vocabulary: what services, selectors and pure helpers raise.

Plain Python exceptions that know nothing of HTTP. Each carries a machine ``code``, a human
``message`` and ``details``; the one API handler (``targets_site.exceptions``) gives each kind its
status and the JSON error shape, the admin shows ``message`` as an error message and management
commands re-raise it as ``CommandError(str(err))``.

    raise Conflict("Not enough stock: 3 in stock, cannot remove 5.")
    raise InvalidInput(details={"username": ["This username is taken."]})
    raise InvalidInput.for_field("points", "Points beyond what the hits allow.",
                                 code="points_exceed_hits")
    raise NotFound("No sensor with code 'X'.")

``details`` is ``{field: [messages]}``; for a batch it may also be a list with one entry per row
(``{}`` for a good row), which the handler keys by row index.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """Base of the vocabulary; catch this to handle every domain error alike."""

    default_code: ClassVar[str] = "error"
    default_message: ClassVar[str] = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | list[Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.code = code or self.default_code
        self.details: dict[str, Any] | list[Any] = details if details is not None else {}
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r}, code={self.code!r})"


class InvalidInput(DomainError):
    """The input breaks a rule (400); ``details`` names each bad field or row."""

    default_code = "validation_error"
    default_message = "Invalid input."

    @classmethod
    def for_field(cls, field: str, message: str, *, code: str | None = None) -> InvalidInput:
        """One bad field: the message is both the error's and the field's."""
        return cls(message, code=code, details={field: [message]})

    def __str__(self) -> str:
        """One line naming each bad field (or row), for the admin and the commands."""
        return details_text(self.details) or self.message


def details_text(details: dict[str, Any] | list[Any] | Any) -> str:
    """``{"dataset": ["Unknown."]}`` as ``dataset: Unknown.`` (list rows as ``row N: ...``)."""
    if isinstance(details, dict):
        parts = []
        for key, value in details.items():
            text = details_text(value)
            label = f"row {key}" if isinstance(key, int) else str(key)
            parts.append(f"{label}: {text}" if label != "non_field_errors" else text)
        return "; ".join(part for part in parts if part)
    if isinstance(details, list):
        if details and all(isinstance(entry, dict) for entry in details):
            return details_text({index: entry for index, entry in enumerate(details) if entry})
        return " ".join(details_text(entry) for entry in details)
    return " ".join(str(details).split())


class NotFound(DomainError):
    """What the request names does not exist (404)."""

    default_code = "not_found"
    default_message = "Not found."


class PermissionDenied(DomainError):
    """The caller may not do this (403)."""

    default_code = "permission_denied"
    default_message = "You do not have permission to perform this action."


Forbidden = PermissionDenied


class Conflict(DomainError):
    """The request conflicts with the current state (409): stock below zero, a duplicate, a race."""

    default_code = "conflict"
    default_message = "The request conflicts with the current state of the resource."


class PreconditionFailed(DomainError):
    """A precondition the caller set no longer holds (412), e.g. a stale ``If-Match``."""

    default_code = "precondition_failed"
    default_message = "The resource has changed since you read it (If-Match does not match)."


class Gone(DomainError):
    """What the request names existed but is no longer kept (410), e.g. a pruned export file."""

    default_code = "gone"
    default_message = "This resource is no longer available."


class TooLarge(DomainError):
    """The input is larger than allowed (413)."""

    default_code = "payload_too_large"
    default_message = "The request body is too large."


class Unprocessable(DomainError):
    """Well-formed but cannot be processed (422), e.g. a re-used submission id with a new body."""

    default_code = "unprocessable"
    default_message = "The request is well-formed but cannot be processed."


class UpstreamFailed(DomainError):
    """A remote server the request had to reach answered badly or not at all (502), e.g. a
    notification channel's test message."""

    default_code = "bad_gateway"
    default_message = "A remote server did not accept the request."


class Unavailable(DomainError):
    """A backing service (database, cache, storage) is unavailable (503)."""

    default_code = "service_unavailable"
    default_message = "A backing service is unavailable; try again shortly."
