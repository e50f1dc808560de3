"""Registry tables: registered models, their versions, tags and aliases (with the history of alias
moves), and MLflow 3 logged models.

Times are epoch milliseconds (MLflow's unit) in BigInteger columns. A version's ``run_id`` and a
logged model's ``experiment_id`` / ``source_run_id`` carry no foreign key: the registry sits below
tracking and must not depend on its tables. Version numbers come from ``last_version`` on the model
row, bumped in the creating transaction, so a number is never given twice (not even after a delete).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dais.db.base import Base, id_column


class RegisteredModel(Base):
    """A named model of a workspace; its versions point at model packages."""

    __tablename__ = "registered_models"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name"),
        Index("ix_registered_models_workspace_updated", "workspace_id", "last_updated_time"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(256))
    description: Mapped[str | None] = mapped_column(Text)
    last_version: Mapped[int] = mapped_column(Integer, default=0)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(256))  # MLflow's user string (a username)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class RegisteredModelTag(Base):
    __tablename__ = "registered_model_tags"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelVersion(Base):
    """One version of a registered model: where its package lies and what produced it."""

    __tablename__ = "model_versions"
    __table_args__ = (
        UniqueConstraint("registered_model_id", "version"),
        Index("ix_model_versions_workspace_run", "workspace_id", "run_id"),
        Index("ix_model_versions_model_id", "model_id"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    registered_model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(Text)  # the URI given at registration
    run_id: Mapped[str | None] = mapped_column(String(32))
    run_link: Mapped[str | None] = mapped_column(Text)
    # READY | PENDING_REGISTRATION | FAILED_REGISTRATION
    status: Mapped[str] = mapped_column(String(32), default="READY")
    status_message: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    current_stage: Mapped[str] = mapped_column(String(20), default="None")  # legacy MLflow stages
    # the package folder's key in the workspace's artifacts (e.g. mlflow/<exp>/<run>/artifacts/model)
    storage_key: Mapped[str | None] = mapped_column(String(1000))
    model_id: Mapped[str | None] = mapped_column(String(64))  # the logged model it was promoted from
    runtime: Mapped[str | None] = mapped_column(String(32))
    signature: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    dataset_versions: Mapped[list[Any] | None] = mapped_column(JSON)
    creation_time: Mapped[int] = mapped_column(BigInteger)
    last_updated_time: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[str | None] = mapped_column(String(256))
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ModelVersionTag(Base):
    __tablename__ = "model_version_tags"

    version_id: Mapped[str] = mapped_column(
        ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class ModelAlias(Base):
    """``alias`` names version ``version`` of a registered model (``production``, ``champion``...)."""

    __tablename__ = "model_aliases"

    registered_model_id: Mapped[str] = mapped_column(
        ForeignKey("registered_models.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)


class ModelAliasEvent(Base):
    """One move of an alias: set (``from_version`` None), moved, or removed (``to_version`` None)."""

    __tablename__ = "model_alias_events"
    __table_args__ = (Index("ix_model_alias_events_model_at", "registered_model_id", "at"),)

    id: Mapped[str] = id_column()
    registered_model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(255))
    from_version: Mapped[int | None] = mapped_column(Integer)
    to_version: Mapped[int | None] = mapped_column(Integer)
    actor: Mapped[str | None] = mapped_column(String(256))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    at: Mapped[int] = mapped_column(BigInteger)


class LoggedModel(Base):
    """An MLflow 3 logged model: a model package logged in an experiment, before any registration."""

    __tablename__ = "logged_models"
    __table_args__ = (
        Index("ix_logged_models_workspace_experiment", "workspace_id", "experiment_id", "lifecycle_stage"),
        Index("ix_logged_models_source_run", "source_run_id"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # m-<32 hex>
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    experiment_id: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    source_run_id: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="PENDING")  # PENDING | READY | FAILED
    status_message: Mapped[str | None] = mapped_column(Text)
    artifact_location: Mapped[str] = mapped_column(String(1000))
    model_type: Mapped[str | None] = mapped_column(String(500))
    creation_timestamp: Mapped[int] = mapped_column(BigInteger)
    last_updated_timestamp: Mapped[int] = mapped_column(BigInteger)
    lifecycle_stage: Mapped[str] = mapped_column(String(16), default="active")  # active | deleted
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class LoggedModelTag(Base):
    __tablename__ = "logged_model_tags"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class LoggedModelParam(Base):
    __tablename__ = "logged_model_params"

    model_id: Mapped[str] = mapped_column(
        ForeignKey("logged_models.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
