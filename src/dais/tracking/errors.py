"""Tracking errors: Dais errors that also carry the MLflow error code the facade answers with.

Each class is a :class:`~dais.core.errors.DaisError` (so the native API answers problem+json as
usual) with a class attribute ``mlflow_code``: the code MLflow's own server sends for the same
mistake, which the MLflow REST facade puts in ``{"error_code": ..., "message": ...}``.
"""

from __future__ import annotations

from typing import ClassVar

from dais.core.errors import AlreadyExists, InvalidInput, NotFound

__all__ = [
    "InvalidParameterValue",
    "ResourceAlreadyExists",
    "ResourceDoesNotExist",
]


class ResourceDoesNotExist(NotFound):
    """An experiment, run, metric or artifact that does not exist (or lies in another workspace)."""

    code = "resource_does_not_exist"
    title = "Resource does not exist"
    mlflow_code: ClassVar[str] = "RESOURCE_DOES_NOT_EXIST"


class InvalidParameterValue(InvalidInput):
    """A value MLflow refuses: a bad filter, a key too long, a changed param, a batch over limits."""

    code = "invalid_parameter_value"
    title = "Invalid parameter value"
    mlflow_code: ClassVar[str] = "INVALID_PARAMETER_VALUE"


class ResourceAlreadyExists(AlreadyExists):
    """A name already taken (an experiment of the same name in the workspace)."""

    code = "resource_already_exists"
    title = "Resource already exists"
    mlflow_code: ClassVar[str] = "RESOURCE_ALREADY_EXISTS"
