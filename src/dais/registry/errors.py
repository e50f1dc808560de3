"""Registry errors: Dais errors that also carry the MLflow error code the MLflow facade answers with.

Each class is a :class:`~dais.core.errors.DaisError` (the native API answers problem+json as usual)
with a class attribute ``mlflow_code``, the code MLflow's own server sends for the same mistake.
"""

from __future__ import annotations

from typing import ClassVar

from dais.core.errors import AlreadyExists, InvalidInput, NotFound

__all__ = [
    "LoggedModelNotFound",
    "ModelVersionNotFound",
    "RegisteredModelExists",
    "RegisteredModelNotFound",
    "RegistryInvalid",
]


class RegisteredModelNotFound(NotFound):
    """No registered model of that name in the workspace (other workspaces' models look the same)."""

    code = "registered_model_not_found"
    title = "Registered model not found"
    mlflow_code: ClassVar[str] = "RESOURCE_DOES_NOT_EXIST"


class ModelVersionNotFound(NotFound):
    """No such version (or alias) of a registered model."""

    code = "model_version_not_found"
    title = "Model version not found"
    mlflow_code: ClassVar[str] = "RESOURCE_DOES_NOT_EXIST"


class LoggedModelNotFound(NotFound):
    """No logged model with that id in the workspace."""

    code = "logged_model_not_found"
    title = "Logged model not found"
    mlflow_code: ClassVar[str] = "RESOURCE_DOES_NOT_EXIST"


class RegisteredModelExists(AlreadyExists):
    """A registered model of that name already exists in the workspace."""

    code = "registered_model_exists"
    title = "Registered model already exists"
    mlflow_code: ClassVar[str] = "RESOURCE_ALREADY_EXISTS"


class RegistryInvalid(InvalidInput):
    """A value the registry refuses: a bad name, alias, stage, source URI, filter or page token."""

    code = "registry_invalid"
    title = "Invalid registry request"
    mlflow_code: ClassVar[str] = "INVALID_PARAMETER_VALUE"
