"""`dais jobs`, `dais workers` and `dais worker` against a live server."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.worker import JobWorker
from dais.storage import open_store
from tests.cli.conftest import Run, as_json
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker


@pytest.fixture
def team(world: World, admin: Actor) -> str:
    world.workspace("team", admin)
    return "team"


@pytest.fixture
def worker(server_url: str, settings: Settings, db: Database) -> Iterator[JobWorker]:
    api = settings.api.model_copy(update={"public_url": server_url})
    with running_worker(dataclasses.replace(settings, api=api), db, open_store(settings)) as w:
        yield w


def test_submit_wait_exits_0_on_success_and_1_on_failure(run: Run, team: str, worker: JobWorker) -> None:
    ok = run("jobs", "submit", "sleep", "-w", team, "--spec", '{"seconds": 0.4, "steps": 4}', "--wait")
    assert "succeeded" in ok.stdout
    assert '"slept": 0.4' in ok.stdout
    failed = run(
        "jobs",
        "submit",
        "fail",
        "-w",
        team,
        "--spec",
        '{"message": "boom"}',
        "--name",
        "doomed",
        "--wait",
        ok=False,
    )
    assert failed.exit_code == 1
    assert "failed" in failed.stdout
    assert "RuntimeError: boom" in failed.stdout
    as_yaml = run("jobs", "submit", "noop", "-w", team, "--wait", "-o", "yaml")
    assert "state: succeeded" in as_yaml.stdout


def test_submit_options_become_the_job_request(run: Run, team: str, tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("seconds: 1\nsteps: 2\n")
    first = as_json(run("jobs", "submit", "noop", "-w", team, "-o", "json"))
    job = as_json(
        run(
            "jobs",
            "submit",
            "sleep",
            "-w",
            team,
            "--spec-file",
            str(spec),
            "--name",
            "nap",
            "--cpus",
            "0.5",
            "--memory-mb",
            "64",
            "--label",
            "zone=a",
            "--max-attempts",
            "3",
            "--timeout",
            "30",
            "--after",
            first["id"],
            "--priority",
            "5",
            "-o",
            "json",
        )
    )
    assert (job["name"], job["kind"], job["spec"]["seconds"], job["spec"]["steps"]) == ("nap", "sleep", 1, 2)
    assert (job["cpus"], job["memory_mb"], job["labels"], job["priority"]) == (0.5, 64, {"zone": "a"}, 5)
    assert (job["max_attempts"], job["timeout_s"], job["depends_on"]) == (3, 30, [first["id"]])
    assert job["state"] == "pending"

    bad_json = run("jobs", "submit", "sleep", "-w", team, "--spec", "{oops", ok=False)
    assert bad_json.exit_code == 2
    assert "not valid JSON" in bad_json.output
    bad_label = run("jobs", "submit", "noop", "-w", team, "--label", "zone", ok=False)
    assert bad_label.exit_code == 2
    unknown = run("jobs", "submit", "no-such-kind", "-w", team, ok=False)
    assert unknown.exit_code == 1
    assert "Unknown job kind" in unknown.output


def test_run_script_uploads_the_file_and_follows_its_output(
    run: Run, team: str, worker: JobWorker, tmp_path: Path
) -> None:
    script = tmp_path / "hello.py"
    script.write_text("import os, sys\nprint('args', sys.argv[1:], os.environ['GREETING'])\n")
    result = run("jobs", "run-script", "-w", team, str(script), "one", "--two", "--env", "GREETING=hi", "-f")
    assert "args ['one', '--two'] hi" in result.stdout
    assert "succeeded" in result.stdout
    uploaded = as_json(run("artifacts", "ls", "-w", team, "jobs-src/", "-o", "json"))
    assert [a["key"].rsplit("/", 1)[-1] for a in uploaded] == ["hello.py"]

    failing = tmp_path / "crash.py"
    failing.write_text("raise SystemExit(3)\n")
    crashed = run("jobs", "run-script", "-w", team, str(failing), "--wait", ok=False)
    assert crashed.exit_code == 1
    assert "exited with code 3" in crashed.stdout


def test_list_get_logs_cancel_retry_kinds_and_workers(
    run: Run, team: str, worker: JobWorker, tmp_path: Path
) -> None:
    done = as_json(
        run(
            "jobs",
            "submit",
            "sleep",
            "-w",
            team,
            "--spec",
            '{"seconds": 0.2, "steps": 2, "output": "hi"}',
            "--wait",
            "-o",
            "json",
        )
    )
    slow = as_json(run("jobs", "submit", "sleep", "-w", team, "--spec", '{"seconds": 60}', "-o", "json"))
    listed = as_json(run("jobs", "list", "-w", team, "-o", "json"))
    assert [j["id"] for j in listed] == [slow["id"], done["id"]]
    only_done = as_json(run("jobs", "list", "-w", team, "--state", "succeeded", "-o", "json"))
    assert [j["id"] for j in only_done] == [done["id"]]
    table = run("jobs", "list", "-w", team).stdout
    assert "100%" in table

    shown = run("jobs", "get", done["id"], "-w", team).stdout
    assert "succeeded" in shown
    assert "Attempts" in shown
    assert run("jobs", "logs", done["id"], "-w", team).stdout == "hi\nhi\n"
    assert run("jobs", "logs", done["id"], "-w", team, "--tail", "1").stdout == "hi\n"

    assert "Cancel" in run("jobs", "cancel", slow["id"], "-w", team).stdout
    deadline = time.monotonic() + 20
    while as_json(run("jobs", "get", slow["id"], "-w", team, "-o", "json"))["state"] != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    again = as_json(run("jobs", "retry", slow["id"], "-w", team, "-o", "json"))
    assert again["state"] == "queued"
    run("jobs", "cancel", slow["id"], "-w", team)
    # The retried job may already have started: its cancel ends once the worker has stopped it.
    deadline = time.monotonic() + 20
    while as_json(run("jobs", "get", slow["id"], "-w", team, "-o", "json"))["state"] != "cancelled":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    finished = run("jobs", "cancel", done["id"], "-w", team, ok=False)
    assert finished.exit_code == 1
    assert "already finished" in finished.output

    kinds = as_json(run("jobs", "kinds", "-o", "json"))
    assert {"noop", "sleep", "fail", "script"} <= {k["name"] for k in kinds}
    workers = as_json(run("workers", "list", "-o", "json"))
    assert [w["name"] for w in workers] == [worker.config.name]
    assert "0/4" in run("workers", "list").stdout  # no job running of its 4 slots


def test_dag_submit_from_yaml_and_get(run: Run, team: str, worker: JobWorker, tmp_path: Path) -> None:
    dag_file = tmp_path / "dag.yaml"
    dag_file.write_text(
        "name: nightly\n"
        "nodes:\n"
        "  - {node: extract, kind: noop}\n"
        "  - {node: train, kind: sleep, spec: {seconds: 0.1, steps: 1}, after: [extract]}\n"
    )
    dag = as_json(run("jobs", "dag", "submit", "-w", team, "-f", str(dag_file), "-o", "json"))
    assert dag["name"] == "nightly"
    assert [j["dag_node"] for j in dag["jobs"]] == ["extract", "train"]
    deadline = time.monotonic() + 30
    while True:
        shown = as_json(run("jobs", "dag", "get", dag["dag_id"], "-w", team, "-o", "json"))
        if all(j["state"] == "succeeded" for j in shown["jobs"]):
            break
        assert time.monotonic() < deadline, shown
        time.sleep(0.2)
    table = run("jobs", "dag", "get", dag["dag_id"], "-w", team).stdout
    assert dag["dag_id"] in table
    assert "extract" in table
    cyclic = tmp_path / "cyclic.yaml"
    cyclic.write_text(
        "nodes:\n  - {node: a, kind: noop, after: [b]}\n  - {node: b, kind: noop, after: [a]}\n"
    )
    refused = run("jobs", "dag", "submit", "-w", team, "-f", str(cyclic), ok=False)
    assert refused.exit_code == 1
    assert "cycle" in refused.output


@pytest.mark.slow
def test_dais_worker_runs_jobs_and_drains_on_sigterm(
    server_url: str, settings: Settings, admin: Actor, team: str, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIS_")}
    env.update(
        DAIS_HOME=str(settings.home),
        DAIS_DATABASE_URL=settings.database_url,
        DAIS_ARTIFACTS_URL=settings.artifacts_url,
        DAIS_API_PUBLIC_URL=server_url,
        DAIS_LOG_FORMAT="text",
        DAIS_LOG_TO_FILE="false",
    )
    out_path = tmp_path / "worker.out"
    with out_path.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dais.cli.main",
                "worker",
                "--name",
                "cli-worker",
                "--slots",
                "2",
                "--label",
                "zone=a",
                "--cpus",
                "2",
                "--memory-mb",
                "2048",
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
    api = httpx.Client(base_url=server_url, headers=admin.headers)
    try:
        deadline = time.monotonic() + 30
        while not api.get("/api/v1/workers").json():
            assert proc.poll() is None, out_path.read_text()
            assert time.monotonic() < deadline, out_path.read_text()
            time.sleep(0.1)
        [w] = api.get("/api/v1/workers").json()
        assert (w["name"], w["slots"], w["labels"], w["cpus"]) == ("cli-worker", 2, {"zone": "a"}, 2)
        spec = {"seconds": 1.5, "steps": 3, "output": "working"}
        body = {"kind": "sleep", "spec": spec, "resources": {"labels": {"zone": "a"}}}
        job = api.post(f"/api/v1/workspaces/{team}/jobs", json=body).json()
        while api.get(f"/api/v1/workspaces/{team}/jobs/{job['id']}").json()["state"] != "running":
            assert time.monotonic() < deadline, out_path.read_text()
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)  # mid-job: the worker lets it finish, then exits 0
        assert proc.wait(timeout=30) == 0, out_path.read_text()
        final = api.get(f"/api/v1/workspaces/{team}/jobs/{job['id']}").json()
        assert final["state"] == "succeeded", final
        logs = api.get(f"/api/v1/workspaces/{team}/jobs/{job['id']}/logs").text
        assert logs.count("working") == 3
        assert "Worker stopped." in out_path.read_text()
        assert api.get("/api/v1/workers").json()[0]["state"] == "gone"
    finally:
        api.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
