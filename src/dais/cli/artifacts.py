"""``dais artifacts``: files in a workspace, with progress bars."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Format, OutputOpt, print_list, say

if TYPE_CHECKING:
    from dais.client.artifacts import Progress

artifacts_app = typer.Typer(help="List, upload, download and delete a workspace's artifacts.")

WorkspaceOpt = Annotated[str, typer.Option("--workspace", "-w", help="Workspace slug or id.")]
KeyArg = Annotated[str, typer.Argument(help="Artifact key, a relative path such as data/train.csv.")]
ARTIFACT_COLUMNS = [("KEY", "key"), ("SIZE", "size"), ("MODIFIED", "modified"), ("ETAG", "etag")]


@contextmanager
def _progress(label: str, quiet: bool) -> Iterator[Progress | None]:
    """A rich progress bar, and the SDK callback that moves it (``None`` when quiet)."""
    if quiet:
        yield None
        return
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
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]


@artifacts_app.command("ls")
def ls(
    workspace: WorkspaceOpt,
    prefix: Annotated[str, typer.Argument(help="Only keys under this prefix.")] = "",
    recursive: Annotated[
        bool, typer.Option("--recursive/--no-recursive", "-r/-R", help="Everything below, or one level.")
    ] = True,
    output: OutputOpt = Format.table,
) -> None:
    """List artifacts."""
    with client() as c:
        print_list(c.artifacts.list(workspace, prefix, recursive=recursive), ARTIFACT_COLUMNS, output)


@artifacts_app.command("upload")
def upload(
    workspace: WorkspaceOpt,
    path: Annotated[Path, typer.Argument(help="Local file.", exists=True, dir_okay=False, readable=True)],
    key: Annotated[str | None, typer.Argument(help="Key to store it under (default: the file name).")] = None,
    no_overwrite: Annotated[
        bool, typer.Option("--no-overwrite", help="Fail if the key already exists.")
    ] = False,
    quiet: QuietOpt = False,
    output: OutputOpt = Format.table,
) -> None:
    """Upload a file (streamed, any size)."""
    key = key or path.name
    with client() as c, _progress(f"upload {key}", quiet or output != Format.table) as progress:
        art = c.artifacts.upload(workspace, key, path, overwrite=not no_overwrite, progress=progress)
    if output != Format.table:
        print_list([art], ARTIFACT_COLUMNS, output)
    else:
        say(f"Uploaded [bold]{art.key}[/bold] ({art.size} bytes) to {workspace}.")


@artifacts_app.command("download")
def download(
    workspace: WorkspaceOpt,
    key: KeyArg,
    dest: Annotated[Path, typer.Argument(help="File or folder to write to (default: here).")] = Path("."),
    quiet: QuietOpt = False,
) -> None:
    """Download an artifact (streamed; the file appears only once complete)."""
    with client() as c, _progress(f"download {key}", quiet) as progress:
        written = c.artifacts.download(workspace, key, dest, progress=progress)
    say(f"Downloaded [bold]{key}[/bold] to {written}.")


@artifacts_app.command("rm")
def rm(workspace: WorkspaceOpt, key: KeyArg) -> None:
    """Delete an artifact."""
    with client() as c:
        c.artifacts.delete(workspace, key)
    say(f"Deleted [bold]{key}[/bold] from {workspace}.")


def register(app: typer.Typer) -> None:
    app.add_typer(artifacts_app, name="artifacts")
