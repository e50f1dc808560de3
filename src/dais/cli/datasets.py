"""``dais datasets``: register data where it lives, look at it (sample, schema, partitions), version it,
download it, and upload files to register."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, dump, print_list, print_object, say

if TYPE_CHECKING:
    from dais.client import Dataset, Inspection
    from dais.client.datasets import JobProgress
    from dais.client.uploads import Progress as BytesProgress

datasets_app = typer.Typer(
    help="Datasets: register files, tables or queries of a connection (or an upload), and read them.",
    no_args_is_help=True,
)

WorkspaceOpt = Annotated[
    str, typer.Option("--workspace", "-w", help="Workspace slug or id.", envvar="DAIS_WORKSPACE")
]
NameArg = Annotated[str, typer.Argument(help="Dataset name.")]
ConnectionOpt = Annotated[
    str | None,
    typer.Option("--connection", "-c", help="Connection name (none: a path in the workspace's uploads)."),
]
PathOpt = Annotated[
    str | None,
    typer.Option(
        "--path", "-p", help="A file, folder or glob under the connection's root: sales/, logs/*.csv."
    ),
]
TableOpt = Annotated[
    str | None, typer.Option("--table", "-t", help="A table (or schema.table) of a SQL connection.")
]
QueryOpt = Annotated[str | None, typer.Option("--query", help="A read-only SQL query of a SQL connection.")]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="auto, parquet, csv, json, jsonl, text, arrow, images or video (auto: guessed).",
    ),
]
PartitionOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--partition",
        help="Pin a partition, dt=2024-06-01 (repeatable), or give one expression: 'dt=${ds-1d}'.",
        show_default=False,
    ),
]
VarOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--var", help="A variable for a partition expression, KEY=VALUE: ds=2024-06-01.", show_default=False
    ),
]
DelimiterOpt = Annotated[
    str | None, typer.Option("--delimiter", help="CSV: the field separator (default: sniffed).")
]
HeaderOpt = Annotated[
    bool | None, typer.Option("--header/--no-header", help="CSV: whether the first row names the columns.")
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="CSV: the text encoding (default: sniffed).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]

DATASET_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("FORMAT", "format"),
    ("CONNECTION", lambda d: d.connection or "(uploads)"),
    ("SOURCE", lambda d: _source_text(d.source)),
    ("ROWS", "row_count"),
    ("FILES", "files"),
    ("SIZE", lambda d: _size(d.bytes)),
    ("PARTITIONS", lambda d: d.partition_count or None),
    ("VERSION", "current_version"),
    ("UPDATED", "updated_at"),
]
DATASET_FIELDS = [
    "name",
    "description",
    "tags",
    "connection",
    "source",
    "format",
    "row_count",
    "files",
    "bytes",
    "media_total",
    "partition_style",
    "partition_keys",
    "partition_count",
    "current_version",
    "warnings",
    "sampled_at",
    "registered_by_job_id",
    "id",
    "created_at",
    "updated_at",
]
SCHEMA_COLUMNS: list[Column] = [
    ("COLUMN", "name"),
    ("TYPE", "type"),
    ("NULLABLE", "nullable"),
    ("PARTITION", lambda c: "yes" if c.partition else None),
]
STATS_COLUMNS: list[Column] = [
    ("COLUMN", "name"),
    ("NULLS", "nulls"),
    ("DISTINCT", "distinct"),
    ("MIN", "min"),
    ("MAX", "max"),
    ("MEAN", lambda s: None if s.mean is None else f"{s.mean:.4g}"),
    ("TOP", lambda s: ", ".join(f"{v} ({n})" for v, n in (s.top or [])[:3]) or None),
]
PARTITION_COLUMNS: list[Column] = [
    ("PARTITION", "path"),
    ("FILES", "files"),
    ("SIZE", lambda p: _size(p.bytes)),
]
VERSION_COLUMNS: list[Column] = [
    ("VERSION", "number"),
    ("KIND", "kind"),
    ("ROWS", "row_count"),
    ("FILES", "files"),
    ("SIZE", lambda v: _size(v.bytes)),
    ("PARTITIONS", lambda v: ", ".join(v.partitions) if v.partitions else "all"),
    ("JOB", "produced_by_job_id"),
    ("CREATED", "created_at"),
    ("NOTE", "note"),
]


def _size(n: int | None) -> str | None:
    if n is None:
        return None
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return None


def _extent(ds: Dataset) -> str:
    """How big a dataset is, in the terms known: rows, media items or files."""
    if ds.row_count is not None:
        return f"{ds.row_count} rows"
    if ds.media_total is not None:
        return f"{ds.media_total} items"
    return f"{ds.files or 0} files"


def _source_text(source: dict[str, Any]) -> str | None:
    text = source.get("path") or source.get("table") or source.get("query")
    return None if text is None else str(text)[:80]


def _partition_filter(values: list[str] | None) -> list[str] | str | None:
    """Pinned partitions as a list; one value with ``${`` in it is a dynamic expression."""
    if not values:
        return None
    if len(values) == 1 and "${" in values[0]:
        return values[0]
    return list(values)


def _vars(values: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--var")
        out[key.strip()] = value
    return out


def _csv(delimiter: str | None, header: bool | None, encoding: str | None) -> dict[str, Any] | None:
    options = {"delimiter": delimiter, "header": header, "encoding": encoding}
    given = {k: v for k, v in options.items() if v is not None}
    return given or None


@contextmanager
def job_progress(label: str, quiet: bool) -> Iterator[JobProgress | None]:
    """A rich progress bar (on standard error) fed by a data job's progress, and the callback for it."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[message]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None, message="queued")

        def update(fraction: float | None, message: str) -> None:
            bar.update(
                task,
                total=None if fraction is None else 1.0,
                completed=fraction or 0.0,
                message=message,
            )

        yield update


@contextmanager
def bytes_progress(label: str, quiet: bool) -> Iterator[BytesProgress | None]:
    """A rich transfer bar (bytes, speed, time left) and the SDK callback that moves it."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def print_rows(rows: list[dict[str, Any]], *, limit: int = 20, title: str | None = None) -> None:
    """Sample rows as a rich table (at most ``limit`` rows; long values cut)."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print("[dim]No rows.[/dim]")
        return
    columns = list(dict.fromkeys(k for row in rows[:limit] for k in row))
    table = Table(title=title, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="ellipsis", max_width=30)
    for row in rows[:limit]:
        table.add_row(*("-" if row.get(c) is None else str(row.get(c))[:200] for c in columns))
    console.print(table)
    if len(rows) > limit:
        console.print(f"[dim]{limit} of {len(rows)} rows shown (--rows N for more).[/dim]")


def _show_dataset(ds: Dataset, output: Format) -> None:
    if output != Format.table:
        typer.echo(dump(ds.model_dump(mode="json", by_alias=True), output))
        return
    print_object(ds, output, fields=DATASET_FIELDS)
    print_list(ds.schema, SCHEMA_COLUMNS, output, title="Schema")


def _show_inspection(found: Inspection, output: Format, rows: int) -> None:
    if output != Format.table:
        typer.echo(dump(found.model_dump(mode="json", by_alias=True), output))
        return
    facts = {
        "format": found.format,
        "rows": found.row_count,
        "files": found.files,
        "size": _size(found.bytes),
        "partitions": f"{found.partitions.style}: {len(found.partitions.partitions)}"
        if found.partitions.partitions
        else None,
        "media items": found.media_total,
        "warnings": "; ".join(found.warnings) or None,
    }
    print_object({k: v for k, v in facts.items() if v is not None}, output)
    print_list(found.columns, SCHEMA_COLUMNS, output, title="Schema")
    if found.media:
        rows_of = [m.model_dump(exclude_none=True) for m in found.media]
        print_rows(rows_of, limit=rows, title="Media")
    else:
        print_rows(found.sample, limit=rows, title="Sample")


# -- commands --------------------------------------------------------------------------------------------


@datasets_app.command("register")
def register_dataset(
    name: Annotated[str, typer.Argument(help="A name, unique in the workspace (a-z, 0-9, _ . -).")],
    workspace: WorkspaceOpt,
    connection: ConnectionOpt = None,
    path: PathOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    format: FormatOpt = "auto",
    partition: PartitionOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    encoding: EncodingOpt = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What the data is.")] = "",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="A tag (repeatable).", show_default=False)
    ] = None,
    allow_empty: Annotated[
        bool, typer.Option("--allow-empty", help="Register an empty source instead of failing.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option("--wait/--no-wait", help="Show progress until registered (default), or return at once."),
    ] = True,
    quiet: QuietOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Register a dataset: check the source, keep a sample, capture its schema and partitions.

    A `data.register` job does the work on a worker; a progress bar follows it. If the source is
    missing, unreadable or too slow, the command fails with the source's message and nothing is
    registered.

    Examples:

    * `dais datasets register sales -w team -c lake -p sales/` (a partitioned parquet folder)
    * `dais datasets register events -w team -c lake -p 'logs/*.csv' --delimiter ';'`
    * `dais datasets register orders -w team -c shop -t public.orders`
    * `dais datasets register daily -w team -c lake -p sales/ --partition 'dt=${ds}'`
    """
    with client() as c:
        kwargs: dict[str, Any] = {
            "connection": connection,
            "path": path,
            "table": table,
            "query": query,
            "format": format,
            "partition_filter": _partition_filter(partition),
            "csv": _csv(delimiter, header, encoding),
            "description": description,
            "tags": tag or [],
            "allow_empty": allow_empty,
            "workspace": workspace,
        }
        if not wait:
            reg = c.datasets.register(name, wait=False, **kwargs)
            if output != Format.table:
                print_object(reg, output)
            else:
                say(f"Registering [bold]{name}[/bold]: job {reg.job.id} ({reg.job.state}).")
                say(f"  Follow it: dais jobs get -w {workspace} {reg.job.id}")
            return
        with job_progress(f"register {name}", quiet or output != Format.table) as progress:
            ds = c.datasets.register(name, wait=True, progress=progress, **kwargs)
        if output == Format.table:
            say(f"Registered [bold]{ds.name}[/bold] ({ds.format}, {_extent(ds)}, {len(ds.schema)} columns).")
        _show_dataset(ds, output)


@datasets_app.command("preview")
def preview(
    workspace: WorkspaceOpt,
    name: Annotated[str | None, typer.Argument(help="A registered dataset (its kept sample).")] = None,
    connection: ConnectionOpt = None,
    path: PathOpt = None,
    table: TableOpt = None,
    query: QueryOpt = None,
    format: FormatOpt = "auto",
    partition: PartitionOpt = None,
    var: VarOpt = None,
    delimiter: DelimiterOpt = None,
    header: HeaderOpt = None,
    encoding: EncodingOpt = None,
    rows: Annotated[int, typer.Option("--rows", "-n", help="Rows to show.")] = 20,
    output: OutputOpt = Format.table,
) -> None:
    """Look at data: a registered dataset's sample, or a source before registering it (nothing saved).

    Examples:

    * `dais datasets preview sales -w team` (the sample kept at registration)
    * `dais datasets preview -w team -c lake -p sales/` (what registering would find)
    """
    with client() as c:
        if name is not None:
            if any(v is not None for v in (connection, path, table, query)):
                raise typer.BadParameter(
                    "give a dataset NAME or a source (--connection, --path...), not both"
                )
            ds = c.datasets.get(name, workspace=workspace)
            sample = ds.sample
            if output != Format.table:
                typer.echo(dump(sample, output))
            else:
                print_rows(sample, limit=rows, title=f"{ds.name}: sample")
            return
        found = c.datasets.preview(
            connection=connection,
            path=path,
            table=table,
            query=query,
            format=format,
            partition_filter=_partition_filter(partition),
            csv=_csv(delimiter, header, encoding),
            variables=_vars(var),
            workspace=workspace,
        )
    _show_inspection(found, output, rows)


@datasets_app.command("list")
def list_datasets(
    workspace: WorkspaceOpt,
    q: Annotated[str | None, typer.Option("--search", "-q", help="Only names containing this.")] = None,
    format: Annotated[str | None, typer.Option("--format", "-f", help="Only this format.")] = None,
    connection: Annotated[
        str | None, typer.Option("--connection", "-c", help="Only from this connection.")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 100,
    output: OutputOpt = Format.table,
) -> None:
    """The workspace's datasets."""
    with client() as c:
        items = c.datasets.list(q=q, format=format, connection=connection, limit=limit, workspace=workspace)
        print_list(items, DATASET_COLUMNS, output)


@datasets_app.command("show")
def show(name: NameArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """Show a dataset: source, format, size, partitions, current version, and its schema."""
    with client() as c:
        ds = c.datasets.get(name, workspace=workspace)
        _show_dataset(ds, output)


@datasets_app.command("schema")
def schema(
    name: NameArg,
    workspace: WorkspaceOpt,
    stats: Annotated[bool, typer.Option("--stats", help="Also column statistics over the sample.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """A dataset's columns (name, Arrow type, nullability), and with --stats their statistics."""
    with client() as c:
        ds = c.datasets.get(name, workspace=workspace)
        columns = ds.schema
        column_stats = ds.stats if stats else None
    if output != Format.table:
        body: Any = [col.model_dump(mode="json") for col in columns]
        if column_stats is not None:
            body = {"columns": body, "stats": [s.model_dump(mode="json") for s in column_stats]}
        typer.echo(dump(body, output))
        return
    print_list(columns, SCHEMA_COLUMNS, output)
    if column_stats is not None:
        print_list(column_stats, STATS_COLUMNS, output, title="Statistics over the sample")


@datasets_app.command("partitions")
def partitions(
    name: NameArg,
    workspace: WorkspaceOpt,
    live: Annotated[bool, typer.Option("--live", help="List them again from the source now.")] = False,
    output: OutputOpt = Format.table,
) -> None:
    """A dataset's partitions with their file counts and sizes."""
    with client() as c:
        info = c.datasets.partitions(name, live=live, workspace=workspace)
    if output != Format.table:
        print_object(info, output)
        return
    keys = ", ".join(info.keys) or "-"
    title = f"{info.style} partitions ({keys})" + (", more not listed" if info.truncated else "")
    print_list(info.partitions, PARTITION_COLUMNS, output, title=title)


@datasets_app.command("versions")
def versions(name: NameArg, workspace: WorkspaceOpt, output: OutputOpt = Format.table) -> None:
    """A dataset's versions: immutable snapshots (pointers with a fingerprint, or materialised copies)."""
    with client() as c:
        items = c.datasets.versions(name, workspace=workspace)
    print_list(items, VERSION_COLUMNS, output)


@datasets_app.command("snapshot")
def snapshot(
    name: NameArg,
    workspace: WorkspaceOpt,
    materialize: Annotated[
        bool, typer.Option("--materialize", help="Copy the data as parquet into the artifact store (a job).")
    ] = False,
    partition: PartitionOpt = None,
    var: VarOpt = None,
    note: Annotated[str, typer.Option("--note", help="Why this version exists.")] = "",
    quiet: QuietOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Make a new version: a pointer with a fingerprint of the source now, or a materialised copy.

    Examples:

    * `dais datasets snapshot sales -w team --note 'before the June fix'`
    * `dais datasets snapshot sales -w team --partition 'dt=${ds}' --var ds=2024-06-03 --materialize`
    """
    flt = _partition_filter(partition)
    with client() as c, job_progress(f"materialize {name}", quiet or not materialize) as progress:
        version = c.datasets.create_version(
            name,
            kind="materialized" if materialize else "pointer",
            partitions=flt if isinstance(flt, list) else None,
            partition_filter=flt if isinstance(flt, str) else None,
            variables=_vars(var),
            note=note,
            progress=progress,
            workspace=workspace,
        )
    if output != Format.table:
        print_object(version, output)
    else:
        say(f"Created version [bold]{version.number}[/bold] ({version.kind}) of {name}.")


@datasets_app.command("download")
def download(
    name: NameArg,
    workspace: WorkspaceOpt,
    dest: Annotated[Path, typer.Argument(help="File or folder to write to (default: here).")] = Path("."),
    format: Annotated[str, typer.Option("--format", "-f", help="parquet, csv, jsonl or arrow.")] = "parquet",
    version: Annotated[
        int | None, typer.Option("--version", help="This version (default: the current).")
    ] = None,
    partition: Annotated[
        list[str] | None,
        typer.Option("--partition", help="Only this partition (repeatable).", show_default=False),
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most this many rows.")] = None,
    quiet: QuietOpt = False,
) -> None:
    """Download a dataset's rows as one file (streamed; it appears only once complete).

    Example: `dais datasets download sales -w team sales.csv -f csv --partition dt=2024-06-01`.
    """
    if format not in ("parquet", "csv", "jsonl", "arrow"):
        raise typer.BadParameter("parquet, csv, jsonl or arrow", param_hint="--format")
    with client() as c, bytes_progress(f"download {name}", quiet) as progress:
        written = c.datasets.download(
            name,
            dest,
            format=format,  # type: ignore[arg-type]
            version=version,
            partitions=partition,
            limit=limit,
            progress=progress,
            workspace=workspace,
        )
    say(f"Downloaded [bold]{name}[/bold] to {written} ({_size(written.stat().st_size)}).")


@datasets_app.command("upload")
def upload(
    file: Annotated[Path, typer.Argument(help="Local file.", exists=True, dir_okay=False, readable=True)],
    workspace: WorkspaceOpt,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Register it as this dataset once uploaded.")
    ] = None,
    format: FormatOpt = "auto",
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue an upload that broke off (its id).")
    ] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What the data is.")] = "",
    quiet: QuietOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Upload a file in chunks into the workspace (resumable), and register it with --name.

    A broken upload prints its id; `--resume ID` continues from what the server has.

    Example: `dais datasets upload sales.csv -w team --name sales`.
    """
    with client() as c:
        with bytes_progress(f"upload {file.name}", quiet or output != Format.table) as progress:
            try:
                up = c.uploads.upload(file, resume=resume, progress=progress, workspace=workspace)
            except Exception as exc:
                upload_id = getattr(exc, "extra", {}).get("upload_id")
                if upload_id:
                    say(f"The upload broke off; continue it with --resume {upload_id}")
                raise
        if name is None:
            if output != Format.table:
                print_object(up, output)
            else:
                say(f"Uploaded [bold]{file.name}[/bold] as {up.key} ({_size(up.size)}).")
                say(f"  Register it: dais datasets register NAME -w {workspace} -p {up.key}")
            return
        if output == Format.table:
            say(f"Uploaded [bold]{file.name}[/bold] as {up.key}.")
        with job_progress(f"register {name}", quiet or output != Format.table) as jprogress:
            ds = c.datasets.register(
                name,
                path=up.key,
                format=format,
                description=description,
                progress=jprogress,
                workspace=workspace,
            )
        if output == Format.table:
            say(f"Registered [bold]{ds.name}[/bold] ({ds.format}, {_extent(ds)}, {len(ds.schema)} columns).")
        else:
            typer.echo(dump(ds.model_dump(mode="json", by_alias=True), output))


@datasets_app.command("refresh")
def refresh(
    name: NameArg, workspace: WorkspaceOpt, quiet: QuietOpt = False, output: OutputOpt = Format.table
) -> None:
    """Sample and inspect the source again; a new version if it changed."""
    with client() as c, job_progress(f"refresh {name}", quiet or output != Format.table) as progress:
        ds = c.datasets.refresh(name, progress=progress, workspace=workspace)
    if output == Format.table:
        say(f"Refreshed [bold]{ds.name}[/bold]: version {ds.current_version}.")
    else:
        _show_dataset(ds, output)


@datasets_app.command("delete")
def delete(
    name: NameArg,
    workspace: WorkspaceOpt,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Forget a dataset (its sample, versions and media index); the data at the source is untouched."""
    if not yes:
        typer.confirm(f"Delete dataset {name} of {workspace}?", abort=True)
    with client() as c:
        c.datasets.delete(name, workspace=workspace)
    say(f"Deleted dataset [bold]{name}[/bold].")


def register(app: typer.Typer) -> None:
    app.add_typer(datasets_app, name="datasets")
