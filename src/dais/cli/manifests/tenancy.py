"""Manifest kinds of tenancy: ``Workspace``, ``Member`` and ``Quota``.

Members not named in the manifests are left alone (apply adds and changes, it never removes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dais.cli.manifests.base import Change, Manifest
from dais.core.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from dais.client import Client

QUOTA_FIELDS = ("priority", "max_concurrent_jobs", "max_cpus", "max_memory_mb", "max_gpus")

M = TypeVar("M", bound=BaseModel)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkspaceMeta(_Strict):
    name: str = Field(description="The workspace slug.")


class WorkspaceSpec(_Strict):
    name: str | None = None
    description: str | None = None


class InWorkspaceMeta(_Strict):
    workspace: str
    name: str | None = None


class MemberSpec(_Strict):
    role: str


class QuotaSpec(_Strict):
    priority: int | None = None
    max_concurrent_jobs: int | None = None
    max_cpus: float | None = None
    max_memory_mb: int | None = None
    max_gpus: int | None = None


def _parse(model: type[M], data: dict[str, Any], where: str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [{"loc": [where, *map(str, e["loc"])], "msg": e["msg"]} for e in exc.errors()]
        raise InvalidInput(f"{where} is not valid.", errors=errors) from exc


def _diff(current: dict[str, Any], wanted: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    changes = {k: v for k, v in wanted.items() if current.get(k) != v}
    return changes, [f"{k}: {current.get(k)!r} -> {v!r}" for k, v in changes.items()]


class WorkspaceKind:
    """A workspace: ``metadata.name`` is its slug; ``spec`` has its name and description."""

    kind: ClassVar[str] = "Workspace"
    order: ClassVar[int] = 10

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        ws = client.workspaces.get(workspace)
        return [Manifest(self.kind, {"name": ws.slug}, {"name": ws.name, "description": ws.description})]

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        meta = _parse(WorkspaceMeta, manifest.metadata, "Workspace metadata")
        spec = _parse(WorkspaceSpec, manifest.spec, f"Workspace {meta.name} spec")
        wanted = spec.model_dump(exclude_none=True)
        try:
            ws = client.workspaces.get(meta.name)
        except NotFound:
            if not dry_run:
                client.workspaces.create(meta.name, name=spec.name, description=spec.description or "")
            return Change(self.kind, meta.name, "created")
        changes, details = _diff({"name": ws.name, "description": ws.description}, wanted)
        if not changes:
            return Change(self.kind, meta.name, "unchanged")
        if not dry_run:
            client.workspaces.update(meta.name, **changes)
        return Change(self.kind, meta.name, "configured", details)


class MemberKind:
    """A membership: ``metadata.workspace`` and ``metadata.name`` (the username); ``spec.role``."""

    kind: ClassVar[str] = "Member"
    order: ClassVar[int] = 20

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        slug = client.workspaces.get(workspace).slug
        return [
            Manifest(self.kind, {"workspace": slug, "name": m.username}, {"role": m.role})
            for m in sorted(client.members.list(workspace), key=lambda m: m.username)
        ]

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        meta = _parse(InWorkspaceMeta, manifest.metadata, "Member metadata")
        if not meta.name:
            raise InvalidInput("Member metadata needs name (the username).")
        spec = _parse(MemberSpec, manifest.spec, f"Member {meta.workspace}/{meta.name} spec")
        label = f"{meta.workspace}/{meta.name}"
        current = next(
            (m for m in client.members.list(meta.workspace, q=meta.name) if m.username == meta.name), None
        )
        if current is None:
            if not dry_run:
                client.members.add(meta.workspace, meta.name, spec.role)
            return Change(self.kind, label, "created", [f"role: {spec.role}"])
        if current.role == spec.role:
            return Change(self.kind, label, "unchanged")
        if not dry_run:
            client.members.set_role(meta.workspace, meta.name, spec.role)
        return Change(self.kind, label, "configured", [f"role: {current.role} -> {spec.role}"])


class QuotaKind:
    """A workspace's quota and priority: ``metadata.workspace``; ``spec`` holds the limits (null: none)."""

    kind: ClassVar[str] = "Quota"
    order: ClassVar[int] = 30

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        q = client.quotas.get(workspace)
        slug = client.workspaces.get(workspace).slug
        return [Manifest(self.kind, {"workspace": slug}, {f: getattr(q, f) for f in QUOTA_FIELDS})]

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        meta = _parse(InWorkspaceMeta, manifest.metadata, "Quota metadata")
        spec = _parse(QuotaSpec, manifest.spec, f"Quota {meta.workspace} spec")
        wanted = spec.model_dump(include=set(manifest.spec))
        q = client.quotas.get(meta.workspace)
        changes, details = _diff({f: getattr(q, f) for f in QUOTA_FIELDS}, wanted)
        if not changes:
            return Change(self.kind, meta.workspace, "unchanged")
        if not dry_run:
            client.quotas.set(meta.workspace, **changes)
        return Change(self.kind, meta.workspace, "configured", details)
