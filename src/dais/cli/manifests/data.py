"""Manifest kinds of data: ``Connection`` and ``Dataset``.

Secrets are never exported. A connection's manifest names each secret that is set as a placeholder,
``${env:NAME}``, which ``dais apply`` reads from the environment; a literal value is taken as it is.
Secrets already set on the server are left alone (rotate one with ``dais connections update -s``),
so applying a file twice changes nothing.

A dataset is registered when it does not exist (``dais apply`` waits for the registration job and
fails with the source's message). Its description, tags and partition filter can change later; its
connection and source cannot (delete it and apply again).
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from dais.cli.manifests.base import Change, Manifest
from dais.cli.manifests.tenancy import InWorkspaceMeta, _diff, _parse
from dais.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from dais.client import Client

_ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$")
REGISTER_TIMEOUT_S = 600.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ConnectionSpec(_Strict):
    kind: str
    description: str = ""
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)


class DatasetSpec(_Strict):
    connection: str | None = None
    source: dict[str, Any]
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    allow_empty: bool = False


def env_name(connection: str, secret: str) -> str:
    """The environment variable an exported secret is read from: ``DAIS_SECRET_<CONNECTION>_<SECRET>``."""
    return re.sub(r"[^A-Z0-9_]", "_", f"DAIS_SECRET_{connection}_{secret}".upper())


def resolve_secret(value: str) -> str | None:
    """A secret's value: ``${env:NAME}`` from the environment (``None`` if unset), else as written."""
    match = _ENV_REF.match(value.strip())
    if match is None:
        return value
    return os.environ.get(match.group(1))


def _meta(manifest: Manifest, kind: str) -> tuple[str, str]:
    meta = _parse(InWorkspaceMeta, manifest.metadata, f"{kind} metadata")
    if not meta.name:
        raise InvalidInput(f"{kind} metadata needs name.")
    return meta.workspace, meta.name


class ConnectionKind:
    """A data connection: ``metadata.workspace`` and ``metadata.name``; ``spec`` has its kind,
    description, config and secrets (``${env:NAME}`` placeholders)."""

    kind: ClassVar[str] = "Connection"
    order: ClassVar[int] = 40

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        slug = client.workspaces.get(workspace).slug
        out = []
        for conn in sorted(client.connections.list(workspace=workspace), key=lambda c: c.name):
            spec: dict[str, Any] = {"kind": conn.kind, "description": conn.description, "config": conn.config}
            if conn.secrets_set:
                spec["secrets"] = {s: f"${{env:{env_name(conn.name, s)}}}" for s in sorted(conn.secrets_set)}
            out.append(Manifest(self.kind, {"workspace": slug, "name": conn.name}, spec))
        return out

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        workspace, name = _meta(manifest, self.kind)
        label = f"{workspace}/{name}"
        spec = _parse(ConnectionSpec, manifest.spec, f"Connection {label} spec")
        try:
            current = client.connections.get(name, workspace=workspace)
        except NotFound:
            current = None
        wanted_secrets = {k: resolve_secret(v) for k, v in spec.secrets.items()}
        if current is None:
            missing = [spec.secrets[k] for k, v in wanted_secrets.items() if v is None]
            if missing:
                raise InvalidInput(
                    f"Connection {label} needs secrets from the environment: set {', '.join(missing)}."
                )
            if not dry_run:
                client.connections.create(
                    name,
                    spec.kind,
                    config=spec.config,
                    secrets={k: v for k, v in wanted_secrets.items() if v is not None},
                    description=spec.description,
                    workspace=workspace,
                )
            return Change(self.kind, label, "created", [f"kind: {spec.kind}"])
        if current.kind != spec.kind:
            raise InvalidInput(
                f"Connection {label} is of kind {current.kind}, not {spec.kind}: "
                "a kind cannot change (delete the connection and apply again)."
            )
        # Only the config keys the manifest names count: the server may fill in defaults for others.
        config_changes, details = _diff({k: current.config.get(k) for k in spec.config}, spec.config)
        changes: dict[str, Any] = {"config": config_changes} if config_changes else {}
        if current.description != spec.description:
            changes["description"] = spec.description
            details.append(f"description: {current.description!r} -> {spec.description!r}")
        new_secrets = {
            k: v for k, v in wanted_secrets.items() if k not in current.secrets_set and v is not None
        }
        unset = [
            spec.secrets[k] for k, v in wanted_secrets.items() if k not in current.secrets_set and v is None
        ]
        if unset:
            raise InvalidInput(f"Connection {label} lacks secrets: set {', '.join(unset)}.")
        if new_secrets:
            details.append(f"secrets set: {', '.join(sorted(new_secrets))}")
        if not changes and not new_secrets:
            return Change(self.kind, label, "unchanged")
        if not dry_run:
            client.connections.update(
                name,
                description=changes.get("description"),
                config=changes.get("config"),
                secrets=dict(new_secrets) or None,
                workspace=workspace,
            )
        return Change(self.kind, label, "configured", details)


class DatasetKind:
    """A dataset: ``metadata.workspace`` and ``metadata.name``; ``spec`` has its connection (null: the
    workspace's uploads), source (path or table or query, format, partition_filter, csv),
    description and tags."""

    kind: ClassVar[str] = "Dataset"
    order: ClassVar[int] = 50

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        slug = client.workspaces.get(workspace).slug
        out = []
        for ds in sorted(client.datasets.list(workspace=workspace), key=lambda d: d.name):
            spec: dict[str, Any] = {
                "connection": ds.connection,
                "source": {k: v for k, v in ds.source.items() if v is not None},
                "description": ds.description,
                "tags": list(ds.tags),
            }
            out.append(Manifest(self.kind, {"workspace": slug, "name": ds.name}, spec))
        return out

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        workspace, name = _meta(manifest, self.kind)
        label = f"{workspace}/{name}"
        spec = _parse(DatasetSpec, manifest.spec, f"Dataset {label} spec")
        source = {k: v for k, v in spec.source.items() if v is not None}
        try:
            current = client.datasets.get(name, workspace=workspace)
        except NotFound:
            current = None
        if current is None:
            if not dry_run:
                client.datasets.register(
                    name,
                    connection=spec.connection,
                    path=source.get("path"),
                    table=source.get("table"),
                    query=source.get("query"),
                    format=str(source.get("format", "auto")),
                    partition_filter=source.get("partition_filter"),
                    csv=source.get("csv"),
                    description=spec.description,
                    tags=spec.tags,
                    allow_empty=spec.allow_empty,
                    timeout=REGISTER_TIMEOUT_S,
                    workspace=workspace,
                )
            where = source.get("path") or source.get("table") or "a query"
            return Change(self.kind, label, "created", [f"from {spec.connection or 'uploads'}: {where}"])
        have_source = {k: v for k, v in current.source.items() if v is not None}
        fixed = {
            k: (have_source.get(k), v)
            for k, v in source.items()
            if k != "partition_filter" and have_source.get(k) != v
        }
        if current.connection != spec.connection:
            fixed["connection"] = (current.connection, spec.connection)
        if fixed:
            what = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in fixed.items())
            raise InvalidInput(
                f"Dataset {label} was registered from another source ({what}); "
                "delete it and apply again to register it anew."
            )
        have: dict[str, Any] = {"description": current.description, "tags": list(current.tags)}
        wanted: dict[str, Any] = {"description": spec.description, "tags": spec.tags}
        if "partition_filter" in source:
            have["partition_filter"] = have_source.get("partition_filter")
            wanted["partition_filter"] = source["partition_filter"]
        changes, details = _diff(have, wanted)
        if not changes:
            return Change(self.kind, label, "unchanged")
        if not dry_run:
            client.datasets.update(
                name,
                description=changes.get("description"),
                tags=changes.get("tags"),
                partition_filter=changes.get("partition_filter"),
                workspace=workspace,
            )
        return Change(self.kind, label, "configured", details)
