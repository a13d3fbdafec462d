"""Expected failures of the service layer; the API turns them into user errors."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.base import ErrorCode, ProviderError


@dataclass(frozen=True)
class FieldProblem:
    code: ErrorCode
    message: str
    field: tuple[str, ...] | None = None
    provider_code: str | None = None
    retry_after: int | None = None


class ServiceError(Exception):
    """One or more expected problems (bad input, not found, vendor refusal, ...)."""

    def __init__(self, *problems: FieldProblem) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems

    @classmethod
    def single(
        cls, code: ErrorCode, message: str, field: tuple[str, ...] | None = None
    ) -> ServiceError:
        return cls(FieldProblem(code, message, field))

    @classmethod
    def from_provider(cls, error: ProviderError) -> ServiceError:
        return cls(
            FieldProblem(
                error.code,
                error.message,
                error.field,
                provider_code=error.provider_code,
                retry_after=error.retry_after,
            )
        )


class UnknownSessionForEvent(Exception):
    """A vendor event about a session this gateway does not know (yet): the vendor retries."""


class ConfigError(Exception):
    """Settings that cannot work; raised at start-up with a message naming the setting."""
