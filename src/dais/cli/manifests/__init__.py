"""Declarative configuration: ``dais export`` writes YAML documents, ``dais apply`` makes a server match.

Each document has ``apiVersion: dais/v1``, a ``kind``, ``metadata`` (which object) and ``spec`` (how
it should be). One handler per kind knows how to export and apply it; handlers live in the
``dais.manifest_kinds`` registry, so later domains (datasets, pipelines, endpoints) plug in theirs.
"""

from dais.cli.manifests.base import (
    API_VERSION,
    Change,
    KindHandler,
    Manifest,
    apply_manifests,
    dump_manifests,
    export_workspace,
    kinds,
    load_manifests,
)

__all__ = [
    "API_VERSION",
    "Change",
    "KindHandler",
    "Manifest",
    "apply_manifests",
    "dump_manifests",
    "export_workspace",
    "kinds",
    "load_manifests",
]
