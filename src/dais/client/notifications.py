"""Notifications: channels (e-mail, webhooks) and rules that send job events to them; the delivery log."""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import Field

from dais.client._base import Resource
from dais.client.http import route
from dais.client.models import Model

CHANNELS = route("GET", "/api/v1/workspaces/{workspace}/notifications/channels")
CREATE_CHANNEL = route("POST", "/api/v1/workspaces/{workspace}/notifications/channels")
GET_CHANNEL = route("GET", "/api/v1/workspaces/{workspace}/notifications/channels/{channel}")
UPDATE_CHANNEL = route("PATCH", "/api/v1/workspaces/{workspace}/notifications/channels/{channel}")
DELETE_CHANNEL = route("DELETE", "/api/v1/workspaces/{workspace}/notifications/channels/{channel}")
TEST_CHANNEL = route("POST", "/api/v1/workspaces/{workspace}/notifications/channels/{channel}/test")
RULES = route("GET", "/api/v1/workspaces/{workspace}/notifications/rules")
CREATE_RULE = route("POST", "/api/v1/workspaces/{workspace}/notifications/rules")
GET_RULE = route("GET", "/api/v1/workspaces/{workspace}/notifications/rules/{rule_id}")
UPDATE_RULE = route("PATCH", "/api/v1/workspaces/{workspace}/notifications/rules/{rule_id}")
DELETE_RULE = route("DELETE", "/api/v1/workspaces/{workspace}/notifications/rules/{rule_id}")
DELIVERIES = route("GET", "/api/v1/workspaces/{workspace}/notifications/deliveries")
GET_DELIVERY = route("GET", "/api/v1/workspaces/{workspace}/notifications/deliveries/{delivery_id}")
KINDS = route("GET", "/api/v1/notifier-kinds")


class Channel(Model):
    """A notification channel: its settings, and which secrets are set (never their values)."""

    id: str
    workspace_id: str
    name: str
    kind: str
    config: dict[str, Any] = Field(default_factory=dict)
    secrets: dict[str, bool] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    generated_secrets: dict[str, str] = Field(
        default_factory=dict, description="Only right after creation: secrets Dais generated."
    )


class ChannelTest(Model):
    """The outcome of a test message: ``error`` is what the destination answered."""

    ok: bool
    error: str | None = None
    duration_ms: float
    delivery_id: str


class Rule(Model):
    """Which job events go to which channel."""

    id: str
    workspace_id: str
    channel_id: str
    name: str
    events: list[str]
    running_longer_than_s: float | None = None
    job_id: str | None = None
    dag_id: str | None = None
    schedule_id: str | None = None
    job_name_pattern: str | None = None
    enabled: bool = True
    created_at: datetime
    updated_at: datetime


class DeliveryTry(Model):
    number: int
    started_at: datetime
    duration_ms: float
    ok: bool
    error: str | None = None


class Delivery(Model):
    """One message to one channel, with every try to send it."""

    id: str
    workspace_id: str
    rule_id: str | None = None
    channel_id: str
    job_id: str | None = None
    event: str
    payload: dict[str, Any] = Field(default_factory=dict)
    state: str
    attempts: int
    max_attempts: int
    next_try_at: datetime | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    created_at: datetime
    tries: list[DeliveryTry] = Field(default_factory=list)


class NotifierKind(Model):
    """A kind of channel, with the JSON schemas of its config and secrets."""

    name: str
    description: str = ""
    capabilities: list[str] = Field(default_factory=list)
    config_schema: dict[str, Any] = Field(default_factory=dict)
    secrets_schema: dict[str, Any] = Field(default_factory=dict)
    error: str | None = None


class Notifications(Resource):
    """Send job events (succeeded, failed, cancelled, running longer than N) by e-mail or webhook.

    ::

        ch = client.notifications.create_channel(
            "team", "ops", "webhook", config={"url": "https://hooks.example.org/dais"}
        )
        print(ch.generated_secrets["secret"])  # the signing secret, shown only now
        client.notifications.create_rule("team", "ops", events=["failed"], job_name_pattern="train-*")
    """

    # -- channels ------------------------------------------------------------------------------------

    def channels(
        self, workspace: str, *, kind: str | None = None, limit: int | None = None
    ) -> Iterator[Channel]:
        """The workspace's channels, by name."""
        for item in self._t.pages(
            CHANNELS, path={"workspace": workspace}, params={"kind": kind}, limit=limit
        ):
            yield Channel.model_validate(item)

    def get_channel(self, workspace: str, channel: str) -> Channel:
        """One channel by id or name."""
        return Channel.model_validate(
            self._t.call(GET_CHANNEL, path={"workspace": workspace, "channel": channel}).json()
        )

    def create_channel(
        self,
        workspace: str,
        name: str,
        kind: str,
        *,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> Channel:
        """A new channel of ``kind`` (``email``, ``webhook``, ...); ``secrets`` are write-only.

        A webhook created without a ``secret`` gets one generated: it is in ``generated_secrets``
        of the returned channel, and never shown again.
        """
        body = {"name": name, "kind": kind, "config": dict(config or {}), "secrets": dict(secrets or {})}
        return Channel.model_validate(
            self._t.call(CREATE_CHANNEL, path={"workspace": workspace}, json=body).json()
        )

    def update_channel(
        self,
        workspace: str,
        channel: str,
        *,
        name: str | None = None,
        config: Mapping[str, Any] | None = None,
        secrets: Mapping[str, str | None] | None = None,
    ) -> Channel:
        """Rename, merge ``config`` keys in, set secrets (``None`` removes one)."""
        body: dict[str, Any] = {}
        if name is not None:
            body["name"] = name
        if config is not None:
            body["config"] = dict(config)
        if secrets is not None:
            body["secrets"] = dict(secrets)
        return Channel.model_validate(
            self._t.call(UPDATE_CHANNEL, path={"workspace": workspace, "channel": channel}, json=body).json()
        )

    def delete_channel(self, workspace: str, channel: str) -> None:
        """Delete a channel with its rules and delivery log."""
        self._t.call(DELETE_CHANNEL, path={"workspace": workspace, "channel": channel})

    def test_channel(self, workspace: str, channel: str) -> ChannelTest:
        """Send a test message now; ``.ok`` says whether the destination took it, ``.error`` why not."""
        return ChannelTest.model_validate(
            self._t.call(TEST_CHANNEL, path={"workspace": workspace, "channel": channel}).json()
        )

    # -- rules ---------------------------------------------------------------------------------------

    def rules(
        self,
        workspace: str,
        *,
        channel: str | None = None,
        job_id: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Rule]:
        """The workspace's rules, oldest first."""
        params = {"channel": channel, "job_id": job_id}
        for item in self._t.pages(RULES, path={"workspace": workspace}, params=params, limit=limit):
            yield Rule.model_validate(item)

    def get_rule(self, workspace: str, rule_id: str) -> Rule:
        return Rule.model_validate(
            self._t.call(GET_RULE, path={"workspace": workspace, "rule_id": rule_id}).json()
        )

    def create_rule(
        self,
        workspace: str,
        channel: str,
        *,
        events: Sequence[str],
        name: str | None = None,
        running_longer_than_s: float | None = None,
        job_id: str | None = None,
        dag_id: str | None = None,
        schedule_id: str | None = None,
        job_name_pattern: str | None = None,
        enabled: bool = True,
    ) -> Rule:
        """Send ``events`` (succeeded, failed, cancelled, running_longer) of jobs in scope to ``channel``.

        Give at most one scope: one job, a DAG, a schedule's jobs, or a job name pattern (glob);
        none means every job of the workspace.
        """
        body = {
            "channel": channel,
            "events": list(events),
            "name": name,
            "running_longer_than_s": running_longer_than_s,
            "job_id": job_id,
            "dag_id": dag_id,
            "schedule_id": schedule_id,
            "job_name_pattern": job_name_pattern,
            "enabled": enabled,
        }
        return Rule.model_validate(self._t.call(CREATE_RULE, path={"workspace": workspace}, json=body).json())

    def update_rule(self, workspace: str, rule_id: str, **changes: Any) -> Rule:
        """Change ``channel``, ``name``, ``events``, ``running_longer_than_s`` or ``enabled``."""
        return Rule.model_validate(
            self._t.call(UPDATE_RULE, path={"workspace": workspace, "rule_id": rule_id}, json=changes).json()
        )

    def delete_rule(self, workspace: str, rule_id: str) -> None:
        """Delete a rule (its past deliveries stay in the log)."""
        self._t.call(DELETE_RULE, path={"workspace": workspace, "rule_id": rule_id})

    # -- the delivery log ----------------------------------------------------------------------------

    def deliveries(
        self,
        workspace: str,
        *,
        state: str | None = None,
        rule_id: str | None = None,
        job_id: str | None = None,
        channel: str | None = None,
        limit: int | None = None,
    ) -> Iterator[Delivery]:
        """The delivery log, newest first (``state``: pending, sent or failed)."""
        params = {"state": state, "rule_id": rule_id, "job_id": job_id, "channel": channel}
        for item in self._t.pages(DELIVERIES, path={"workspace": workspace}, params=params, limit=limit):
            yield Delivery.model_validate(item)

    def get_delivery(self, workspace: str, delivery_id: str) -> Delivery:
        return Delivery.model_validate(
            self._t.call(GET_DELIVERY, path={"workspace": workspace, "delivery_id": delivery_id}).json()
        )

    def kinds(self) -> builtins.list[NotifierKind]:
        """The notifier kinds the server offers, with their config and secrets schemas."""
        return [NotifierKind.model_validate(k) for k in self._t.call(KINDS).json()]
