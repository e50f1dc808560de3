"""`dais schedules` against a live server: create, list, get, trigger, runs, pause, resume, delete."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Run, as_json
from tests.conftest import Actor, World


@pytest.fixture(autouse=True)
def _wide_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables as wide as a desktop terminal, so no cell the tests look for is wrapped."""
    monkeypatch.setenv("COLUMNS", "200")


@pytest.fixture
def team(world: World, admin: Actor) -> str:
    world.workspace("team", admin)
    return "team"


def test_create_with_cron_and_time_zone_then_get_shows_the_next_five_runs(run: Run, team: str) -> None:
    created = as_json(
        run(
            "schedules",
            "create",
            "-w",
            team,
            "nightly",
            "--cron",
            "0 3 * * *",
            "--timezone",
            "Europe/Paris",
            "--job-kind",
            "sleep",
            "--spec",
            '{"seconds": 0, "output": "${ds-1d|%Y%m%d}"}',
            "--job-name",
            "load ${ds} ${region}",
            "--var",
            "region=eu",
            "--catchup",
            "all",
            "-o",
            "json",
        )
    )
    assert (created["cron"], created["timezone"], created["catchup"]) == ("0 3 * * *", "Europe/Paris", "all")
    assert created["template"]["job"]["name"] == "load ${ds} ${region}"
    assert created["variables"] == {"region": "eu"}
    got = as_json(run("schedules", "get", "-w", team, "nightly", "-o", "json"))
    runs = [datetime.fromisoformat(t) for t in got["next_runs"]]
    assert len(runs) == 5
    assert all(t.astimezone(UTC).hour in (1, 2) for t in runs)  # 03:00 in Paris
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(runs))

    table = run("schedules", "get", "-w", team, "nightly").stdout
    assert "Next runs" in table
    assert "Europe/Paris" in table
    assert table.count(" 03:00:00") == 5  # the local times
    assert "job sleep: load ${ds} ${region}" in table
    yaml_out = run("schedules", "get", "-w", team, "nightly", "-o", "yaml").stdout
    assert "cron: 0 3 * * *" in yaml_out


def test_list_shows_timing_and_the_next_run(run: Run, team: str, tmp_path: Path) -> None:
    dag = tmp_path / "dag.yaml"
    dag.write_text("name: etl\nnodes:\n  - {node: a, kind: noop}\n  - {node: b, kind: noop, after: [a]}\n")
    run("schedules", "create", "-w", team, "etl", "--every", "1h", "--dag-file", str(dag))
    run("schedules", "create", "-w", team, "quiet", "--every", "600", "--job-kind", "noop", "--paused")
    listed = as_json(run("schedules", "list", "-w", team, "-o", "json"))
    assert [(s["name"], s["interval_s"], s["paused"]) for s in listed] == [
        ("etl", 3600, False),
        ("quiet", 600, True),
    ]
    assert listed[0]["template"]["dag"]["name"] == "etl"
    assert len(listed[0]["next_runs"]) == 5
    table = run("schedules", "list", "-w", team).stdout
    assert "NEXT RUN (UTC)" in table
    assert "every 1h" in table
    assert "dag etl (2 jobs)" in table
    assert "every 10m" in table
    assert "paused" in table
    next_run = datetime.fromisoformat(listed[0]["next_runs"][0]).astimezone(UTC)
    assert f"{next_run:%Y-%m-%d %H:%M:%S}" in table


def test_trigger_submits_a_job_and_runs_lists_it(run: Run, team: str) -> None:
    run(
        "schedules",
        "create",
        "-w",
        team,
        "hourly",
        "--cron",
        "0 * * * *",
        "--job-kind",
        "noop",
        "--job-name",
        "n ${ds}",
    )
    fired = as_json(run("schedules", "trigger", "-w", team, "hourly", "-o", "json"))
    assert fired["error"] is None
    job = as_json(run("jobs", "get", "-w", team, fired["job_id"], "-o", "json"))
    assert job["name"] == f"n {datetime.fromisoformat(fired['logical_date']).astimezone(UTC):%Y-%m-%d}"
    said = run("schedules", "trigger", "-w", team, "hourly").stdout
    assert "Fired run" in said
    assert "dais jobs logs -f" in said
    runs = as_json(run("schedules", "runs", "-w", team, "hourly", "-o", "json"))
    assert len(runs) == 2
    assert runs[1]["id"] == fired["id"]  # newest first
    assert runs[0]["job_id"] in said
    assert "LOGICAL DATE (UTC)" in run("schedules", "runs", "-w", team, "hourly").stdout


def test_pause_resume_and_delete(run: Run, team: str) -> None:
    run("schedules", "create", "-w", team, "hourly", "--every", "3600", "--job-kind", "noop")
    paused = as_json(run("schedules", "pause", "-w", team, "hourly", "-o", "json"))
    assert (paused["paused"], paused["next_runs"]) == (True, [])
    assert "Paused" in run("schedules", "get", "-w", team, "hourly").stdout
    assert "Next run:" in run("schedules", "resume", "-w", team, "hourly").stdout
    assert as_json(run("schedules", "get", "-w", team, "hourly", "-o", "json"))["paused"] is False
    refused = run("schedules", "delete", "-w", team, "hourly", input="n\n", ok=False)
    assert refused.exit_code == 1
    assert "Deleted schedule hourly" in run("schedules", "delete", "-w", team, "hourly", "--yes").stdout
    missing = run("schedules", "get", "-w", team, "hourly", ok=False)
    assert missing.exit_code == 1
    assert "not found" in missing.output


def test_bad_input_is_refused_with_the_reason(run: Run, team: str) -> None:
    bad_cron = run(
        "schedules", "create", "-w", team, "x", "--cron", "61 * * * *", "--job-kind", "noop", ok=False
    )
    assert bad_cron.exit_code == 1
    assert "not a valid cron expression" in bad_cron.output
    unknown = run(
        "schedules",
        "create",
        "-w",
        team,
        "x",
        "--every",
        "60",
        "--job-kind",
        "noop",
        "--job-name",
        "${nope}",
        ok=False,
    )
    assert unknown.exit_code == 1
    assert "nope" in unknown.output
    both = run(
        "schedules",
        "create",
        "-w",
        team,
        "x",
        "--cron",
        "0 * * * *",
        "--every",
        "60",
        "--job-kind",
        "noop",
        ok=False,
    )
    assert both.exit_code == 2
    assert "exactly one of --cron and --every" in both.output
    neither = run("schedules", "create", "-w", team, "x", "--every", "60", ok=False)
    assert neither.exit_code == 2
    bad_every = run("schedules", "create", "-w", team, "x", "--every", "soon", "--job-kind", "noop", ok=False)
    assert bad_every.exit_code == 2
    bad_var = run(
        "schedules", "create", "-w", team, "x", "--every", "60", "--job-kind", "noop", "--var", "k", ok=False
    )
    assert bad_var.exit_code == 2
    assert as_json(run("schedules", "list", "-w", team, "-o", "json")) == []
