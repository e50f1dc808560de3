"""``dais notify``: notification channels (e-mail, webhooks), the rules that use them, the delivery log."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, print_list, print_object, say

notify_app = typer.Typer(help="Send job events (failed, succeeded, ...) by e-mail or webhook.")
channels_app = typer.Typer(help="Where notifications go: e-mail (SMTP) or webhooks (signed JSON).")
rules_app = typer.Typer(help="Which job events go to which channel.")
notify_app.add_typer(channels_app, name="channels")
notify_app.add_typer(rules_app, name="rules")

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")]
ChannelArg = Annotated[str, typer.Argument(help="Channel name or id.")]

CHANNEL_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("DESTINATION", lambda c: c.config.get("url") or ", ".join(c.config.get("to") or []) or None),
    ("SECRETS SET", lambda c: ", ".join(k.removeprefix("has_") for k in c.secrets) or None),
    ("CREATED", "created_at"),
]
RULE_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("NAME", "name"),
    ("EVENTS", lambda r: ", ".join(r.events)),
    ("LONGER THAN (S)", "running_longer_than_s"),
    ("SCOPE", lambda r: _scope(r)),
    ("ENABLED", "enabled"),
]
DELIVERY_COLUMNS: list[Column] = [
    ("ID", "id"),
    ("CREATED", "created_at"),
    ("EVENT", "event"),
    ("JOB", "job_id"),
    ("STATE", "state"),
    ("TRIES", lambda d: f"{d.attempts}/{d.max_attempts}"),
    ("NEXT TRY", "next_try_at"),
    ("LAST ERROR", "last_error"),
]


def _scope(rule: Any) -> str:
    for label, value in (
        ("job", rule.job_id),
        ("dag", rule.dag_id),
        ("schedule", rule.schedule_id),
        ("name", rule.job_name_pattern),
    ):
        if value:
            return f"{label} {value}"
    return "all jobs"


def _pairs(values: list[str] | None, what: str) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict; a VALUE that parses as JSON is taken as JSON (numbers, lists)."""
    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {item!r} is not KEY=VALUE")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        if key in out:  # a repeated key makes a list: --set to=a@x.org --set to=b@x.org
            value = [*(out[key] if isinstance(out[key], list) else [out[key]]), value]
        out[key] = value
    return out


def _secrets(values: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` secrets; a bare ``KEY`` asks for the value without echoing it."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not key:
            raise typer.BadParameter(f"--secret {item!r} is not KEY or KEY=VALUE")
        out[key] = raw if sep else typer.prompt(f"{key}", hide_input=True)
    return out


@channels_app.command("list")
def list_channels(
    workspace: WorkspaceOpt,
    kind: Annotated[str | None, typer.Option("--kind", help="Only this kind (email, webhook).")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """The workspace's channels (which secrets are set, never their values)."""
    with client() as c:
        print_list(c.notifications.channels(workspace, kind=kind), CHANNEL_COLUMNS, output)


@channels_app.command("create")
def create_channel(
    name: Annotated[str, typer.Argument(help="A name for the channel, unique in the workspace.")],
    workspace: WorkspaceOpt,
    kind: Annotated[str, typer.Option("--kind", "-k", help="email or webhook (or a plugin's kind).")],
    config: Annotated[str | None, typer.Option("--config", help="The whole config as a JSON object.")] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="A config value, KEY=VALUE (repeatable): url=https://..., host=smtp.x.org, to=ops@x.org.",
            show_default=False,
        ),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(
            "--secret",
            help="A credential, KEY=VALUE, or KEY alone to type it in hidden (repeatable): password, secret.",
            show_default=False,
        ),
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Create a channel. A webhook's signing secret is generated unless given, and printed once."""
    body: dict[str, Any] = {}
    if config:
        try:
            body = json.loads(config)
        except ValueError as exc:
            raise typer.BadParameter(f"--config is not JSON: {exc}") from exc
        if not isinstance(body, dict):
            raise typer.BadParameter("--config must be a JSON object")
    body.update(_pairs(set_, "--set"))
    with client() as c:
        channel = c.notifications.create_channel(workspace, name, kind, config=body, secrets=_secrets(secret))
    if output != Format.table:
        print_object(channel, output)
        return
    print_object(channel, output, fields=["id", "name", "kind", "config", "secrets"])
    for key, value in channel.generated_secrets.items():
        say(f"\nGenerated {key} (shown only now): [bold]{value}[/bold]")


@channels_app.command("test")
def send_test(channel: ChannelArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Send a test message now; exit 1 with the destination's answer if it did not take it."""
    with client() as c:
        result = c.notifications.test_channel(workspace, channel)
    if output != Format.table:
        print_object(result, output)
    elif result.ok:
        say(f"[green]Sent[/green] a test message through {channel} ({result.duration_ms:.0f} ms).")
    else:
        say(f"[red]Not sent:[/red] {result.error}")
    if not result.ok:
        raise typer.Exit(1)


@channels_app.command("delete")
def delete_channel(
    channel: ChannelArg,
    workspace: WorkspaceOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a channel with its rules and its delivery log."""
    if not yes:
        typer.confirm(f"Delete channel {channel} with its rules and delivery log?", abort=True)
    with client() as c:
        c.notifications.delete_channel(workspace, channel)
    say(f"Deleted channel {channel}.")


@rules_app.command("list")
def list_rules(
    workspace: WorkspaceOpt,
    channel: Annotated[
        str | None, typer.Option("--channel", "-c", help="Only rules for this channel.")
    ] = None,
    output: OutputOpt = Format.table,
) -> None:
    """The workspace's notification rules."""
    with client() as c:
        print_list(c.notifications.rules(workspace, channel=channel), RULE_COLUMNS, output)


@rules_app.command("create")
def create_rule(
    workspace: WorkspaceOpt,
    channel: Annotated[str, typer.Option("--channel", "-c", help="Channel name or id.")],
    on: Annotated[
        list[str],
        typer.Option(
            "--on",
            help="An event: succeeded, failed, cancelled or running_longer (repeatable).",
            show_default=False,
        ),
    ],
    longer_than: Annotated[
        float | None, typer.Option("--longer-than", help="With --on running_longer: the limit in seconds.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="A name for the rule.")] = None,
    job: Annotated[str | None, typer.Option("--job", help="Only this job (id).")] = None,
    dag: Annotated[str | None, typer.Option("--dag", help="Only the jobs of this DAG (id).")] = None,
    schedule: Annotated[
        str | None, typer.Option("--schedule", help="Only jobs this schedule submits.")
    ] = None,
    job_name: Annotated[
        str | None, typer.Option("--job-name", help="Only jobs whose name matches this glob (train-*).")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Create it switched off.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """Send job events to a channel: every job of the workspace, or one scope."""
    with client() as c:
        rule = c.notifications.create_rule(
            workspace,
            channel,
            events=on,
            name=name,
            running_longer_than_s=longer_than,
            job_id=job,
            dag_id=dag,
            schedule_id=schedule,
            job_name_pattern=job_name,
            enabled=not disabled,
        )
    print_object(rule, output)


@rules_app.command("delete")
def delete_rule(
    rule_id: Annotated[str, typer.Argument(help="Rule id (see `dais notify rules list`).")],
    workspace: WorkspaceOpt,
) -> None:
    """Delete a rule; its past deliveries stay in the log."""
    with client() as c:
        c.notifications.delete_rule(workspace, rule_id)
    say(f"Deleted rule {rule_id}.")


@notify_app.command("deliveries")
def deliveries(
    workspace: WorkspaceOpt,
    state: Annotated[str | None, typer.Option("--state", help="pending, sent or failed.")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule's deliveries (id).")] = None,
    job: Annotated[str | None, typer.Option("--job", help="Only deliveries about this job (id).")] = None,
    channel: Annotated[str | None, typer.Option("--channel", "-c", help="Only this channel's.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="At most this many, newest first.")] = 50,
    output: OutputOpt = Format.table,
) -> None:
    """The delivery log: each notification, its state, tries and last error, newest first."""
    with client() as c:
        items = c.notifications.deliveries(
            workspace, state=state, rule_id=rule, job_id=job, channel=channel, limit=limit
        )
        print_list(items, DELIVERY_COLUMNS, output)


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")
