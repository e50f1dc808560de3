"""Experiment tracking: the same mlflow client against `mlflow server` and Dais, per database kind.

For each database kind (SQLite, then PostgreSQL) it starts `mlflow server` on a fresh database, runs
the workloads, stops it, then does the same with Dais (`dais api`, the MLflow-compatible REST facade
at /api/2.0/mlflow, authenticated with an API token). The workloads are one client program,
`bench/tracking_client.py`, run by the Python of a bench-only venv holding the full `mlflow` package
(`bench/.venv-mlflow`, created on first use: mlflow pins pyarrow below the project's), so the client
side is identical for every server:

- single `log_metric` calls, one after another (default 2,000): calls/s;
- points of one metric through `log_batch`, 1,000 a request (default 100,000): points/s;
- `get_metric_history` of that metric (median of --repeat reads): seconds;
- runs made the way a training script makes them (create, one log_batch of 10 params and
  10 metrics, set_terminated, which the stock client does as get_run + update_run; default 200,
  one after another): runs/s;
- `search_runs` with a metric filter (`metrics.m0 > 0.5`, first page of up to 1,000 runs) over an
  experiment of --search-runs runs (default 10,000; the rest seeded by --seed-threads clients at
  once): seconds (median of --repeat);
- server memory at the end: resident set of the server's process tree (every worker), and its peak.

Prints the table (workload | mlflow server | Dais | ratio | target) and, per system, the client-side
latency of each call kind. The history read and the search are also timed as plain HTTP requests
(the same bodies, the JSON not turned into mlflow objects): the stock client's own parsing of
100,000 points or 1,000 runs takes seconds on any server, and these rows show the server's part.
Target (issue 6): each figure at least 5x better than `mlflow server` on the same database kind;
history read and search under 0.5 s. The servers' logs of the last run are kept in
bench/out/tracking/; each system's figures are printed as a JSON line as soon as it is done, and
--render LOG prints the table again from a saved output.

    .venv/bin/python bench/tracking.py [--quick] [--systems mlflow-sqlite,dais-sqlite,...]
        [--skip-postgres] [--record]

Needs a PostgreSQL server at 127.0.0.1:5432 (user postgres, trust auth) for the PostgreSQL rows; each
server gets a fresh database, dropped afterwards. --quick is a smoke run that takes seconds per
server for Dais, a few minutes for mlflow server (200 calls, 10,000 points, 100 runs, search over
1,000 runs). The full run takes about an hour on a 2-core machine, mostly mlflow server's.
--record appends the table to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
PROJECT_BIN = Path(sys.executable).parent
BENCH_VENV = ROOT / "bench" / ".venv-mlflow"
CLIENT = ROOT / "bench" / "tracking_client.py"
LOGS = ROOT / "bench" / "out" / "tracking"  # the servers' logs of the last run (git-ignored)
PG_HOST = "postgres@127.0.0.1:5432"
ADMIN, PASSWORD = "admin", "bench-tracking-password"
SYSTEMS = ("mlflow-sqlite", "dais-sqlite", "mlflow-postgresql", "dais-postgresql")
QUIET = {"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}


# -- the bench venv ------------------------------------------------------------------------------------


def bench_python() -> Path:
    """The bench venv's Python, creating the venv (full mlflow + psycopg) if it is missing."""
    python = BENCH_VENV / "bin" / "python"
    probe = [str(python), "-c", "import mlflow.server, psycopg"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    try:  # the client the project's tests drive, so the bench speaks the same protocol version
        spec = f"mlflow=={metadata.version('mlflow-skinny')}"
    except metadata.PackageNotFoundError:
        spec = "mlflow"
    print(f"creating {BENCH_VENV.relative_to(ROOT)} with {spec} (a minute or two, once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, spec, "psycopg[binary]"], check=True)
    subprocess.run(probe, check=True)
    return python


# -- process-tree memory (from /proc) ------------------------------------------------------------------


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def _field_kb(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_memory_mb(root: int) -> tuple[float, float, float, int]:
    """(RSS, PSS, largest process's RSS, process count) of ``root`` and its descendants, in MB."""
    pids = _tree(root)
    each = [_field_kb(f"/proc/{p}/status", "VmRSS") for p in pids]
    pss = sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids)
    return sum(each) / 1024, pss / 1024, max(each) / 1024, len(pids)


class PeakSampler(threading.Thread):
    """Samples the tree's RSS twice a second; keeps the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak_mb = root, 0.0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.5):
            pids = _tree(self.root)
            rss = sum(_field_kb(f"/proc/{p}/status", "VmRSS") for p in pids) / 1024
            self.peak_mb = max(self.peak_mb, rss)


# -- servers -------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str  # "mlflow server" | "Dais"
    db_kind: str  # "SQLite" | "PostgreSQL"
    proc: subprocess.Popen[bytes]
    url: str
    log: Path
    client_env: dict[str, str] = field(default_factory=dict)
    processes: int = 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _spawn(cmd: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # its own session, so the whole tree stops together
        return subprocess.Popen(
            cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _wait_ready(server: Server, probe: str, headers: dict[str, str], timeout: float = 180.0) -> None:
    """Until the health probe and an MLflow experiments search both answer 200."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as http:
        while time.monotonic() < deadline:
            if server.proc.poll() is not None:
                break
            try:
                if http.get(probe).status_code == 200:
                    reply = http.post("/api/2.0/mlflow/experiments/search", json={"max_results": 1})
                    if reply.status_code == 200:
                        return
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    tail = server.log.read_text(errors="replace")[-3000:]
    stop(server)
    raise SystemExit(f"{server.name} ({server.db_kind}) did not answer at {server.url}:\n{tail}")


def start_mlflow(python: Path, db_url: str, db_kind: str, work: Path, workers: int | None) -> Server:
    port = _free_port()
    cmd = [
        str(python.parent / "mlflow"),
        "server",
        "--backend-store-uri",
        db_url,
        "--artifacts-destination",
        str(work / "mlartifacts"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    if workers:
        cmd += ["--workers", str(workers)]
    # uvicorn restarts a worker that does not answer its supervisor's ping within 5 s; on a loaded
    # machine mlflow's workers start slower than that and are killed over and over.
    cmd += ["--uvicorn-opts", "--timeout-worker-healthcheck 300"]
    env = {**os.environ, **QUIET}
    log = work / "mlflow-server.log"
    server = Server("mlflow server", db_kind, _spawn(cmd, env, log, work), f"http://127.0.0.1:{port}", log)
    _wait_ready(server, "/health", {}, timeout=600)
    return server


def start_dais(db_url: str, db_kind: str, work: Path) -> Server:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIS_")}
    env.update(
        DAIS_HOME=str(work / "home"),
        DAIS_DATABASE_URL=db_url,
        DAIS_LOG_TO_FILE="false",
        DAIS_LOG_LEVEL="WARNING",
    )
    subprocess.run([str(PROJECT_BIN / "dais"), "db", "upgrade"], env=env, check=True, capture_output=True)
    admin = (
        "from dais.db import create_database\n"
        "from dais.tenancy.bootstrap import ensure_admin\n"
        f"db = create_database({db_url!r})\n"
        "with db.session() as s:\n"
        f"    ensure_admin(s, username={ADMIN!r}, password={PASSWORD!r})\n"
        "db.dispose()\n"
    )
    subprocess.run([sys.executable, "-c", admin], env=env, check=True)
    port = _free_port()
    cmd = [str(PROJECT_BIN / "dais"), "api", "--host", "127.0.0.1", "--port", str(port)]
    log = work / "dais-api.log"
    server = Server("Dais", db_kind, _spawn(cmd, env, log, work), f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    token = None
    with httpx.Client(base_url=server.url, timeout=30) as http:
        while token is None and time.monotonic() < deadline and server.proc.poll() is None:
            try:
                reply = http.post(
                    "/api/v1/tokens",
                    auth=(ADMIN, PASSWORD),
                    json={"name": "bench", "workspace": "default", "expires_in_days": 1},
                )
                if reply.status_code == 201:
                    token = reply.json()["token"]
            except httpx.TransportError:
                time.sleep(0.3)
    if token is None:
        tail = log.read_text(errors="replace")[-3000:]
        stop(server)
        raise SystemExit(f"Dais ({db_kind}) gave no API token:\n{tail}")
    server.client_env = {"MLFLOW_TRACKING_TOKEN": token}
    _wait_ready(server, "/healthz", {"Authorization": f"Bearer {token}"})
    return server


def stop(server: Server) -> None:
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait()


class PgDatabase:
    """A fresh PostgreSQL database for one server, dropped on exit."""

    def __init__(self) -> None:
        from sqlalchemy import create_engine

        self.name = f"bench_tracking_{uuid.uuid4().hex[:8]}"
        self.admin = create_engine(f"postgresql+psycopg://{PG_HOST}/postgres", isolation_level="AUTOCOMMIT")

    def __enter__(self) -> PgDatabase:
        from sqlalchemy import text

        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self

    def __exit__(self, *exc: object) -> None:
        from sqlalchemy import text

        with self.admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


# -- one system ----------------------------------------------------------------------------------------


def run_system(
    system: str, python: Path, sizes: dict[str, int], mlflow_workers: int | None
) -> dict[str, Any]:
    kind, db_kind = system.split("-")
    db_label = "SQLite" if db_kind == "sqlite" else "PostgreSQL"
    work = Path(tempfile.mkdtemp(prefix=f"dais-bench-tracking-{system}-"))
    pg = PgDatabase().__enter__() if db_kind == "postgresql" else None
    try:
        if kind == "mlflow":
            url = f"postgresql://{PG_HOST}/{pg.name}" if pg else f"sqlite:///{work / 'mlflow.db'}"
            t0 = time.perf_counter()
            server = start_mlflow(python, url, db_label, work, mlflow_workers)
        else:
            url = f"postgresql+psycopg://{PG_HOST}/{pg.name}" if pg else f"sqlite:///{work / 'dais.db'}"
            t0 = time.perf_counter()
            server = start_dais(url, db_label, work)
        started_s = time.perf_counter() - t0
        print(f"{server.name}, {db_label}: ready in {started_s:.1f} s at {server.url}", flush=True)
        load_before = os.getloadavg()[0]
        sampler = PeakSampler(server.proc.pid)
        sampler.start()
        try:
            env = {**os.environ, **QUIET, **server.client_env, "MLFLOW_TRACKING_URI": server.url}
            for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
                if name not in server.client_env:
                    env.pop(name, None)
            done = subprocess.run(
                [str(python), str(CLIENT), json.dumps(sizes)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
                cwd=work,
            )
            if done.returncode != 0:
                tail = server.log.read_text(errors="replace")[-3000:]
                raise SystemExit(f"the client failed against {server.name} ({db_label}); server log:\n{tail}")
            figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            rss, pss, largest, count = tree_memory_mb(server.proc.pid)
        finally:
            sampler.stop.set()
            sampler.join()
            stop(server)
            LOGS.mkdir(parents=True, exist_ok=True)
            shutil.copy(server.log, LOGS / f"{system}.log")
        figures.update(
            sizes=sizes,
            system=server.name,
            db_kind=db_label,
            start_s=started_s,
            rss_mb=rss,
            pss_mb=pss,
            peak_rss_mb=max(sampler.peak_mb, rss),
            largest_mb=largest,
            processes=count,
            worker_restarts=server.log.read_text(errors="replace").count("] died"),
            load=[load_before, os.getloadavg()[0]],
        )
        return figures
    finally:
        if pg:
            pg.__exit__(None, None, None)
        shutil.rmtree(work, ignore_errors=True)


# -- the table -----------------------------------------------------------------------------------------


@dataclass
class Row:
    label: str
    value: float | str  # a string: shown as is, no ratio
    fmt: str = ""
    higher_is_better: bool = False
    target: str = ""  # "" for a row that is not a target
    under_half_second: bool = False


def _http_only(f: dict[str, Any], kind: str) -> float:
    call = f["calls"].get(kind)
    return float(call["p50_ms"]) / 1000 if call else float("nan")


def _rows(sizes: dict[str, int], f: dict[str, Any]) -> list[Row]:
    seed: float | str = f["seed_runs"] / f["seed_s"] if f["seed_runs"] else "-"
    return [
        Row(
            f"{sizes['single']:,} single log_metric calls: calls/s",
            sizes["single"] / f["single_s"],
            ".0f",
            True,
            "5x",
        ),
        Row(
            f"{sizes['points']:,} points through log_batch: points/s",
            sizes["points"] / f["points_s"],
            ",.0f",
            True,
            "5x",
        ),
        Row(
            f"get_metric_history of {sizes['points']:,} points: s",
            f["history_s"],
            ".3f",
            False,
            "5x, < 0.5 s",
            True,
        ),
        Row(
            f"{sizes['runs']:,} runs, 10 params + 10 metrics each: runs/s",
            sizes["runs"] / f["runs_s"],
            ".1f",
            True,
            "5x",
        ),
        Row(
            f"search_runs over {sizes['search_runs']:,} runs, metric filter: s",
            f["search_s"],
            ".3f",
            False,
            "5x, < 0.5 s",
            True,
        ),
        Row("server memory at the end: RSS MB (process tree)", f["rss_mb"], ".0f", False, "5x"),
        Row(
            "get-history over plain HTTP, no client parsing: s",
            _http_only(f, "HTTP only: get-history, all pages"),
            ".3f",
        ),
        Row(
            "runs/search over plain HTTP, no client parsing: s",
            _http_only(f, "HTTP only: runs/search, one page"),
            ".3f",
        ),
        Row(f"search_runs, all {f['search_matches']:,} matches page by page: s", f["search_pages_s"], ".3f"),
        Row(
            f"seeding {f['seed_runs']:,} more runs (2 calls each), {sizes['seed_threads']} threads: runs/s",
            seed,
            ".1f",
            True,
        ),
        Row("server memory: peak RSS MB / PSS MB at the end", f"{f['peak_rss_mb']:.0f} / {f['pss_mb']:.0f}"),
        Row("server processes / largest one's RSS MB", f"{f['processes']} / {f['largest_mb']:.0f}"),
        Row("server workers that died and were restarted", str(f.get("worker_restarts", "?"))),
        Row("start on a fresh database: s", f"{f['start_s']:.1f}"),
        Row(
            "machine load average, start / end of the workloads",
            "{:.1f} / {:.1f}".format(*f["load"]) if "load" in f else "?",
        ),
    ]


def _cell(row: Row | None) -> str:
    if row is None:
        return "-"
    return row.value if isinstance(row.value, str) else format(row.value, row.fmt)


def table(sizes: dict[str, int], results: list[dict[str, Any]]) -> str:
    order = [
        ("SQLite", "mlflow server"),
        ("SQLite", "Dais"),
        ("PostgreSQL", "mlflow server"),
        ("PostgreSQL", "Dais"),
    ]
    results = sorted(results, key=lambda r: order.index((r["db_kind"], r["system"])))
    lines: list[str] = []
    for db_kind in ("SQLite", "PostgreSQL"):
        peer = next((r for r in results if r["db_kind"] == db_kind and r["system"] == "mlflow server"), None)
        dais = next((r for r in results if r["db_kind"] == db_kind and r["system"] == "Dais"), None)
        if not peer and not dais:
            continue
        lines += [
            f"**{db_kind}**",
            "",
            "| workload | mlflow server | Dais | Dais vs mlflow | target | met |",
            "|---|---|---|---|---|---|",
        ]
        peer_rows = _rows(sizes, peer) if peer else None
        dais_rows = _rows(sizes, dais) if dais else None
        for i, row in enumerate(peer_rows or dais_rows or []):
            p = peer_rows[i] if peer_rows else None
            d = dais_rows[i] if dais_rows else None
            ratio, met = "", ""
            if (
                p
                and d
                and isinstance(p.value, float)
                and isinstance(d.value, float)
                and p.value > 0 < d.value
            ):
                x = d.value / p.value if row.higher_is_better else p.value / d.value
                ratio = f"{x:.1f}x"
                if row.target:
                    met = "yes" if x >= 5 and (not row.under_half_second or d.value < 0.5) else "no"
            lines.append(f"| {row.label} | {_cell(p)} | {_cell(d)} | {ratio} | {row.target} | {met} |")
        lines.append("")
    for r in results:  # the name an earlier version of the client gave it
        if "update_run (set_terminated)" in r["calls"]:
            r["calls"]["set_terminated (get_run + update_run)"] = r["calls"].pop(
                "update_run (set_terminated)"
            )
    kinds = sorted({k for r in results for k in r["calls"]})
    names = [f"{r['system']}, {r['db_kind']}" for r in results]
    lines += [
        "Client-side latency per call, p50 / p99 ms:",
        "",
        "| call | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for kind in kinds:
        cells = []
        for r in results:
            c = r["calls"].get(kind)
            cells.append(f"{c['p50_ms']:.1f} / {c['p99_ms']:.1f}" if c else "-")
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="A smoke run: small sizes, seconds per server.")
    parser.add_argument("--single", type=int, help="Single log_metric calls (2000; quick 200).")
    parser.add_argument("--points", type=int, help="Points through log_batch (100000; quick 10000).")
    parser.add_argument("--runs", type=int, help="Runs timed one after another (200; quick 100).")
    parser.add_argument(
        "--search-runs", type=int, help="Runs in the searched experiment (10000; quick 1000)."
    )
    parser.add_argument("--seed-threads", type=int, default=4, help="Clients seeding the search runs.")
    parser.add_argument(
        "--repeat", type=int, help="History reads and searches, the median kept (3; quick 2)."
    )
    parser.add_argument(
        "--systems", default=",".join(SYSTEMS), help="Comma-separated, of: " + ", ".join(SYSTEMS)
    )
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument(
        "--mlflow-workers",
        type=int,
        help="`mlflow server --workers` (default: mlflow's own, 4 uvicorn workers).",
    )
    parser.add_argument("--record", action="store_true", help="Append the table to bench/RESULTS.md.")
    parser.add_argument(
        "--render", type=Path, help="Print the table again from the JSON lines a previous run printed."
    )
    args = parser.parse_args()

    quick = args.quick
    sizes = {
        "single": args.single or (200 if quick else 2000),
        "points": args.points or (10_000 if quick else 100_000),
        "runs": args.runs or (100 if quick else 200),
        "search_runs": args.search_runs or (1000 if quick else 10_000),
        "seed_threads": args.seed_threads,
        "repeat": args.repeat or (2 if quick else 3),
    }
    sizes["search_runs"] = max(sizes["search_runs"], sizes["runs"])
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        parser.error(f"unknown systems: {', '.join(sorted(unknown))}")
    if args.skip_postgres:
        systems = [s for s in systems if not s.endswith("postgresql")]

    if args.render:
        lines = args.render.read_text().splitlines()
        results = [json.loads(line) for line in lines if line.startswith("{")]
        print(table(results[0].get("sizes", sizes), results))
        return

    python = bench_python()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    results = []
    for system in systems:
        try:
            results.append(run_system(system, python, sizes, args.mlflow_workers))
        except (SystemExit, subprocess.CalledProcessError, OSError) as exc:  # the others still run
            print(f"{system} failed: {exc}", file=sys.stderr, flush=True)
            continue
        print(json.dumps(results[-1]), flush=True)
    if not results:
        raise SystemExit("no system ran")
    took = time.perf_counter() - t0
    load_after = os.getloadavg()[0]
    out = table(sizes, results)
    version = subprocess.run(
        [str(python), "-c", "import mlflow; print(mlflow.__version__)"], capture_output=True, text=True
    ).stdout.strip()
    cmd = "python bench/tracking.py " + " ".join(sys.argv[1:])
    note = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load_before:.1f} before, {load_after:.1f} after; {took:.0f} s in all. "
        f"Command: `{cmd.strip()}`. Client: mlflow {version} (`MlflowClient`, one process, "
        f"keep-alive HTTP) for every server. mlflow server: {args.mlflow_workers or 4} uvicorn "
        "workers (its default; their health-check timeout raised to 300 s so a loaded machine does "
        "not get them killed at start); Dais: `dais api` (one process), Bearer API token."
    )
    print()
    print(note)
    print()
    print(out)
    if args.record:
        section = [
            "",
            f"## Tracking: the mlflow client against mlflow server and Dais ({datetime.now(UTC):%Y-%m-%d})",
            "",
            note,
            "",
            out,
            "",
            "Target: each figure at least 5x better than mlflow server on the same database kind; "
            "history read and search under 0.5 s.",
        ]
        with (ROOT / "bench" / "RESULTS.md").open("a") as f:
            f.write("\n".join(section) + "\n")


if __name__ == "__main__":
    main()
