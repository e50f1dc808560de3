"""Notification operations: channels and rules (CRUD), the delivery log, and the outbox.

The scheduler's loop calls :func:`deliver_due` and :func:`check_long_running`; the queue calls
:func:`match_and_enqueue` (through :func:`dais.jobs.notify.record_job_event`) when a job finishes.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dais.core.errors import AlreadyExists, InvalidInput, NotFound, PluginError
from dais.core.ids import new_id
from dais.core.vault import secret_values
from dais.db import Page, paginate, utcnow
from dais.jobs.models import Job, Schedule
from dais.jobs.notify.messages import channel_test_payload
from dais.jobs.notify.models import DeliveryTry, NotificationChannel, NotificationDelivery, NotificationRule
from dais.jobs.notify.notifiers import Notifier, notifiers
from dais.jobs.notify.outbox import (
    Outcome,
    Work,
    attempt,
    check_long_running,
    deliver_due,
    match_and_enqueue,
    work_for,
)
from dais.jobs.notify.schemas import (
    ChannelCreate,
    ChannelRead,
    ChannelUpdate,
    DeliveryState,
    RuleCreate,
    RuleEvent,
    RuleUpdate,
)
from dais.jobs.notify.vault import seal, unseal
from dais.tenancy import AuditContext, WorkspaceAccess, record_audit

__all__ = [
    "Outcome",
    "Work",
    "attempt",
    "check_long_running",
    "create_channel",
    "create_rule",
    "deliver_due",
    "match_and_enqueue",
]


# -- channels ----------------------------------------------------------------------------------------


def notifier_class(kind: str, loc: list[str]) -> type[Notifier]:
    """The notifier plugin for ``kind``; 422 naming the known kinds if there is none."""
    reg = notifiers()
    if kind not in reg:
        raise InvalidInput(
            f"Unknown channel kind {kind!r}; known kinds: {', '.join(reg.names())}.",
            errors=[{"loc": loc, "msg": "unknown kind"}],
        )
    try:
        return reg.get(kind)
    except PluginError as exc:
        raise InvalidInput(f"The notifier {kind!r} cannot be loaded: {exc.detail}") from exc


def _validated(model: type[BaseModel], data: dict[str, Any], loc: list[str], what: str) -> BaseModel:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": [*loc, *map(str, e["loc"])], "msg": e["msg"], "type": e["type"]} for e in exc.errors()
        ]
        # Name each field with its message; pydantic's messages never repeat the input (a secret).
        fields = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in errors[:3])
        raise InvalidInput(f"The {what} does not fit: {fields}.", errors=errors) from exc


def channel_read(channel: NotificationChannel) -> ChannelRead:
    """What the API shows of a channel: never a secret, only which ones are set."""
    return ChannelRead(
        id=channel.id,
        workspace_id=channel.workspace_id,
        name=channel.name,
        kind=channel.kind,
        config=dict(channel.config or {}),
        secrets={f"has_{name}": True for name in sorted(channel.secret_names or [])},
        created_at=channel.created_at,
        updated_at=channel.updated_at,
    )


def _name_taken(session: Session, workspace_id: str, name: str, *, but: str | None = None) -> None:
    stmt = select(NotificationChannel.id).where(
        NotificationChannel.workspace_id == workspace_id, NotificationChannel.name == name
    )
    existing = session.scalar(stmt)
    if existing is not None and existing != but:
        raise AlreadyExists(
            f"A channel named {name!r} already exists in this workspace.",
            errors=[{"loc": ["body", "name"], "msg": "taken"}],
        )


def create_channel(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: ChannelCreate, *, secret_key: bytes
) -> tuple[NotificationChannel, dict[str, str]]:
    """A new channel, and the secrets generated for it (to show once)."""
    cls = notifier_class(spec.kind, ["body", "kind"])
    config = _validated(cls.Config, spec.config, ["body", "config"], f"{spec.kind} channel's config")
    given = secret_values(_validated(cls.Secrets, spec.secrets, ["body", "secrets"], "secrets"))
    generated = {k: v for k, v in cls().generate_secrets().items() if k not in given}
    values = {**given, **generated}
    _name_taken(session, access.workspace.id, spec.name)
    channel = NotificationChannel(
        workspace_id=access.workspace.id,
        name=spec.name,
        kind=spec.kind,
        config=config.model_dump(mode="json"),
        secrets_encrypted=seal(secret_key, values),
        secret_names=sorted(values),
        created_by=ctx.actor_id,
    )
    session.add(channel)
    session.flush()
    record_audit(
        session,
        ctx,
        "notify.channel.create",
        target_type="notification_channel",
        target_id=channel.id,
        workspace_id=access.workspace.id,
        details={"name": channel.name, "kind": channel.kind, "config": channel.config},
    )
    return channel, generated


def get_channel(session: Session, access: WorkspaceAccess, ref: str) -> NotificationChannel:
    """A channel of this workspace by id or name; 404 otherwise (also for other workspaces')."""
    channel = session.scalar(
        select(NotificationChannel).where(
            NotificationChannel.workspace_id == access.workspace.id,
            or_(NotificationChannel.id == ref, NotificationChannel.name == ref),
        )
    )
    if channel is None:
        raise NotFound(f"Notification channel {ref!r} not found in this workspace.")
    return channel


def list_channels(
    session: Session, access: WorkspaceAccess, *, kind: str | None, limit: int, cursor: str | None
) -> Page[NotificationChannel]:
    stmt = select(NotificationChannel).where(NotificationChannel.workspace_id == access.workspace.id)
    if kind:
        stmt = stmt.where(NotificationChannel.kind == kind)
    return paginate(
        session,
        stmt,
        columns={"name": NotificationChannel.name, "created_at": NotificationChannel.created_at},
        id_column=NotificationChannel.id,
        sort="name",
        limit=limit,
        cursor=cursor,
    )


def update_channel(
    session: Session,
    ctx: AuditContext,
    access: WorkspaceAccess,
    ref: str,
    spec: ChannelUpdate,
    *,
    secret_key: bytes,
) -> NotificationChannel:
    """Rename, merge config keys in, set or remove (``null``) secrets; validated as a whole."""
    channel = get_channel(session, access, ref)
    cls = notifier_class(channel.kind, ["body", "kind"])
    changed: list[str] = []
    if spec.name is not None and spec.name != channel.name:
        _name_taken(session, access.workspace.id, spec.name, but=channel.id)
        channel.name = spec.name
        changed.append("name")
    if spec.config is not None:
        merged = {**(channel.config or {}), **spec.config}
        config = _validated(cls.Config, merged, ["body", "config"], f"{channel.kind} channel's config")
        channel.config = config.model_dump(mode="json")
        changed.append("config")
    if spec.secrets is not None:
        current = unseal(secret_key, channel.secrets_encrypted)
        for name, value in spec.secrets.items():
            if value is None:
                current.pop(name, None)
            else:
                current[name] = value
        values = secret_values(_validated(cls.Secrets, current, ["body", "secrets"], "secrets"))
        channel.secrets_encrypted = seal(secret_key, values)
        channel.secret_names = sorted(values)
        changed.append("secrets")
    channel.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "notify.channel.update",
        target_type="notification_channel",
        target_id=channel.id,
        workspace_id=access.workspace.id,
        details={"name": channel.name, "changed": changed},
    )
    return channel


def delete_channel(session: Session, ctx: AuditContext, access: WorkspaceAccess, ref: str) -> None:
    """Delete a channel with its rules and delivery log."""
    channel = get_channel(session, access, ref)
    record_audit(
        session,
        ctx,
        "notify.channel.delete",
        target_type="notification_channel",
        target_id=channel.id,
        workspace_id=access.workspace.id,
        details={"name": channel.name, "kind": channel.kind},
    )
    session.delete(channel)
    session.flush()


def prepare_test(session: Session, access: WorkspaceAccess, ref: str) -> Work:
    """A test message for a channel, ready to send with :func:`attempt` outside the transaction."""
    channel = get_channel(session, access, ref)
    delivery_id = new_id()
    payload = channel_test_payload(channel.name, access.workspace, delivery_id=delivery_id, now=utcnow())
    return work_for(channel, delivery_id, 0, payload)


def record_test(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, work: Work, outcome: Outcome
) -> NotificationDelivery:
    """Log a test send as a delivery of its own (never retried), and audit it."""
    now = utcnow()
    delivery = NotificationDelivery(
        id=work.delivery_id,
        workspace_id=access.workspace.id,
        channel_id=work.channel_id,
        event="test",
        payload=work.payload,
        state=DeliveryState.sent if outcome.ok else DeliveryState.failed,
        attempts=1,
        max_attempts=1,
        next_try_at=now,
        last_error=outcome.error,
        sent_at=now if outcome.ok else None,
        created_at=outcome.started_at,
    )
    session.add(delivery)
    session.flush()
    session.add(
        DeliveryTry(
            delivery_id=delivery.id,
            number=1,
            started_at=outcome.started_at,
            duration_ms=outcome.duration_ms,
            ok=outcome.ok,
            error=outcome.error,
        )
    )
    record_audit(
        session,
        ctx,
        "notify.channel.test",
        target_type="notification_channel",
        target_id=work.channel_id,
        workspace_id=access.workspace.id,
        details={"name": work.channel_name, "ok": outcome.ok},
    )
    session.flush()
    return delivery


# -- rules -------------------------------------------------------------------------------------------


def _check_events(events: list[RuleEvent], threshold: float | None) -> list[str]:
    names = list(dict.fromkeys(str(e) for e in events))
    if RuleEvent.running_longer in names and threshold is None:
        raise InvalidInput(
            "The running_longer event needs running_longer_than_s: how many seconds count as too long.",
            errors=[{"loc": ["body", "running_longer_than_s"], "msg": "required with running_longer"}],
        )
    if threshold is not None and RuleEvent.running_longer not in names:
        raise InvalidInput(
            "running_longer_than_s only applies with the running_longer event: add it to events.",
            errors=[{"loc": ["body", "events"], "msg": "running_longer missing"}],
        )
    return names


def _check_scope(session: Session, access: WorkspaceAccess, spec: RuleCreate) -> None:
    scopes = {
        "job_id": spec.job_id,
        "dag_id": spec.dag_id,
        "schedule_id": spec.schedule_id,
        "job_name_pattern": spec.job_name_pattern,
    }
    given = [k for k, v in scopes.items() if v is not None]
    if len(given) > 1:
        raise InvalidInput(
            f"A rule has at most one scope; got {', '.join(given)}. Make one rule per scope.",
            errors=[{"loc": ["body", k], "msg": "more than one scope"} for k in given],
        )
    ws = access.workspace.id
    if spec.job_id is not None:
        job = session.get(Job, spec.job_id)
        if job is None or job.workspace_id != ws:
            raise NotFound(
                f"Job {spec.job_id!r} not found in this workspace.",
                errors=[{"loc": ["body", "job_id"], "msg": "unknown job"}],
            )
    if spec.dag_id is not None:
        found = session.scalar(
            select(Job.id).where(Job.dag_id == spec.dag_id, Job.workspace_id == ws).limit(1)
        )
        if found is None:
            raise NotFound(
                f"DAG {spec.dag_id!r} not found in this workspace.",
                errors=[{"loc": ["body", "dag_id"], "msg": "unknown DAG"}],
            )
    if spec.schedule_id is not None:
        schedule = session.get(Schedule, spec.schedule_id)
        if schedule is None or schedule.workspace_id != ws:
            raise NotFound(
                f"Schedule {spec.schedule_id!r} not found in this workspace.",
                errors=[{"loc": ["body", "schedule_id"], "msg": "unknown schedule"}],
            )


def _rule_channel(session: Session, access: WorkspaceAccess, ref: str) -> NotificationChannel:
    try:
        return get_channel(session, access, ref)
    except NotFound as exc:
        raise NotFound(exc.detail, errors=[{"loc": ["body", "channel"], "msg": "unknown channel"}]) from exc


def create_rule(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, spec: RuleCreate
) -> NotificationRule:
    channel = _rule_channel(session, access, spec.channel)
    events = _check_events(spec.events, spec.running_longer_than_s)
    _check_scope(session, access, spec)
    rule = NotificationRule(
        workspace_id=access.workspace.id,
        channel_id=channel.id,
        name=(spec.name or f"{', '.join(events)} -> {channel.name}")[:128],
        events=events,
        running_longer_than_s=spec.running_longer_than_s,
        job_id=spec.job_id,
        dag_id=spec.dag_id,
        schedule_id=spec.schedule_id,
        job_name_pattern=spec.job_name_pattern,
        enabled=spec.enabled,
        created_by=ctx.actor_id,
    )
    session.add(rule)
    session.flush()
    record_audit(
        session,
        ctx,
        "notify.rule.create",
        target_type="notification_rule",
        target_id=rule.id,
        workspace_id=access.workspace.id,
        details=spec.model_dump(mode="json", exclude_none=True),
    )
    return rule


def get_rule(session: Session, access: WorkspaceAccess, rule_id: str) -> NotificationRule:
    rule = session.get(NotificationRule, rule_id)
    if rule is None or rule.workspace_id != access.workspace.id:
        raise NotFound(f"Notification rule {rule_id!r} not found in this workspace.")
    return rule


def list_rules(
    session: Session,
    access: WorkspaceAccess,
    *,
    channel: str | None,
    job_id: str | None,
    limit: int,
    cursor: str | None,
) -> Page[NotificationRule]:
    stmt = select(NotificationRule).where(NotificationRule.workspace_id == access.workspace.id)
    if channel:
        stmt = stmt.where(NotificationRule.channel_id == get_channel(session, access, channel).id)
    if job_id:
        stmt = stmt.where(NotificationRule.job_id == job_id)
    return paginate(
        session,
        stmt,
        columns={"created_at": NotificationRule.created_at, "name": NotificationRule.name},
        id_column=NotificationRule.id,
        sort="created_at",
        limit=limit,
        cursor=cursor,
    )


def update_rule(
    session: Session, ctx: AuditContext, access: WorkspaceAccess, rule_id: str, spec: RuleUpdate
) -> NotificationRule:
    rule = get_rule(session, access, rule_id)
    fields = spec.model_fields_set
    if spec.channel is not None:
        rule.channel_id = _rule_channel(session, access, spec.channel).id
    threshold = (
        spec.running_longer_than_s if "running_longer_than_s" in fields else rule.running_longer_than_s
    )
    events = spec.events if spec.events is not None else [RuleEvent(e) for e in rule.events or []]
    rule.events = _check_events(events, threshold)
    rule.running_longer_than_s = threshold
    if spec.name is not None:
        rule.name = spec.name
    if spec.enabled is not None:
        rule.enabled = spec.enabled
    rule.updated_at = utcnow()
    session.flush()
    record_audit(
        session,
        ctx,
        "notify.rule.update",
        target_type="notification_rule",
        target_id=rule.id,
        workspace_id=access.workspace.id,
        details=spec.model_dump(mode="json", exclude_unset=True),
    )
    return rule


def delete_rule(session: Session, ctx: AuditContext, access: WorkspaceAccess, rule_id: str) -> None:
    """Delete a rule; its past deliveries stay in the log."""
    rule = get_rule(session, access, rule_id)
    record_audit(
        session,
        ctx,
        "notify.rule.delete",
        target_type="notification_rule",
        target_id=rule.id,
        workspace_id=access.workspace.id,
        details={"name": rule.name},
    )
    session.delete(rule)
    session.flush()


# -- the delivery log --------------------------------------------------------------------------------


def list_deliveries(
    session: Session,
    access: WorkspaceAccess,
    *,
    state: DeliveryState | None,
    rule_id: str | None,
    job_id: str | None,
    channel: str | None,
    limit: int,
    cursor: str | None,
) -> Page[NotificationDelivery]:
    """The delivery log of the workspace, newest first."""
    stmt = select(NotificationDelivery).where(NotificationDelivery.workspace_id == access.workspace.id)
    if state is not None:
        stmt = stmt.where(NotificationDelivery.state == state)
    if rule_id:
        stmt = stmt.where(NotificationDelivery.rule_id == rule_id)
    if job_id:
        stmt = stmt.where(NotificationDelivery.job_id == job_id)
    if channel:
        stmt = stmt.where(NotificationDelivery.channel_id == get_channel(session, access, channel).id)
    return paginate(
        session,
        stmt,
        columns={"created_at": NotificationDelivery.created_at},
        id_column=NotificationDelivery.id,
        sort="-created_at",
        limit=limit,
        cursor=cursor,
    )


def get_delivery(session: Session, access: WorkspaceAccess, delivery_id: str) -> NotificationDelivery:
    delivery = session.get(NotificationDelivery, delivery_id)
    if delivery is None or delivery.workspace_id != access.workspace.id:
        raise NotFound(f"Delivery {delivery_id!r} not found in this workspace.")
    return delivery


def tries_of(session: Session, delivery_ids: list[str]) -> dict[str, list[DeliveryTry]]:
    """Every try of these deliveries, in order."""
    out: dict[str, list[DeliveryTry]] = defaultdict(list)
    if not delivery_ids:
        return out
    rows = session.scalars(
        select(DeliveryTry)
        .where(DeliveryTry.delivery_id.in_(delivery_ids))
        .order_by(DeliveryTry.delivery_id, DeliveryTry.number)
    )
    for row in rows:
        out[row.delivery_id].append(row)
    return out
