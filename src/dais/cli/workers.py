"""``dais workers`` (the resource pool) and ``dais worker`` (run one worker in the foreground)."""

from __future__ import annotations

from typing import Annotated

import typer

from dais.cli.connect import client
from dais.cli.output import Column, Format, OutputOpt, print_list

workers_app = typer.Typer(help="The resource pool: workers, their capacity and what they run.")

WORKER_COLUMNS: list[Column] = [
    ("NAME", "name"),
    ("STATE", lambda w: w.state if w.alive else f"{w.state} (silent)"),
    ("CPUS", lambda w: f"{w.used_cpus:g}/{w.cpus:g}"),
    ("MEMORY MB", lambda w: f"{w.used_memory_mb}/{w.memory_mb}"),
    (
        "GPUS",
        lambda w: (
            f"{w.used_gpus}/{len(w.gpu_ids)}" + (f" ({','.join(map(str, w.gpu_ids))})" if w.gpu_ids else "")
        ),
    ),
    ("SLOTS", lambda w: f"{len(w.running)}/{w.slots}"),
    ("LABELS", "labels"),
    ("RUNNING", lambda w: ", ".join(w.running) or None),
    ("HEARTBEAT", "heartbeat_at"),
]


@workers_app.command("list")
def list_workers(output: OutputOpt = Format.table) -> None:
    """Workers seen in the last hour: capacity, usage (used/total) and the jobs they run."""
    with client() as c:
        print_list(c.workers.list(), WORKER_COLUMNS, output)


def worker(
    cpus: Annotated[
        float | None, typer.Option("--cpus", help="CPU cores it offers (default: all of this machine).")
    ] = None,
    memory_mb: Annotated[
        int | None, typer.Option("--memory-mb", help="Memory it offers in MB (default: all of this machine).")
    ] = None,
    gpus: Annotated[
        str | None, typer.Option("--gpus", help="GPU ids it offers, such as 0,1 (default: none).")
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", help="A label jobs can ask for, KEY=VALUE (repeatable).", show_default=False),
    ] = None,
    slots: Annotated[
        int | None, typer.Option("--slots", min=1, help="Jobs it runs at once (default: DAIS_JOBS_SLOTS).")
    ] = None,
    executor: Annotated[
        str, typer.Option("--executor", help="Where jobs run: `local` (child processes).")
    ] = "local",
    name: Annotated[str | None, typer.Option("--name", help="Its name (default: host-pid).")] = None,
) -> None:
    """Run a worker in the foreground: it takes jobs from the queue and runs each in its own process.

    It uses the configured database and artifact store (DAIS_DATABASE_URL, DAIS_ARTIFACTS_URL) and
    gives jobs DAIS_API_PUBLIC_URL (or the API address) as DAIS_URL. SIGTERM or Ctrl-C drains it:
    running jobs may finish for a while, then are handed back to the queue; it exits 0.
    """
    from dais.cli.jobs import parse_pairs

    gpu_ids = [g.strip() for g in (gpus or "").split(",") if g.strip()]
    labels = parse_pairs(label, "--label")

    from dais.cli.pool import run_worker

    run_worker(
        cpus=cpus,
        memory_mb=memory_mb,
        gpu_ids=gpu_ids,
        labels=labels,
        slots=slots,
        executor=executor,
        name=name,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(workers_app, name="workers")
    app.command("worker")(worker)
