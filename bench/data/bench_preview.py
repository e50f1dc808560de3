"""The sample preview endpoint: latency of ``GET .../datasets/{name}/sample`` on a running server.

Starts ``dais up --demo`` on a fresh home (SQLite, the embedded default), waits until the demo's
``breast-cancer`` dataset (31 columns, date-partitioned parquet) is registered, then sends
``--requests`` sample requests one after another over one keep-alive connection, and again from
``--threads`` threads at once, authenticated with an API token (what the UI and SDK send). Each
request returns the 100-row sample kept in the metadata database at registration: the source is
never read. Prints a table of p50/p99/max and appends it to bench/RESULTS.md. Target: p99 < 50 ms.

    .venv/bin/python bench/data/bench_preview.py [--requests 2000] [--threads 8] [--no-results]
"""

from __future__ import annotations

import argparse
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
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
ADMIN, PASSWORD = "admin", "bench-preview-password"
DATASET = "breast-cancer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def start_server(home: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIS_")}
    env.update(
        DAIS_HOME=str(home),
        DAIS_ADMIN_USER=ADMIN,
        DAIS_ADMIN_PASSWORD=PASSWORD,
        DAIS_LOG_TO_FILE="false",
        DAIS_LOG_LEVEL="WARNING",
        DAIS_API_COOKIE_SECURE="false",
    )
    cmd = [str(VENV_BIN / "dais"), "up", "--demo", "--port", str(port)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_ready(base: str, timeout: float = 120.0) -> str:
    """A fresh API token once the demo dataset is registered."""
    deadline = time.monotonic() + timeout
    token = None
    with httpx.Client(base_url=base, timeout=10) as http:
        while time.monotonic() < deadline:
            try:
                if token is None:
                    reply = http.post(
                        "/api/v1/tokens",
                        auth=(ADMIN, PASSWORD),
                        json={"name": "bench", "workspace": None, "expires_in_days": 1},
                    )
                    if reply.status_code == 201:
                        token = reply.json()["token"]
                if token is not None:
                    got = http.get(
                        f"/api/v1/workspaces/demo/datasets/{DATASET}/sample",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    if got.status_code == 200:
                        return token
            except httpx.TransportError:
                pass
            time.sleep(0.5)
    raise SystemExit(f"the demo dataset {DATASET!r} was not registered within {timeout:.0f} s")


def sequential(base: str, token: str, n: int) -> list[float]:
    times = []
    path = f"/api/v1/workspaces/demo/datasets/{DATASET}/sample"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10) as http:
        for _ in range(50):  # warm-up
            http.get(path).raise_for_status()
        for _ in range(n):
            t0 = time.perf_counter()
            http.get(path).raise_for_status()
            times.append(time.perf_counter() - t0)
    return times


def concurrent(base: str, token: str, n: int, threads: int) -> tuple[list[float], float]:
    times: list[float] = []
    lock = threading.Lock()
    path = f"/api/v1/workspaces/demo/datasets/{DATASET}/sample"

    def run(count: int) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as http:
            mine = []
            for _ in range(count):
                t0 = time.perf_counter()
                http.get(path).raise_for_status()
                mine.append(time.perf_counter() - t0)
        with lock:
            times.extend(mine)

    workers = [threading.Thread(target=run, args=(n // threads,)) for _ in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return times, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--no-results", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dais-bench-preview-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(home, port)
    try:
        token = wait_ready(base)
        seq = sequential(base, token, args.requests)
        conc, wall = concurrent(base, token, args.requests, args.threads)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)

    rows = [
        (
            "one client, keep-alive",
            len(seq),
            _pct(seq, 0.5),
            _pct(seq, 0.99),
            max(seq) * 1000,
            len(seq) / sum(seq),
        ),
        (
            f"{args.threads} clients at once",
            len(conc),
            _pct(conc, 0.5),
            _pct(conc, 0.99),
            max(conc) * 1000,
            len(conc) / wall,
        ),
    ]
    table = [
        "| requests | count | p50 ms | p99 ms | max ms | requests/s |",
        "|---|---|---|---|---|---|",
        *[f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.0f} |" for r in rows],
    ]
    print("\n".join(table))
    if args.no_results:
        return
    cmd = "python bench/data/bench_preview.py " + " ".join(sys.argv[1:])
    section = [
        "",
        f"## Data: sample preview endpoint latency ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        f"Command: `{cmd.strip()}`. Server: `dais up --demo` (SQLite, one uvicorn worker, the worker "
        f"pool running beside it); dataset `{DATASET}` (31 columns, 100-row sample kept in the database); "
        "client: httpx with a Bearer token, on the same machine.",
        "",
        *table,
        "",
        "Target: p99 under 50 ms.",
    ]
    with (ROOT / "bench" / "RESULTS.md").open("a") as f:
        f.write("\n".join(section) + "\n")


if __name__ == "__main__":
    main()
