"""The notifications API contract: channels, rules, deliveries and their tries."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

CHANNEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9 _.@-]*$"


class RuleEvent(enum.StrEnum):
    """What a rule can be notified about."""

    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    running_longer = "running_longer"


class DeliveryState(enum.StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


class ChannelCreate(BaseModel):
    """A destination: a notifier kind, its settings, and its credentials (write-only)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=CHANNEL_NAME)
    kind: str = Field(min_length=1, max_length=64, description="A notifier kind: email, webhook, ...")
    config: dict[str, Any] = Field(default_factory=dict, description="Settings of the kind (its Config).")
    secrets: dict[str, str] = Field(
        default_factory=dict, description="Credentials of the kind (its Secrets); never returned."
    )


class ChannelUpdate(BaseModel):
    """Changes to a channel: ``config`` keys are merged in; a secret set to null is removed."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=128, pattern=CHANNEL_NAME)
    config: dict[str, Any] | None = None
    secrets: dict[str, str | None] | None = None


class ChannelRead(BaseModel):
    """A channel as anyone in the workspace sees it: settings, and which secrets are set."""

    id: str
    workspace_id: str
    name: str
    kind: str
    config: dict[str, Any]
    secrets: dict[str, bool] = Field(description='Which secrets are set, e.g. {"has_password": true}.')
    created_at: datetime
    updated_at: datetime


class ChannelCreated(ChannelRead):
    generated_secrets: dict[str, str] = Field(
        default_factory=dict,
        description="Secrets Dais generated (a webhook's signing secret): shown only in this reply.",
    )


class ChannelPage(BaseModel):
    items: list[ChannelRead]
    next_cursor: str | None


class ChannelTestResult(BaseModel):
    """The outcome of sending a test message now."""

    ok: bool
    error: str | None = None
    duration_ms: float
    delivery_id: str


class RuleCreate(BaseModel):
    """Send ``events`` of the jobs in scope to a channel. At most one scope; none: every job."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(min_length=1, max_length=128, description="Channel id or name.")
    name: str | None = Field(default=None, max_length=128)
    events: list[RuleEvent] = Field(min_length=1, max_length=4)
    running_longer_than_s: float | None = Field(
        default=None, gt=0, le=365 * 86_400, description="With the running_longer event: the limit."
    )
    job_id: str | None = Field(default=None, max_length=26, description="Only this job.")
    dag_id: str | None = Field(default=None, max_length=26, description="Only the jobs of this DAG.")
    schedule_id: str | None = Field(
        default=None, max_length=26, description="Only jobs this schedule submitted."
    )
    job_name_pattern: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Only jobs whose name matches (glob: train-*).",
    )
    enabled: bool = True


class RuleUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channel: str | None = Field(default=None, min_length=1, max_length=128)
    name: str | None = Field(default=None, max_length=128)
    events: list[RuleEvent] | None = Field(default=None, min_length=1, max_length=4)
    running_longer_than_s: float | None = Field(default=None, gt=0, le=365 * 86_400)
    enabled: bool | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    channel_id: str
    name: str
    events: list[str]
    running_longer_than_s: float | None
    job_id: str | None
    dag_id: str | None
    schedule_id: str | None
    job_name_pattern: str | None
    enabled: bool
    created_at: datetime
    updated_at: datetime


class RulePage(BaseModel):
    items: list[RuleRead]
    next_cursor: str | None


class DeliveryTryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    duration_ms: float
    ok: bool
    error: str | None


class DeliveryRead(BaseModel):
    """One message to one channel, with every try to send it."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    workspace_id: str
    rule_id: str | None
    channel_id: str
    job_id: str | None
    event: str
    payload: dict[str, Any]
    state: DeliveryState
    attempts: int
    max_attempts: int
    next_try_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    created_at: datetime
    tries: list[DeliveryTryRead] = Field(default_factory=list)


class DeliveryPage(BaseModel):
    items: list[DeliveryRead]
    next_cursor: str | None


class NotifierKindRead(BaseModel):
    name: str
    description: str
    capabilities: list[str]
    config_schema: dict[str, Any]
    secrets_schema: dict[str, Any]
    error: str | None = None
