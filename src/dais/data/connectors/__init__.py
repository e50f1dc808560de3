"""Connector plugins (group ``dais.connectors``): file, s3, sql, hive, hdfs.

:func:`open_connector` turns a stored connection (kind, config, secrets) into a ready connector;
:func:`run_with_timeout` bounds any blocking source call.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from dais.core.errors import InvalidInput, PluginError
from dais.core.settings import DataSettings
from dais.data.connectors.base import (
    CheckResult,
    Connector,
    ConnectorUnavailable,
    FilesConnector,
    NoSecrets,
    SourceAccessDenied,
    SourceEntry,
    SourceError,
    SourceNotFound,
    SourceTimeout,
    SourceUnreachable,
    TablesConnector,
    UnreadableData,
    connectors,
)
from dais.data.connectors.calls import run_with_timeout, scrub, timed_check

__all__ = [
    "CheckResult",
    "Connector",
    "ConnectorUnavailable",
    "FilesConnector",
    "NoSecrets",
    "SourceAccessDenied",
    "SourceEntry",
    "SourceError",
    "SourceNotFound",
    "SourceTimeout",
    "SourceUnreachable",
    "TablesConnector",
    "UnreadableData",
    "connector_class",
    "connectors",
    "open_connector",
    "run_with_timeout",
    "scrub",
    "timed_check",
    "validated",
]


def connector_class(kind: str) -> type[Connector]:
    """The connector plugin for ``kind``; :class:`InvalidInput` naming the known kinds if none."""
    reg = connectors()
    if kind not in reg:
        raise InvalidInput(
            f"Unknown connection kind {kind!r}; known kinds: {', '.join(reg.names())}.",
            errors=[{"loc": ["body", "kind"], "msg": "unknown kind"}],
        )
    try:
        return reg.get(kind)
    except PluginError as exc:
        raise InvalidInput(
            f"The connector {kind!r} cannot be loaded: {exc.detail}",
            errors=[{"loc": ["body", "kind"], "msg": "broken plugin"}],
        ) from exc


def validated(model: type[BaseModel], data: dict[str, Any], part: str) -> BaseModel:
    """``data`` as ``model``, or :class:`InvalidInput` with ``loc`` ``["body", part, field...]``.

    Built from pydantic's messages without their inputs, so a secret's value is never repeated.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": ["body", part, *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False, include_context=False)
        ]
        fields = "; ".join(f"{'.'.join(map(str, e['loc'][2:])) or part}: {e['msg']}" for e in errors[:3])
        raise InvalidInput(f"The connection {part} does not fit: {fields}.", errors=errors) from exc


def open_connector(
    kind: str, config: dict[str, Any], secrets: dict[str, Any], settings: DataSettings
) -> Connector:
    """A connector of ``kind`` with ``config`` and ``secrets`` validated (and ``validate_config`` run).

    Touches no source. Raises :class:`InvalidInput` with ``loc`` ``["body", "config"|"secrets", field]``.
    """
    cls = connector_class(kind)
    problems: list[InvalidInput] = []
    models: list[BaseModel] = []
    for model, data, part in ((cls.Config, config, "config"), (cls.Secrets, secrets, "secrets")):
        try:
            models.append(validated(model, data, part))
        except InvalidInput as exc:
            problems.append(exc)
    if problems:  # both parts' mistakes at once
        raise InvalidInput(
            " ".join(p.detail for p in problems), errors=[e for p in problems for e in p.errors]
        ) from problems[0]
    connector = cls(models[0], models[1], settings=settings)
    connector.validate_config()
    return connector
