"""Training overhead: a LightGBM preset through Dais (`train.run`) vs the same lightgbm call in a plain
script, on the same rows (default 1,000,000 rows x 20 numeric features, a binary target).

The plain script (its own process) reads the parquet file with pyarrow, holds out 20 % of the rows,
fits `lightgbm.LGBMClassifier` with the same params, threads and eval sets as the preset (the loss
on the training and the held-out rows every round), scores the held-out rows (accuracy, ROC-AUC)
and pickles the model. Its time is taken two ways: the whole process, and from reading the data to
the saved model (without the interpreter's start and imports).

The Dais path is what `POST /training/runs` starts, timed from the request to the job's end on a
warm worker (a long-lived worker keeps its training launcher warm; one small run warms it first):
the request's checks, the tracking run, the queue, forking the job, reading the dataset version
through the data domain, the fit with per-round metrics logged to the run in batches, final
metrics, `evaluation.json`, the model package and its upload, the logged model, the run finished.
The metadata database is SQLite in a temporary `DAIS_HOME` (or `--database-url`).

Prints the table; target (issue 6): under 10 % extra wall time. `--record` appends it to
bench/RESULTS.md.

    .venv/bin/python bench/training_overhead.py [--rows 1000000] [--features 20] [--rounds 200]
        [--threads N] [--repeat 3] [--database-url URL] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

PLAIN = r"""
import json, pickle, sys, time
t0 = time.perf_counter()
import numpy as np
import pyarrow.parquet as pq
import lightgbm as lgb
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedShuffleSplit
t_imports = time.perf_counter()
path, rounds, threads, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
table = pq.read_table(path)
features = [c for c in table.column_names if c != "label"]
X = np.empty((table.num_rows, len(features)))
for j, name in enumerate(features):
    X[:, j] = table.column(name).to_numpy()
y = table.column("label").to_numpy()
n_valid = int(np.ceil(len(y) * 0.2))  # the preset's default holdout: 20 %, stratified, seed 42
train, valid = next(StratifiedShuffleSplit(1, test_size=n_valid, random_state=42).split(X, y))
train, valid = np.sort(train), np.sort(valid)
X_train, y_train, X_valid, y_valid = X[train], y[train], X[valid], y[valid]
model = lgb.LGBMClassifier(n_estimators=rounds, learning_rate=0.1, num_leaves=31, min_child_samples=20,
                           n_jobs=threads, random_state=42, verbose=-1)
t_fit = time.perf_counter()
model.fit(X_train, y_train, eval_set=[(X_train, y_train), (X_valid, y_valid)])
fit_s = time.perf_counter() - t_fit
proba = model.predict_proba(X_valid)
metrics = {"accuracy": accuracy_score(y_valid, proba.argmax(1)),
           "roc_auc": roc_auc_score(y_valid, proba[:, 1])}
with open(out, "wb") as f:
    pickle.dump(model, f)
print(json.dumps({"work_s": time.perf_counter() - t_imports, "imports_s": t_imports - t0, "fit_s": fit_s,
                  "metrics": metrics}))
"""


def make_data(path: Path, rows: int, features: int) -> None:
    """Numeric features and a binary label that depends on some of them (plus noise)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features))
    weights = rng.normal(size=features) * (rng.uniform(size=features) < 0.5)
    logit = x @ weights + 0.5 * np.sin(3 * x[:, 0]) + rng.normal(scale=1.0, size=rows)
    columns = {f"f{j}": x[:, j] for j in range(features)}
    columns["label"] = (logit > 0).astype(np.int64)
    pq.write_table(pa.table(columns), path, row_group_size=1_000_000)


def run_plain(path: Path, rounds: int, threads: int, workdir: Path) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PLAIN, str(path), str(rounds), str(threads), str(workdir / "plain.pkl")],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result


class DaisSetup:
    """A Dais on a temporary home: a user and workspace, the dataset registered, a warm worker, the API."""

    def __init__(self, home: Path, database_url: str | None, threads: int) -> None:
        from fastapi.testclient import TestClient

        from dais.app import create_app
        from dais.core.settings import (
            AdminSettings,
            ApiSettings,
            ArtifactSettings,
            DatabaseSettings,
            LogSettings,
            SecuritySettings,
            Settings,
        )
        from dais.db import create_database, upgrade
        from dais.jobs.worker import JobWorker, WorkerConfig
        from dais.storage import open_store
        from dais.tenancy.access import AuditContext, Principal
        from dais.tenancy.auth import create_token
        from dais.tenancy.schemas import TokenCreate, UserCreate, WorkspaceCreate
        from dais.tenancy.service import create_user, create_workspace

        home.mkdir(parents=True, exist_ok=True)
        url = database_url or f"sqlite:///{home / 'dais.db'}"
        upgrade(url)
        self.settings = Settings(
            home=home,
            database=DatabaseSettings(url=url),
            artifacts=ArtifactSettings(url=None),
            api=ApiSettings(cookie_secure=False),
            admin=AdminSettings(),
            security=SecuritySettings(),
            log=LogSettings(to_file=False),
        )
        self.db = create_database(self.settings.database_url)
        self.store = open_store(self.settings)
        with self.db.session() as s:
            ctx = AuditContext.system()
            user = create_user(
                s, ctx, UserCreate.model_validate({"username": "bench", "password": "bench-password"})
            )
            ws = create_workspace(s, ctx, WorkspaceCreate(slug="bench"), owner=user)
            _, self.token = create_token(s, ctx, Principal(user, "password"), TokenCreate(name="bench"))
            self.workspace_id = ws.id
        config = WorkerConfig(cpus=float(threads), slots=1, prewarm=True, heartbeat_s=2.0)
        self.worker = JobWorker(self.settings, self.db, self.store, config)
        self.worker.register()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.worker.run, args=(self.stop,), daemon=True)
        self.thread.start()
        self.api = TestClient(create_app(self.settings, db=self.db))
        self.headers = {"Authorization": f"Bearer {self.token}"}

    def register(self, name: str, path: Path) -> None:
        """The parquet file in the workspace's artifacts, registered as dataset ``name``."""
        from dais.data import DataFormat, SourceSpec, artifacts_connector, inspect_source, record_registration
        from dais.storage import WorkspaceArtifacts

        arts = WorkspaceArtifacts(self.store, self.workspace_id)
        key = f"uploads/{name}/data.parquet"
        writer = arts.open_writer(key)
        with path.open("rb") as f:
            while chunk := f.read(8 << 20):
                writer.write(chunk)
        writer.commit()
        source = SourceSpec(path=key, format=DataFormat.parquet)
        connector = artifacts_connector(self.settings, self.workspace_id)
        try:
            inspection = inspect_source(
                connector, source, sample_rows=100, sample_max_bytes=1 << 20, timeout_s=60
            )
        finally:
            connector.close()
        with self.db.session() as s:
            record_registration(
                s,
                workspace_id=self.workspace_id,
                job_id=None,  # type: ignore[arg-type]
                owner_id=None,
                name=name,
                description="",
                tags=[],
                connection_id=None,
                source=source,
                inspection=inspection,
            )

    def train(self, dataset: str, rounds: int, threads: int) -> dict[str, Any]:
        """One training run, timed from the request to the job's end; the job and the run's fit time."""
        from sqlalchemy import select

        from dais.tracking.models import RunLatestMetric

        body = {
            "dataset": dataset,
            "target": "label",
            "algorithm": "lightgbm_classifier",
            "params": {
                "n_estimators": rounds,
                "learning_rate": 0.1,
                "num_leaves": 31,
                "min_child_samples": 20,
            },
            "resources": {"cpus": threads, "memory_mb": 1024},
        }
        started = time.perf_counter()
        r = self.api.post("/api/v1/workspaces/bench/training/runs", headers=self.headers, json=body)
        if r.status_code != 202:
            raise RuntimeError(r.text)
        launched = r.json()
        while True:
            job = self.api.get(
                f"/api/v1/workspaces/bench/jobs/{launched['job_id']}", headers=self.headers
            ).json()
            if job["state"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        if job["state"] != "succeeded":
            raise RuntimeError(f"the training job {job['state']}: {job['error']}")
        with self.db.session(write=False) as s:
            fit = s.scalar(
                select(RunLatestMetric.value).where(
                    RunLatestMetric.run_id == launched["run_id"], RunLatestMetric.key == "fit_seconds"
                )
            )
        return {"wall_s": wall, "fit_s": float(fit or 0), "metrics": job["result"]["metrics"]}

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        self.api.close()
        self.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=200, help="Boosting rounds.")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each path (medians are shown).")
    parser.add_argument("--database-url", default=None, help="Default: SQLite in the temporary home.")
    parser.add_argument("--record", action="store_true", help="Append the table to bench/RESULTS.md.")
    args = parser.parse_args()
    os.environ.setdefault("DAIS_JOBS_PREWARM", "true")
    load_before = os.getloadavg()[0]
    began = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="dais-bench-train-") as tmp:
        work = Path(tmp)
        data = work / "data.parquet"
        print(f"writing {args.rows:,} rows x {args.features} features", flush=True)
        make_data(data, args.rows, args.features)
        dais = DaisSetup(work / "home", args.database_url, args.threads)
        try:
            dais.register("bench", data)
            small = work / "small.parquet"
            make_data(small, 2_000, args.features)
            dais.register("warmup", small)
            print("warming the worker's training launcher", flush=True)
            dais.train("warmup", 5, args.threads)
            plain: list[dict[str, Any]] = []
            ours: list[dict[str, Any]] = []
            for i in range(args.repeat):  # alternate, so drift in the machine's load hits both
                print(f"round {i + 1} of {args.repeat}: plain script", flush=True)
                plain.append(run_plain(data, args.rounds, args.threads, work))
                print(f"round {i + 1} of {args.repeat}: Dais train.run", flush=True)
                ours.append(dais.train("bench", args.rounds, args.threads))
        finally:
            dais.close()

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    plain_work, plain_proc, dais_wall = med(plain, "work_s"), med(plain, "process_s"), med(ours, "wall_s")
    lines = [
        "| path | wall s (median) | fit s (median) | extra vs plain (read to saved model) | accuracy "
        "| ROC-AUC |",
        "|---|---|---|---|---|---|",
        f"| plain script, read to saved model | {plain_work:.2f} | {med(plain, 'fit_s'):.2f} | - | "
        f"{plain[-1]['metrics']['accuracy']:.4f} | {plain[-1]['metrics']['roc_auc']:.4f} |",
        f"| plain script, whole process (with imports) | {plain_proc:.2f} | {med(plain, 'fit_s'):.2f} "
        "| - | | |",
        f"| Dais train.run, request to job end | {dais_wall:.2f} | {med(ours, 'fit_s'):.2f} | "
        f"{(dais_wall / plain_work - 1) * 100:+.1f} % | {ours[-1]['metrics']['accuracy']:.4f} | "
        f"{ours[-1]['metrics']['roc_auc']:.4f} |",
    ]
    table = "\n".join(lines)
    note = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load "
        f"average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after; "
        f"{time.perf_counter() - began:.0f} s in all. Command: "
        f"`python bench/training_overhead.py {' '.join(sys.argv[1:])}`. {args.rows:,} rows x "
        f"{args.features} features, {args.rounds} rounds, {args.threads} threads, median of {args.repeat}; "
        f"database {'SQLite' if not args.database_url else args.database_url.split(':')[0]}."
    )
    print()
    print(note)
    print()
    print(table)
    print("\nTarget: under 10 % extra wall time (Dais request to end vs the plain script, read to model).")
    if args.record:
        section = [
            "",
            f"## Training overhead: LightGBM via train.run vs a plain script ({datetime.now(UTC):%Y-%m-%d})",
            "",
            note,
            "",
            table,
            "",
            "Target: under 10 % extra wall time.",
        ]
        with (ROOT / "bench" / "RESULTS.md").open("a") as f:
            f.write("\n".join(section) + "\n")


if __name__ == "__main__":
    main()
