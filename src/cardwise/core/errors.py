"""Domain errors. Services raise them; the API maps each kind to one HTTP status, once."""

from __future__ import annotations


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    status_code = 404


class Invalid(DomainError):
    """Well-formed input that the domain cannot accept (unknown category, end before start …)."""

    status_code = 422


class Conflict(DomainError):
    """The request contradicts the current state (an idempotency key reused for another request …)."""

    status_code = 409
