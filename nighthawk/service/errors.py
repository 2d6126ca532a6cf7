"""Domain errors the service raises; the API maps each to one HTTP status."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(
        self,
        detail: str,
        *,
        reasons: list[str] | None = None,
        fields: list[tuple[str, str]] | None = None,
        study: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.reasons = reasons or []
        self.fields = fields or []  # (field, message): what is at fault, field by field
        self.study = study  # the study the conflict is with, when there is one


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Unprocessable(ServiceError):
    """Well-formed input the practice cannot accept; `detail` starts with the field's name."""

    status = 422

    def __init__(self, field: str, message: str, *, reasons: list[str] | None = None) -> None:
        super().__init__(f"{field}: {message}", reasons=reasons, fields=[(field, message)])
        self.field = field
        self.message = message
