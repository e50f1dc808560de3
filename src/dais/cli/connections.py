"""``dais connections``: where data lives (folders, S3 buckets, SQL databases) and its credentials."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, print_list, print_object, say

connections_app = typer.Typer(
    help="Connections to data sources: local folders, S3 buckets, SQL databases (credentials encrypted).",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace slug or id.", envvar="DAIS_WORKSPACE")
]
NameArg = Annotated[str, typer.Argument(help="Connection name.")]

CONNECTION_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("KIND", "kind"),
    ("WHERE", lambda c: _where(c.config)),
    ("SECRETS SET", lambda c: ", ".join(c.secrets_set) or None),
    ("HEALTH", lambda c: c.health),
    ("CHECKED", "health_checked_at"),
    ("DESCRIPTION", "description"),
]
CONNECTION_FIELDS = [
    "name",
    "kind",
    "description",
    "config",
    "secrets_set",
    "health",
    "health_message",
    "health_checked_at",
    "id",
    "created_at",
    "updated_at",
]
ENTRY_COLUMNS: list[Column] = [
    ("NAME", lambda e: e.name + ("/" if e.kind == "dir" else "")),
    ("KIND", "kind"),
    ("SIZE", "size"),
    ("MODIFIED", "modified"),
    ("PATH", "path"),
]
KIND_COLUMNS: list[Column] = [
    ("KIND", "name"),
    ("CAPABILITIES", lambda k: ", ".join(k.capabilities)),
    ("AVAILABLE", "available"),
    ("DESCRIPTION", lambda k: k.error or k.description),
]


def _where(config: dict[str, Any]) -> str | None:
    for key in ("root", "bucket", "url", "metastore_uri", "namenode"):
        if config.get(key):
            prefix = config.get("prefix")
            return f"{config[key]}/{prefix}" if key == "bucket" and prefix else str(config[key])
    return None


def parse_settings(values: list[str] | None, option: str) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict; VALUE is read as YAML, so numbers and booleans keep their type."""
    import yaml

    out: dict[str, Any] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        try:
            value = yaml.safe_load(raw) if raw else ""
        except yaml.YAMLError:
            value = raw
        out[key.strip()] = value if isinstance(value, str | int | float | bool | list | dict) else raw
    return out


def parse_secrets(values: list[str] | None) -> dict[str, str]:
    """``KEY=VALUE`` secrets; a bare ``KEY`` asks for the value without echoing it."""
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY or KEY=VALUE", param_hint="--secret")
        out[key.strip()] = raw if sep else typer.prompt(key.strip(), hide_input=True)
    return out


def _config_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    try:
        value = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--config-file") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{path} must hold KEY: VALUE pairs", param_hint="--config-file")
    return value


ConfigOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--config",
        "-c",
        help="A setting of the kind, KEY=VALUE (repeatable): root=/data, bucket=raw, url=postgresql://...",
        show_default=False,
    ),
]
ConfigFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--config-file", help="Settings as a YAML or JSON file (--config adds to them).", exists=True
    ),
]
SecretOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--secret",
        "-s",
        help="A credential, KEY=VALUE, or KEY alone to type it in hidden (repeatable): "
        "password, access_key_id, secret_access_key.",
        show_default=False,
    ),
]


@connections_app.command("kinds")
def kinds(output: OutputOpt = Format.table) -> None:
    """The connector kinds this server has, and whether each works here.

    `-o yaml` shows each kind's settings (config_schema) and credentials (secrets_schema).
    """
    with client() as c:
        print_list(c.connections.kinds(), KIND_COLUMNS, output)


@connections_app.command("list")
def list_connections(workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """The workspace's connections with their health (which secrets are set, never their values)."""
    with client() as c:
        print_list(c.connections.list(workspace=workspace), CONNECTION_COLUMNS, output)


@connections_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="A name, unique in the workspace (a-z, 0-9, _ . -).")],
    workspace: WorkspaceOpt,
    kind: Annotated[
        str, typer.Option("--kind", "-k", help="file, s3, sql, hive or hdfs (`dais connections kinds`).")
    ],
    config: ConfigOpt = None,
    config_file: ConfigFileOpt = None,
    secret: SecretOpt = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What this source holds.")] = "",
    test: Annotated[
        bool, typer.Option("--test/--no-test", help="Test the connection once it is saved.")
    ] = True,
    output: OutputOpt = Format.table,
) -> None:
    """Save a connection to a data source (its settings are checked first; nothing invalid is saved).

    Examples:

    * `dais connections create lake -w team -k file -c root=/srv/data`
    * `dais connections create raw -w team -k s3 -c bucket=raw -c endpoint_url=http://minio:9000
      -s access_key_id=AKIA... -s secret_access_key`
    * `dais connections create shop -w team -k sql -c url=postgresql+psycopg://reader@db/shop -s password`

    A `--secret KEY` without a value asks for it (hidden), so it stays out of your shell history.
    """
    settings = {**_config_file(config_file), **parse_settings(config, "--config")}
    with client() as c:
        conn = c.connections.create(
            name,
            kind,
            config=settings,
            secrets=parse_secrets(secret),
            description=description,
            workspace=workspace,
        )
        result = c.connections.test(name, workspace=workspace) if test else None
    if output != Format.table:
        print_object(conn, output)
        return
    say(f"Created connection [bold]{conn.name}[/bold] ({conn.kind}) in {workspace}.")
    if result is not None:
        _say_check(name, result)


def _say_check(name: str, result: Any) -> None:
    if result.ok:
        say(f"  [green]ok[/green] {name}: {result.message} ({result.latency_ms:.0f} ms)")
    else:
        say(f"  [red]failing[/red] {name}: {result.message} ({result.latency_ms:.0f} ms)")


@connections_app.command("show")
def show(name: NameArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Show a connection: settings, which secrets are set, and its health."""
    with client() as c:
        conn = c.connections.get(name, workspace=workspace)
    print_object(conn, output, fields=CONNECTION_FIELDS if output == Format.table else None)


@connections_app.command("update")
def update(
    name: NameArg,
    workspace: WorkspaceOpt,
    config: ConfigOpt = None,
    config_file: ConfigFileOpt = None,
    secret: SecretOpt = None,
    remove_secret: Annotated[
        list[str] | None,
        typer.Option("--remove-secret", help="Remove this credential (repeatable).", show_default=False),
    ] = None,
    description: Annotated[str | None, typer.Option("--description", "-d", help="New description.")] = None,
    rename: Annotated[str | None, typer.Option("--rename", help="A new name.")] = None,
    output: OutputOpt = Format.table,
) -> None:
    """Change a connection: settings given are merged in; credentials given replace the old ones.

    Example: `dais connections update raw -w team -s secret_access_key` (asks for the new key).
    """
    settings = {**_config_file(config_file), **parse_settings(config, "--config")}
    secrets: dict[str, str | None] = {**parse_secrets(secret), **dict.fromkeys(remove_secret or [])}
    with client() as c:
        conn = c.connections.update(
            name,
            new_name=rename,
            description=description,
            config=settings or None,
            secrets=secrets or None,
            workspace=workspace,
        )
    if output != Format.table:
        print_object(conn, output)
    else:
        say(f"Updated connection [bold]{conn.name}[/bold].")


@connections_app.command("test")
def check_connection(name: NameArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Try a connection now (bounded by the server's source timeout) and record its health.

    Exits 1 when the source fails, printing its own message.
    """
    with client() as c:
        result = c.connections.test(name, workspace=workspace)
    if output != Format.table:
        print_object(result, output)
    else:
        _say_check(name, result)
    if not result.ok:
        raise typer.Exit(1)


@connections_app.command("browse")
def browse(
    name: NameArg,
    workspace: WorkspaceOpt,
    path: Annotated[str, typer.Argument(help="A folder under the root (files) or a schema (tables).")] = "",
    output: OutputOpt = Format.table,
) -> None:
    """List what a connection holds at PATH: folders and files, or schemas and tables.

    Example: `dais connections browse lake -w team sales/2024`.
    """
    with client() as c:
        entries = c.connections.browse(name, path, workspace=workspace)
    print_list(entries, ENTRY_COLUMNS, output, title=f"{name}:/{path}" if output == Format.table else None)


@connections_app.command("delete")
def delete(
    name: NameArg,
    workspace: WorkspaceOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a connection and its stored credentials (the data at the source is untouched)."""
    if not yes:
        typer.confirm(f"Delete connection {name} of {workspace}?", abort=True)
    with client() as c:
        c.connections.delete(name, workspace=workspace)
    say(f"Deleted connection [bold]{name}[/bold].")


def register(app: typer.Typer) -> None:
    app.add_typer(connections_app, name="connections")
