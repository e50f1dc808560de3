"""Notification tables: channels (where to send), rules (what to send), deliveries and their tries.

A delivery is both the outbox (a ``pending`` row is written in the transaction that finished the
job) and the delivery log (every try of it is a :class:`DeliveryTry`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dais.db.base import Base, id_column, utcnow


class NotificationChannel(Base):
    """A destination of one notifier kind: its configuration, and its credentials encrypted."""

    __tablename__ = "notification_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fernet token of a JSON object {secret name: value}; never leaves the server unencrypted.
    secrets_encrypted: Mapped[str | None] = mapped_column(Text)
    # The names of the secrets set (not their values), so reads can say ``has_password``.
    secret_names: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationRule(Base):
    """Which events of which jobs go to a channel."""

    __tablename__ = "notification_rules"
    __table_args__ = (Index("ix_notification_rules_workspace_enabled", "workspace_id", "enabled"),)

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    events: Mapped[list[Any]] = mapped_column(JSON, default=list)
    running_longer_than_s: Mapped[float | None] = mapped_column(Float)
    # At most one scope; none means every job of the workspace.
    job_id: Mapped[str | None] = mapped_column(String(26))
    dag_id: Mapped[str | None] = mapped_column(String(26))
    schedule_id: Mapped[str | None] = mapped_column(String(26))
    job_name_pattern: Mapped[str | None] = mapped_column(String(128))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class NotificationDelivery(Base):
    """One message to one channel: pending until sent, retried with backoff, failed after the last try."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        Index("ix_notification_deliveries_due", "state", "next_try_at"),
        Index("ix_notification_deliveries_workspace_created", "workspace_id", "created_at"),
        # "running longer than N" is raised once per rule and job; NULL for every other event.
        UniqueConstraint("dedupe_key"),
    )

    id: Mapped[str] = id_column()
    workspace_id: Mapped[str] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    rule_id: Mapped[str | None] = mapped_column(
        ForeignKey("notification_rules.id", ondelete="SET NULL"), index=True
    )
    channel_id: Mapped[str] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE"), index=True
    )
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=5)
    next_try_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str | None] = mapped_column(String(80))
    sent_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DeliveryTry(Base):
    """One try to send a delivery: when, how long it took, and the destination's answer."""

    __tablename__ = "notification_delivery_tries"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[str] = id_column()
    delivery_id: Mapped[str] = mapped_column(ForeignKey("notification_deliveries.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column()
    duration_ms: Mapped[float] = mapped_column(Float)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text)
