"""The client side of ``bench/tracking.py``: the tracking workloads, through the stock ``mlflow`` client.

It runs under the bench-only venv's Python (full ``mlflow``), never the project's, so every server is
driven by the same client code. ``MLFLOW_TRACKING_URI`` (and ``MLFLOW_TRACKING_TOKEN`` for Dais) name
the server. The sizes come as one JSON argument; the figures go to stdout as one JSON line, progress
to stderr.

    bench/.venv-mlflow/bin/python bench/tracking_client.py '{"single": 2000, "points": 100000, ...}'
"""

from __future__ import annotations

import json
import math
import os
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

BATCH = 1000  # MLflow's limit of metrics per log_batch request
RUN_METRICS = 10
RUN_PARAMS = 10
FILTER = "metrics.m0 > 0.5"


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def now_ms() -> int:
    return int(time.time() * 1000)


class Timer:
    """Wall time per call kind, for the per-call table (median, p99)."""

    def __init__(self) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)

    def __call__(self, kind: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        self.calls[kind].append(time.perf_counter() - t0)
        return out

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for kind, times in self.calls.items():
            ordered = sorted(times)
            out[kind] = {
                "count": len(ordered),
                "p50_ms": statistics.median(ordered) * 1000,
                "p99_ms": ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000,
                "max_ms": ordered[-1] * 1000,
            }
        return out


class Raw:
    """The same requests without the client's parsing: what the server and the wire take."""

    def __init__(self) -> None:
        self.base = os.environ["MLFLOW_TRACKING_URI"].rstrip("/") + "/api/2.0/mlflow"
        self.http = requests.Session()
        token = os.environ.get("MLFLOW_TRACKING_TOKEN")
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def history(self, run_id: str, key: str) -> int:
        points, token = 0, None
        while True:
            params: dict[str, str | int] = {"run_id": run_id, "metric_key": key, "max_results": 25000}
            if token:
                params["page_token"] = token
            reply = self.http.get(f"{self.base}/metrics/get-history", params=params)
            reply.raise_for_status()
            body = reply.json()
            points += len(body.get("metrics", []))
            token = body.get("next_page_token")
            if not token:
                return points

    def search(self, experiment_id: str) -> int:
        body: dict[str, Any] = {"experiment_ids": [experiment_id], "filter": FILTER, "max_results": 1000}
        reply = self.http.post(f"{self.base}/runs/search", json=body)
        reply.raise_for_status()
        return len(reply.json().get("runs", []))


def run_values(index: int) -> tuple[list[float], list[str]]:
    """The 10 metric values and 10 param values of run number ``index`` (deterministic)."""
    rng = random.Random(index)
    metrics = [rng.random() for _ in range(RUN_METRICS)]
    params = [f"{rng.choice(['adam', 'sgd', 'lbfgs'])}-{rng.randint(1, 1000)}" for _ in range(RUN_PARAMS)]
    return metrics, params


def create_run(
    client: MlflowClient, experiment_id: str, index: int, timer: Timer, *, end: bool = True
) -> None:
    """One run as a training script makes it: start it, log 10 params and 10 metrics, end it."""
    values, params = run_values(index)
    run = timer("create_run", client.create_run, experiment_id, run_name=f"run-{index:05d}")
    ts = now_ms()
    timer(
        "log_batch (10 params + 10 metrics)",
        client.log_batch,
        run.info.run_id,
        metrics=[Metric(f"m{j}", v, ts, 0) for j, v in enumerate(values)],
        params=[Param(f"p{j}", v) for j, v in enumerate(params)],
    )
    if end:
        # The stock client reads the run back (get_run, to print its URL) before update_run.
        timer("set_terminated (get_run + update_run)", client.set_terminated, run.info.run_id, "FINISHED")


def main() -> None:
    cfg = json.loads(sys.argv[1])
    client = MlflowClient()
    timer = Timer()
    out: dict[str, Any] = {}
    tag = uuid.uuid4().hex[:8]

    # Warm-up: the first calls pay for connections and, on Dais, the first credential check.
    exp = client.create_experiment(f"bench-logging-{tag}")
    run_id = client.create_run(exp, run_name="logging").info.run_id
    for i in range(20):
        client.log_metric(run_id, "warmup", float(i), step=i)

    # 1. Single log_metric calls.
    n = cfg["single"]
    say(f"  {n} single log_metric calls")
    t0 = time.perf_counter()
    for i in range(n):
        timer("log_metric", client.log_metric, run_id, "single", i * 0.001, timestamp=now_ms(), step=i)
    out["single_s"] = time.perf_counter() - t0

    # 2. Points through log_batch, 1000 per request.
    n = cfg["points"]
    say(f"  {n} points through log_batch")
    ts = now_ms()
    t0 = time.perf_counter()
    for start in range(0, n, BATCH):
        batch = [Metric("curve", math.sin(i / 500.0), ts + i, i) for i in range(start, min(n, start + BATCH))]
        timer("log_batch (1000 metrics)", client.log_batch, run_id, metrics=batch)
    out["points_s"] = time.perf_counter() - t0

    # 3. The whole history of that metric.
    say(f"  get_metric_history of {n} points x {cfg['repeat']}")
    times = []
    for _ in range(cfg["repeat"]):
        t0 = time.perf_counter()
        history = client.get_metric_history(run_id, "curve")
        times.append(time.perf_counter() - t0)
        if len(history) != n:
            raise SystemExit(f"get_metric_history returned {len(history)} points, expected {n}")
        steps = sorted(m.step for m in history)
        if steps[0] != 0 or steps[-1] != n - 1:
            raise SystemExit("get_metric_history returned the wrong steps")
    out["history_s"] = statistics.median(times)
    out["history_all_s"] = times
    raw = Raw()
    for _ in range(cfg["repeat"]):
        if timer("HTTP only: get-history, all pages", raw.history, run_id, "curve") != n:
            raise SystemExit("get-history over plain HTTP returned the wrong number of points")

    # 4. Runs with 10 params and 10 metrics each, one after another.
    runs, total = cfg["runs"], cfg["search_runs"]
    search_exp = client.create_experiment(f"bench-search-{tag}")
    say(f"  {runs} runs with {RUN_PARAMS} params and {RUN_METRICS} metrics")
    t0 = time.perf_counter()
    for i in range(runs):
        create_run(client, search_exp, i, timer)
    out["runs_s"] = time.perf_counter() - t0

    # 5. More of the same runs, up to the search size (not a target; several clients at once; left
    #    RUNNING to save a call each: the search filters on a metric only).
    rest = range(runs, total)
    threads = cfg["seed_threads"]
    say(f"  {len(rest)} more runs from {threads} threads (seeding the search)")
    seed_timer = Timer()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for done in pool.map(lambda i: create_run(client, search_exp, i, seed_timer, end=False), rest):
            del done
    out["seed_runs"] = len(rest)
    out["seed_s"] = time.perf_counter() - t0

    # 6. search_runs with a metric filter over all of them.
    expected = sum(1 for i in range(total) if run_values(i)[0][0] > 0.5)
    page = min(expected, 1000)
    say(f"  search_runs '{FILTER}' over {total} runs x {cfg['repeat']} ({expected} match)")
    times = []
    for _ in range(cfg["repeat"]):
        t0 = time.perf_counter()
        found = client.search_runs([search_exp], FILTER, max_results=1000)
        times.append(time.perf_counter() - t0)
        if len(found) != page:
            raise SystemExit(f"search_runs returned {len(found)} runs, expected {page}")
        if any(r.data.metrics["m0"] <= 0.5 or len(r.data.params) != RUN_PARAMS for r in found):
            raise SystemExit("search_runs returned a run that does not match the filter")
    out["search_s"] = statistics.median(times)
    out["search_all_s"] = times
    for _ in range(cfg["repeat"]):
        if timer("HTTP only: runs/search, one page", raw.search, search_exp) != page:
            raise SystemExit("runs/search over plain HTTP returned the wrong number of runs")
    # Every match, page after page (1000 a page): a check that paging is right, timed for the record.
    t0 = time.perf_counter()
    seen, token = 0, None
    while True:
        found = client.search_runs([search_exp], FILTER, max_results=1000, page_token=token)
        seen += len(found)
        token = found.token
        if not token:
            break
    out["search_pages_s"] = time.perf_counter() - t0
    if seen != expected:
        raise SystemExit(f"search_runs paged through {seen} runs, expected {expected}")
    out["search_matches"] = expected
    out["calls"] = timer.summary()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
