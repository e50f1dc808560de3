"""A debug run end to end: submit through the API, until every node's sample is shown.

Starts ``dais up --demo`` on a fresh home (SQLite, one worker), waits for the demo's
``breast-cancer`` dataset, saves a pipeline (source -> impute mean -> standard scale -> sink) over
its first ten columns, then times ``--runs`` debug runs on a ``--sample``-row sample: from the
``POST .../runs`` call until the run reads back finished with every node's sample stored, polling
every 20 ms. The first run is reported apart (it may meet a launcher still starting). Prints a table
and appends it to bench/RESULTS.md. Target: under 2 s.

    .venv/bin/python bench/pipelines/bench_debug_run.py [--runs 5] [--sample 1000] [--no-results]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench" / "data"))

from bench_preview import DATASET, _free_port, start_server, wait_ready  # noqa: E402

PIPELINE = "bench-debug"


def save_pipeline(http: httpx.Client) -> None:
    schema = http.get(f"/api/v1/workspaces/demo/datasets/{DATASET}/schema").raise_for_status().json()
    numeric = [c["name"] for c in schema["columns"] if c["type"] in ("double", "float", "int64")][:10]
    graph = {
        "nodes": [
            {"id": "source", "operator": "source", "params": {"dataset": DATASET}},
            {"id": "impute", "operator": "impute", "params": {"columns": numeric, "strategy": "mean"}},
            {"id": "scale", "operator": "scale", "params": {"columns": numeric, "method": "standard"}},
            {"id": "sink", "operator": "sink", "params": {"dataset": "bench-debug-out"}},
        ],
        "edges": [
            {"source": "source", "target": "impute"},
            {"source": "impute", "target": "scale"},
            {"source": "scale", "target": "sink"},
        ],
    }
    http.post("/api/v1/workspaces/demo/pipelines", json={"name": PIPELINE, "graph": graph}).raise_for_status()


def debug_run(http: httpx.Client, sample: int) -> float:
    base = f"/api/v1/workspaces/demo/pipelines/{PIPELINE}/runs"
    t0 = time.perf_counter()
    run = http.post(base, json={"mode": "debug", "sample_rows": sample}).raise_for_status().json()
    while True:
        got = http.get(f"{base}/{run['id']}").raise_for_status().json()
        if got["status"] in ("succeeded", "failed", "cancelled"):
            elapsed = time.perf_counter() - t0
            if got["status"] != "succeeded":
                raise SystemExit(f"the debug run ended {got['status']}: {got.get('error')}")
            return elapsed
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--no-results", action="store_true", help="print only; do not append to RESULTS.md")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dais-bench-debug-"))
    port = _free_port()
    server = start_server(home, port)
    try:
        token = wait_ready(f"http://127.0.0.1:{port}")
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as http:
            save_pipeline(http)
            first = debug_run(http, args.sample)
            times = [debug_run(http, args.sample) for _ in range(args.runs)]
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(home, ignore_errors=True)

    table = [
        "| debug run, submit to all node samples | seconds |",
        "|---|---|",
        f"| first run after start | {first:.2f} |",
        f"| next {len(times)} runs: median | {statistics.median(times):.2f} |",
        f"| next {len(times)} runs: max | {max(times):.2f} |",
    ]
    print("\n".join(table))
    if args.no_results:
        return
    load = os.getloadavg()[0]
    cmd = "python bench/pipelines/bench_debug_run.py " + " ".join(sys.argv[1:])
    section = [
        "",
        f"## Pipelines: a debug run end to end ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average {load:.1f}. Command: `{cmd.strip()}`. `dais up --demo` (SQLite, one worker); "
        f"pipeline source -> impute mean -> standard scale -> sink over ten columns of `{DATASET}`, "
        f"debug mode on the first {args.sample} rows; timed from the submit call until the run reads "
        "back finished with every node's sample stored (polling every 20 ms).",
        "",
        *table,
        "",
        "Target: under 2 s.",
    ]
    with (ROOT / "bench" / "RESULTS.md").open("a") as f:
        f.write("\n".join(section) + "\n")


if __name__ == "__main__":
    main()
