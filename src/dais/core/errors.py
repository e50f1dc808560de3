"""One exception tree for the whole platform.

Every error a user can cause is a :class:`DaisError` subclass with a stable ``code``; the API maps
codes to HTTP statuses in one place and answers ``application/problem+json``; the SDK maps the code
back to the same class. Never raise ``HTTPException`` from a service.
"""

from __future__ import annotations

from typing import Any, ClassVar

_REGISTRY: dict[str, type[DaisError]] = {}


class DaisError(Exception):
    """Base of every error Dais raises on purpose."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        self.detail = detail or self.title
        self.errors = errors or []
        #: HTTP headers for the reply that reports this error (not part of the problem document).
        self.headers = dict(headers or {})
        self.extra = extra
        super().__init__(self.detail)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[cls.code] = cls

    def to_problem(self, *, instance: str | None = None, request_id: str | None = None) -> dict[str, Any]:
        """This error as an RFC 9457 problem document."""
        body: dict[str, Any] = {
            "type": f"https://dais.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            body["instance"] = instance
        if request_id:
            body["request_id"] = request_id
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


def error_class_for(code: str) -> type[DaisError]:
    """The class registered for a problem code (``DaisError`` for an unknown code)."""
    return _REGISTRY.get(code, DaisError)


class InvalidInput(DaisError):
    code = "invalid_input"
    status = 422
    title = "Invalid input"


class BadRequest(DaisError):
    code = "bad_request"
    status = 400
    title = "Bad request"


class Unauthenticated(DaisError):
    code = "unauthenticated"
    status = 401
    title = "Authentication required"


class PermissionDenied(DaisError):
    code = "permission_denied"
    status = 403
    title = "Permission denied"


class NotFound(DaisError):
    code = "not_found"
    status = 404
    title = "Not found"


class MethodNotAllowed(DaisError):
    code = "method_not_allowed"
    status = 405
    title = "Method not allowed"


class Conflict(DaisError):
    code = "conflict"
    status = 409
    title = "Conflict"


class AlreadyExists(Conflict):
    code = "already_exists"
    title = "Already exists"


class PayloadTooLarge(DaisError):
    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class RangeNotSatisfiable(DaisError):
    code = "range_not_satisfiable"
    status = 416
    title = "Range not satisfiable"


class QuotaExceeded(DaisError):
    code = "quota_exceeded"
    status = 429
    title = "Quota exceeded"


class SchemaOutOfDate(DaisError):
    code = "schema_out_of_date"
    status = 503
    title = "Database schema out of date"


class ServiceUnavailable(DaisError):
    code = "unavailable"
    status = 503
    title = "Service unavailable"


class InstanceLocked(DaisError):
    code = "instance_locked"
    status = 409
    title = "Another Dais instance holds this home"


class PluginError(DaisError):
    code = "plugin_error"
    status = 500
    title = "Plugin error"


class UnsafePath(InvalidInput):
    code = "unsafe_path"
    title = "Unsafe path"


# -- data sources: what went wrong at a source, in the source's own words ---------------------------------


class SourceError(DaisError):
    """The source refused or failed; ``detail`` carries its own message."""

    code = "source_error"
    status = 422
    title = "The data source returned an error"


class SourceNotFound(SourceError):
    code = "source_not_found"
    title = "The path, bucket or table does not exist"


class SourceAccessDenied(SourceError):
    code = "source_access_denied"
    title = "The source refused access (credentials or permissions)"


class SourceUnreachable(SourceError):
    code = "source_unreachable"
    title = "The source cannot be reached"


class SourceTimeout(SourceError):
    code = "source_timeout"
    status = 504
    title = "The source did not answer in time"


class UnreadableData(SourceError):
    code = "unreadable_data"
    title = "The data cannot be read in the format given"


class ConnectorUnavailable(SourceError):
    """A connector kind that needs something not installed here (the spark extra, a Hadoop client)."""

    code = "connector_unavailable"
    status = 501
    title = "This connector kind is not available on this installation"


# -- pipelines ------------------------------------------------------------------------------------------


class PipelineInvalid(InvalidInput):
    """The pipeline has errors; ``errors`` lists each with its ``loc`` (node and field) and ``msg``."""

    code = "pipeline_invalid"
    title = "Invalid pipeline"
