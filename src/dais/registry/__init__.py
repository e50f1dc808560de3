"""The model registry: registered models, versions, tags, aliases (with their history), legacy stages,
MLflow 3 logged models, and the model package format (an MLflow model directory plus ``dais.json``).

Other domains use only these names. The registry sits below tracking: it never imports it; what it
needs from tracking (where a run's artifacts lie, a logged model's metrics) is passed in as callables.
The package functions are imported lazily (they pull in YAML and the ML libraries only when used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dais.registry.aliases import alias_history, delete_alias, set_alias
from dais.registry.errors import (
    LoggedModelNotFound,
    ModelVersionNotFound,
    RegisteredModelExists,
    RegisteredModelNotFound,
    RegistryInvalid,
)
from dais.registry.logged_models import (
    LoggedModelView,
    MetricCondition,
    create_logged_model,
    delete_logged_model,
    delete_logged_model_tag,
    finalize_logged_model,
    get_logged_model,
    log_logged_model_params,
    logged_model_views,
    search_logged_models,
    set_logged_model_tags,
)
from dais.registry.models import (
    LoggedModel,
    LoggedModelParam,
    LoggedModelTag,
    ModelAlias,
    ModelAliasEvent,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from dais.registry.service import (
    MLFLOW_ARTIFACTS_PREFIX,
    RunArtifactResolver,
    create_registered_model,
    delete_registered_model,
    delete_registered_model_tag,
    get_registered_model,
    now_ms,
    rename_registered_model,
    search_registered_models,
    set_registered_model_tag,
    update_registered_model,
)
from dais.registry.versions import (
    artifact_key_for_uri,
    create_model_version,
    delete_model_version,
    delete_model_version_tag,
    download_uri,
    download_uri_for_key,
    get_latest_versions,
    get_model_version,
    get_version_by_alias,
    resolve_models_uri,
    resolve_source,
    search_model_versions,
    set_model_version_tag,
    transition_stage,
    update_model_version,
)
from dais.registry.views import ModelView, VersionView, model_views, version_views

if TYPE_CHECKING:
    from dais.registry.package import (
        PackageInfo,
        detect_runtime,
        download_package,
        read_package,
        upload_package,
        write_package,
    )

_PACKAGE_NAMES = (
    "PackageInfo",
    "detect_runtime",
    "download_package",
    "read_package",
    "upload_package",
    "write_package",
)

__all__ = [
    "MLFLOW_ARTIFACTS_PREFIX",
    "LoggedModel",
    "LoggedModelNotFound",
    "LoggedModelParam",
    "LoggedModelTag",
    "LoggedModelView",
    "MetricCondition",
    "ModelAlias",
    "ModelAliasEvent",
    "ModelVersion",
    "ModelVersionNotFound",
    "ModelVersionTag",
    "ModelView",
    "PackageInfo",
    "RegisteredModel",
    "RegisteredModelExists",
    "RegisteredModelNotFound",
    "RegisteredModelTag",
    "RegistryInvalid",
    "RunArtifactResolver",
    "VersionView",
    "alias_history",
    "artifact_key_for_uri",
    "create_logged_model",
    "create_model_version",
    "create_registered_model",
    "delete_alias",
    "delete_logged_model",
    "delete_logged_model_tag",
    "delete_model_version",
    "delete_model_version_tag",
    "delete_registered_model",
    "delete_registered_model_tag",
    "detect_runtime",
    "download_package",
    "download_uri",
    "download_uri_for_key",
    "finalize_logged_model",
    "get_latest_versions",
    "get_logged_model",
    "get_model_version",
    "get_registered_model",
    "get_version_by_alias",
    "log_logged_model_params",
    "logged_model_views",
    "model_views",
    "now_ms",
    "read_package",
    "rename_registered_model",
    "resolve_models_uri",
    "resolve_source",
    "search_logged_models",
    "search_model_versions",
    "search_registered_models",
    "set_alias",
    "set_logged_model_tags",
    "set_model_version_tag",
    "set_registered_model_tag",
    "transition_stage",
    "update_model_version",
    "update_registered_model",
    "upload_package",
    "version_views",
    "write_package",
]


def __getattr__(name: str) -> Any:
    if name in _PACKAGE_NAMES:
        return getattr(importlib.import_module("dais.registry.package"), name)
    raise AttributeError(name)
