"""Notification routes: channels (with a test send), rules, the delivery log, notifier kinds.

Viewers read; editors manage. Channel credentials are write-only: replies say which are set.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from dais.jobs.notify import service
from dais.jobs.notify.models import DeliveryTry, NotificationDelivery
from dais.jobs.notify.notifiers import notifiers
from dais.jobs.notify.schemas import (
    ChannelCreate,
    ChannelCreated,
    ChannelPage,
    ChannelRead,
    ChannelTestResult,
    ChannelUpdate,
    DeliveryPage,
    DeliveryRead,
    DeliveryState,
    DeliveryTryRead,
    NotifierKindRead,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleUpdate,
)
from dais.tenancy import AppSettings, Audit, Caller, Db, EditorAccess, ViewerAccess

router = APIRouter(prefix="/api/v1", tags=["notifications"])

BASE = "/workspaces/{workspace}/notifications"
Limit = Annotated[int, Query(ge=1, le=500)]


# -- channels ----------------------------------------------------------------------------------------


@router.get(f"{BASE}/channels")
def list_channels(
    access: ViewerAccess, db: Db, kind: str | None = None, limit: Limit = 100, cursor: str | None = None
) -> ChannelPage:
    """The workspace's notification channels, by name (never their credentials)."""
    with db.session(write=False) as s:
        page = service.list_channels(s, access, kind=kind, limit=limit, cursor=cursor)
        return ChannelPage(items=[service.channel_read(c) for c in page.items], next_cursor=page.next_cursor)


@router.post(f"{BASE}/channels", status_code=status.HTTP_201_CREATED)
def create_channel(
    body: ChannelCreate, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> ChannelCreated:
    """Create a channel; secrets Dais generates (a webhook's signing secret) are shown only here."""
    with db.session() as s:
        channel, generated = service.create_channel(s, ctx, access, body, secret_key=settings.secret_key())
        return ChannelCreated(**service.channel_read(channel).model_dump(), generated_secrets=generated)


@router.get(f"{BASE}/channels/{{channel}}")
def get_channel(channel: str, access: ViewerAccess, db: Db) -> ChannelRead:
    """One channel, by id or name."""
    with db.session(write=False) as s:
        return service.channel_read(service.get_channel(s, access, channel))


@router.patch(f"{BASE}/channels/{{channel}}")
def update_channel(
    channel: str, body: ChannelUpdate, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> ChannelRead:
    """Rename a channel, change config keys, set secrets or remove them (``null``)."""
    with db.session() as s:
        row = service.update_channel(s, ctx, access, channel, body, secret_key=settings.secret_key())
        return service.channel_read(row)


@router.delete(f"{BASE}/channels/{{channel}}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(channel: str, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a channel, its rules and its delivery log."""
    with db.session() as s:
        service.delete_channel(s, ctx, access, channel)


@router.post(f"{BASE}/channels/{{channel}}/test")
def test_channel(
    channel: str, access: EditorAccess, ctx: Audit, db: Db, settings: AppSettings
) -> ChannelTestResult:
    """Send a test message now; ``error`` is what the destination answered if it did not take it."""
    with db.session(write=False) as s:
        work = service.prepare_test(s, access, channel)
    outcome = service.attempt(work, settings)  # outside any transaction, bounded by the channel's timeout
    with db.session() as s:
        service.record_test(s, ctx, access, work, outcome)
    return ChannelTestResult(
        ok=outcome.ok, error=outcome.error, duration_ms=outcome.duration_ms, delivery_id=work.delivery_id
    )


# -- rules -------------------------------------------------------------------------------------------


@router.get(f"{BASE}/rules")
def list_rules(
    access: ViewerAccess,
    db: Db,
    channel: Annotated[str | None, Query(description="Only rules sending to this channel.")] = None,
    job_id: Annotated[str | None, Query(description="Only rules scoped to this job.")] = None,
    limit: Limit = 100,
    cursor: str | None = None,
) -> RulePage:
    """The workspace's notification rules, oldest first."""
    with db.session(write=False) as s:
        page = service.list_rules(s, access, channel=channel, job_id=job_id, limit=limit, cursor=cursor)
        return RulePage(items=[RuleRead.model_validate(r) for r in page.items], next_cursor=page.next_cursor)


@router.post(f"{BASE}/rules", status_code=status.HTTP_201_CREATED)
def create_rule(body: RuleCreate, access: EditorAccess, ctx: Audit, db: Db) -> RuleRead:
    """Send events (succeeded, failed, cancelled, running_longer) of the jobs in scope to a channel."""
    with db.session() as s:
        return RuleRead.model_validate(service.create_rule(s, ctx, access, body))


@router.get(f"{BASE}/rules/{{rule_id}}")
def get_rule(rule_id: str, access: ViewerAccess, db: Db) -> RuleRead:
    with db.session(write=False) as s:
        return RuleRead.model_validate(service.get_rule(s, access, rule_id))


@router.patch(f"{BASE}/rules/{{rule_id}}")
def update_rule(rule_id: str, body: RuleUpdate, access: EditorAccess, ctx: Audit, db: Db) -> RuleRead:
    """Change a rule's channel, events, threshold, name, or switch it on or off."""
    with db.session() as s:
        return RuleRead.model_validate(service.update_rule(s, ctx, access, rule_id, body))


@router.delete(f"{BASE}/rules/{{rule_id}}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(rule_id: str, access: EditorAccess, ctx: Audit, db: Db) -> None:
    """Delete a rule; its past deliveries stay in the log."""
    with db.session() as s:
        service.delete_rule(s, ctx, access, rule_id)


# -- deliveries --------------------------------------------------------------------------------------


def _deliveries(rows: list[NotificationDelivery], tries: dict[str, list[DeliveryTry]]) -> list[DeliveryRead]:
    out = []
    for d in rows:
        read = DeliveryRead.model_validate(d)
        out.append(
            read.model_copy(
                update={
                    "next_try_at": d.next_try_at if d.state == DeliveryState.pending else None,
                    "tries": [DeliveryTryRead.model_validate(t) for t in tries.get(d.id, [])],
                }
            )
        )
    return out


@router.get(f"{BASE}/deliveries")
def list_deliveries(
    access: ViewerAccess,
    db: Db,
    state: DeliveryState | None = None,
    rule_id: str | None = None,
    job_id: str | None = None,
    channel: Annotated[str | None, Query(description="Channel id or name.")] = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    """The delivery log, newest first: each message, its state and every try to send it."""
    with db.session(write=False) as s:
        page = service.list_deliveries(
            s,
            access,
            state=state,
            rule_id=rule_id,
            job_id=job_id,
            channel=channel,
            limit=limit,
            cursor=cursor,
        )
        tries = service.tries_of(s, [d.id for d in page.items])
        return DeliveryPage(items=_deliveries(page.items, tries), next_cursor=page.next_cursor)


@router.get(f"{BASE}/deliveries/{{delivery_id}}")
def get_delivery(delivery_id: str, access: ViewerAccess, db: Db) -> DeliveryRead:
    """One delivery with every try to send it."""
    with db.session(write=False) as s:
        d = service.get_delivery(s, access, delivery_id)
        return _deliveries([d], service.tries_of(s, [d.id]))[0]


# -- kinds -------------------------------------------------------------------------------------------


@router.get("/notifier-kinds")
def list_notifier_kinds(principal: Caller) -> list[NotifierKindRead]:
    """Every notifier kind with the JSON schemas of its config and secrets (drives the channel form)."""
    out = []
    for info in notifiers().load_all():
        if info.error:
            out.append(
                NotifierKindRead(
                    name=info.name,
                    description="",
                    capabilities=[],
                    config_schema={},
                    secrets_schema={},
                    error=info.error,
                )
            )
            continue
        cls = notifiers().get(info.name)
        out.append(
            NotifierKindRead(
                name=info.name,
                description=cls.description or (cls.__doc__ or "").strip().split("\n")[0],
                capabilities=sorted(cls.capabilities),
                config_schema=cls.Config.model_json_schema(),
                secrets_schema=cls.Secrets.model_json_schema(),
            )
        )
    return out
