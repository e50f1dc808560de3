"""The manifest mechanism: documents, the handler interface, the registry, export and apply."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import yaml

from dais.core.errors import InvalidInput
from dais.core.plugins import Registry, registry

if TYPE_CHECKING:
    from dais.client import Client

API_VERSION = "dais/v1"

BUILTIN_KINDS = {
    "Workspace": "dais.cli.manifests.tenancy:WorkspaceKind",
    "Member": "dais.cli.manifests.tenancy:MemberKind",
    "Quota": "dais.cli.manifests.tenancy:QuotaKind",
    "Connection": "dais.cli.manifests.data:ConnectionKind",
    "Dataset": "dais.cli.manifests.data:DatasetKind",
    "Pipeline": "dais.cli.manifests.pipelines:PipelineKind",
}


@dataclass
class Manifest:
    """One YAML document: which object (``metadata``) and how it should be (``spec``)."""

    kind: str
    metadata: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)
    api_version: str = API_VERSION

    def to_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata,
            "spec": self.spec,
        }


@dataclass
class Change:
    """What applying one manifest did (or, in a dry run, would do)."""

    kind: str
    name: str
    action: Literal["created", "configured", "unchanged"]
    details: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"


class KindHandler(Protocol):
    """Exports and applies the objects of one kind through the SDK."""

    kind: ClassVar[str]
    order: ClassVar[int]
    """Apply order: lower first (a workspace before its members)."""

    def export(self, client: Client, workspace: str) -> list[Manifest]:
        """The manifests of this kind that describe ``workspace`` as it is now."""
        ...

    def apply(self, client: Client, manifest: Manifest, *, dry_run: bool = False) -> Change:
        """Create or update the object so it matches ``manifest``; idempotent."""
        ...


def kinds() -> Registry[type[KindHandler]]:
    """The registry of manifest kinds (entry-point group ``dais.manifest_kinds``)."""
    return registry("dais.manifest_kinds", builtins=BUILTIN_KINDS)


def handler_for(kind: str) -> KindHandler:
    reg = kinds()
    if kind not in reg:
        raise InvalidInput(f"Unknown kind {kind!r}; known kinds: {', '.join(reg.names())}.")
    return reg.get(kind)()


def load_manifests(text: str, *, source: str = "<input>") -> list[Manifest]:
    """Parse YAML documents into manifests, checking the envelope of each."""
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source} is not valid YAML: {exc}") from exc
    out: list[Manifest] = []
    for i, doc in enumerate(docs, 1):
        where = f"{source}, document {i}"
        if not isinstance(doc, dict):
            raise InvalidInput(f"{where}: expected a mapping with apiVersion, kind, metadata and spec.")
        if doc.get("apiVersion") != API_VERSION:
            raise InvalidInput(f"{where}: apiVersion must be {API_VERSION!r}, not {doc.get('apiVersion')!r}.")
        kind, metadata, spec = doc.get("kind"), doc.get("metadata"), doc.get("spec") or {}
        if not isinstance(kind, str) or not isinstance(metadata, dict) or not isinstance(spec, dict):
            raise InvalidInput(f"{where}: needs a kind (text), metadata (mapping) and spec (mapping).")
        unknown = set(doc) - {"apiVersion", "kind", "metadata", "spec"}
        if unknown:
            raise InvalidInput(f"{where}: unknown top-level fields {', '.join(sorted(unknown))}.")
        out.append(Manifest(kind, metadata, spec))
    return out


def dump_manifests(manifests: Iterable[Manifest]) -> str:
    """Manifests as a multi-document YAML text."""
    return str(
        yaml.safe_dump_all(
            [m.to_dict() for m in manifests], sort_keys=False, allow_unicode=True, explicit_start=True
        )
    )


def export_workspace(client: Client, workspace: str) -> list[Manifest]:
    """Every kind's manifests for ``workspace``, in apply order."""
    out: list[Manifest] = []
    for handler in sorted((handler_for(k) for k in kinds().names()), key=lambda h: h.order):
        out.extend(handler.export(client, workspace))
    return out


def apply_manifests(client: Client, manifests: list[Manifest], *, dry_run: bool = False) -> list[Change]:
    """Apply manifests in kind order (stable within a kind); returns one change per manifest."""
    handlers = {m.kind: handler_for(m.kind) for m in manifests}
    ordered = sorted(manifests, key=lambda m: handlers[m.kind].order)
    return [handlers[m.kind].apply(client, m, dry_run=dry_run) for m in ordered]
