"""Rows with what the API shows beside them: a version's model name, tags and aliases; a model's
tags, aliases and latest version per stage. Each loads its extras in a few bulk queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dais.registry.models import (
    ModelAlias,
    ModelVersion,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)


@dataclass
class VersionView:
    """A model version with its model's name, its tags and the aliases that point at it."""

    row: ModelVersion
    name: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)


@dataclass
class ModelView:
    """A registered model with its tags, aliases and latest version per stage."""

    row: RegisteredModel
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[VersionView] = field(default_factory=list)


def version_views(session: Session, rows: Sequence[ModelVersion]) -> list[VersionView]:
    """Views of ``rows`` (in order), loading names, tags and aliases in three queries."""
    if not rows:
        return []
    model_ids = {r.registered_model_id for r in rows}
    names: dict[str, str] = {
        row.id: row.name
        for row in session.execute(
            select(RegisteredModel.id, RegisteredModel.name).where(RegisteredModel.id.in_(model_ids))
        )
    }
    tags: dict[str, dict[str, str]] = {}
    for vid, key, value in session.execute(
        select(ModelVersionTag.version_id, ModelVersionTag.key, ModelVersionTag.value).where(
            ModelVersionTag.version_id.in_([r.id for r in rows])
        )
    ):
        tags.setdefault(vid, {})[key] = value
    aliases: dict[tuple[str, int], list[str]] = {}
    for mid, alias, version in session.execute(
        select(ModelAlias.registered_model_id, ModelAlias.alias, ModelAlias.version)
        .where(ModelAlias.registered_model_id.in_(model_ids))
        .order_by(ModelAlias.alias)
    ):
        aliases.setdefault((mid, version), []).append(alias)
    return [
        VersionView(
            row=r,
            name=names[r.registered_model_id],
            tags=tags.get(r.id, {}),
            aliases=aliases.get((r.registered_model_id, r.version), []),
        )
        for r in rows
    ]


def model_views(session: Session, rows: Sequence[RegisteredModel]) -> list[ModelView]:
    """Views of ``rows`` (in order): tags, aliases, and the latest version of each stage."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    views = {r.id: ModelView(row=r) for r in rows}
    for mid, key, value in session.execute(
        select(RegisteredModelTag.model_id, RegisteredModelTag.key, RegisteredModelTag.value).where(
            RegisteredModelTag.model_id.in_(ids)
        )
    ):
        views[mid].tags[key] = value
    for mid, alias, version in session.execute(
        select(ModelAlias.registered_model_id, ModelAlias.alias, ModelAlias.version)
        .where(ModelAlias.registered_model_id.in_(ids))
        .order_by(ModelAlias.alias)
    ):
        views[mid].aliases[alias] = version
    latest = (
        select(
            ModelVersion.registered_model_id,
            ModelVersion.current_stage,
            func.max(ModelVersion.version).label("version"),
        )
        .where(ModelVersion.registered_model_id.in_(ids))
        .group_by(ModelVersion.registered_model_id, ModelVersion.current_stage)
        .subquery()
    )
    latest_rows = session.scalars(
        select(ModelVersion)
        .join(
            latest,
            (ModelVersion.registered_model_id == latest.c.registered_model_id)
            & (ModelVersion.version == latest.c.version),
        )
        .order_by(ModelVersion.version)
    ).all()
    for v in version_views(session, latest_rows):
        views[v.row.registered_model_id].latest_versions.append(v)
    return [views[i] for i in ids]
