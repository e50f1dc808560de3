"""`dais connections` and `dais datasets` against a live server with a worker, and `Connection` and
`Dataset` documents in `dais export` / `dais apply`."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from fastapi import FastAPI

from dais.app import create_app
from dais.cli.demo_data import DEMO_DAYS, write_breast_cancer_parquet
from dais.core.settings import DataSettings, Settings
from dais.db import Database
from dais.storage import open_store
from tests.cli.conftest import Run, as_json
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """The folder `file` connections may read (the administrator's allow-list)."""
    root = tmp_path / "data"
    root.mkdir()
    return root


@pytest.fixture
def data_settings(settings: Settings, data_root: Path) -> Settings:
    return dataclasses.replace(
        settings, data=DataSettings(allowed_roots=[data_root], source_timeout_s=10, preview_timeout_s=10)
    )


@pytest.fixture
def app(data_settings: Settings, db: Database) -> FastAPI:
    return create_app(data_settings, db=db)


@dataclass
class Team:
    """alice owns `team`; eve owns `other`."""

    alice: Actor
    eve: Actor


@pytest.fixture
def team(world: World) -> Team:
    alice, eve = world.user("alice"), world.user("eve")
    world.workspace("team", alice)
    world.workspace("other", eve)
    return Team(alice, eve)


@pytest.fixture
def data_worker(data_settings: Settings, db: Database) -> Iterator[None]:
    """A worker (in a thread) running data jobs with the platform's settings."""
    with running_worker(data_settings, db, open_store(data_settings)):
        yield


@pytest.fixture
def lake(run: Run, team: Team, data_root: Path) -> Path:
    write_breast_cancer_parquet(data_root / "cancer")
    run(
        "connections", "create", "lake", "-w", "team", "-k", "file", "-c", f"root={data_root}", as_=team.alice
    )
    return data_root


@pytest.mark.slow
def test_connections_commands_create_show_test_browse_and_delete(
    run: Run, team: Team, data_root: Path
) -> None:
    (data_root / "sales").mkdir()
    made = run(
        "connections",
        "create",
        "lake",
        "-w",
        "team",
        "-k",
        "file",
        "-c",
        f"root={data_root}",
        "-d",
        "files",
        as_=team.alice,
    )
    assert "Created connection lake (file) in team." in made.stdout
    assert "ok lake" in made.stdout
    listed = as_json(run("connections", "list", "-w", "team", "-o", "json", as_=team.alice))
    assert [(c["name"], c["kind"], c["health"]) for c in listed] == [("lake", "file", "ok")]
    shown = yaml.safe_load(
        run("connections", "show", "lake", "-w", "team", "-o", "yaml", as_=team.alice).stdout
    )
    assert shown["config"] == {"root": str(data_root)}
    assert shown["secrets_set"] == []
    browsed = run("connections", "browse", "lake", "-w", "team", as_=team.alice).stdout
    assert "sales/" in browsed
    assert "ok lake" in run("connections", "test", "lake", "-w", "team", as_=team.alice).stdout
    refused = run(
        "connections",
        "create",
        "etc",
        "-w",
        "team",
        "-k",
        "file",
        "-c",
        "root=/etc",
        as_=team.alice,
        ok=False,
    )
    assert refused.exit_code == 1
    assert "root" in refused.output
    run("connections", "delete", "lake", "-w", "team", "--yes", as_=team.alice)
    assert as_json(run("connections", "list", "-w", "team", "-o", "json", as_=team.alice)) == []


def test_connection_secrets_are_prompted_and_never_shown(run: Run, team: Team) -> None:
    run(
        "connections", "create", "raw", "-w", "team", "-k", "s3", "-c", "bucket=raw",
        "-c", "endpoint_url=http://127.0.0.1:9", "-s", "access_key_id=AKIAEXAMPLE", "-s", "secret_access_key",
        "--no-test", input="very-secret\n", as_=team.alice,
    )  # fmt: skip
    shown = run("connections", "show", "raw", "-w", "team", "-o", "json", as_=team.alice).stdout
    assert yaml.safe_load(shown)["secrets_set"] == ["access_key_id", "secret_access_key"]
    assert "very-secret" not in shown
    assert "AKIAEXAMPLE" not in shown


@pytest.mark.slow
def test_datasets_register_show_and_read(
    run: Run, team: Team, lake: Path, data_worker: None, tmp_path: Path
) -> None:
    made = run("datasets", "register", "cancer", "-w", "team", "-c", "lake", "-p", "cancer", as_=team.alice)
    assert "Registered cancer (parquet, 569 rows" in made.stdout
    listed = as_json(run("datasets", "list", "-w", "team", "-o", "json", as_=team.alice))
    assert [(d["name"], d["row_count"], d["connection"]) for d in listed] == [("cancer", 569, "lake")]
    shown = yaml.safe_load(
        run("datasets", "show", "cancer", "-w", "team", "-o", "yaml", as_=team.alice).stdout
    )
    assert shown["format"] == "parquet"
    assert shown["partition_keys"] == ["dt"]
    table = run("datasets", "show", "cancer", "-w", "team", as_=team.alice).stdout
    assert "diagnosis" in table
    assert "Schema" in table
    columns = as_json(run("datasets", "schema", "cancer", "-w", "team", "-o", "json", as_=team.alice))
    assert any(c["name"] == "dt" and c["partition"] for c in columns)
    stats = run("datasets", "schema", "cancer", "-w", "team", "--stats", as_=team.alice).stdout
    assert "Statistics over the sample" in stats
    parts = as_json(run("datasets", "partitions", "cancer", "-w", "team", "-o", "json", as_=team.alice))
    assert [p["path"] for p in parts["partitions"]] == [f"dt={d}" for d in DEMO_DAYS]
    sample = as_json(run("datasets", "preview", "cancer", "-w", "team", "-o", "json", as_=team.alice))
    assert 0 < len(sample) <= 100
    assert "diagnosis" in sample[0]
    unsaved = run(
        "datasets", "preview", "-w", "team", "-c", "lake", "-p", f"cancer/dt={DEMO_DAYS[0]}", as_=team.alice
    )
    assert "Sample" in unsaved.stdout
    assert "mean_radius" in unsaved.stdout
    snap = run(
        "datasets",
        "snapshot",
        "cancer",
        "-w",
        "team",
        "--partition",
        f"dt={DEMO_DAYS[2]}",
        "--note",
        "day 3",
        as_=team.alice,
    )
    assert "Created version 2 (pointer) of cancer." in snap.stdout
    versions = as_json(run("datasets", "versions", "cancer", "-w", "team", "-o", "json", as_=team.alice))
    assert [v["number"] for v in versions] == [2, 1]
    out = tmp_path / "day3.parquet"
    run("datasets", "download", "cancer", "-w", "team", str(out), "--version", "2", "-q", as_=team.alice)
    assert pq.read_table(out).num_rows == len(range(2, 569, len(DEMO_DAYS)))
    csv = tmp_path / "few.csv"
    run("datasets", "download", "cancer", "-w", "team", str(csv), "-f", "csv", "--limit", "3", as_=team.alice)
    assert len(csv.read_text().splitlines()) == 4


@pytest.mark.slow
def test_a_failed_registration_exits_1_with_the_source_message(
    run: Run, team: Team, lake: Path, data_worker: None
) -> None:
    failed = run(
        "datasets", "register", "ghost", "-w", "team", "-c", "lake", "-p", "nope", as_=team.alice, ok=False
    )
    assert failed.exit_code == 1
    assert "Error:" in failed.output
    assert "nope" in failed.output
    assert as_json(run("datasets", "list", "-w", "team", "-o", "json", as_=team.alice)) == []


@pytest.mark.slow
def test_upload_sends_a_file_and_registers_it(
    run: Run, team: Team, data_worker: None, tmp_path: Path
) -> None:
    file = tmp_path / "scores.csv"
    file.write_text("id,score\n" + "".join(f"{i},{i / 2}\n" for i in range(50)))
    done = run("datasets", "upload", str(file), "-w", "team", "--name", "scores", as_=team.alice)
    assert "Registered scores (csv, 1 files, 2 columns)." in done.stdout
    assert (
        len(as_json(run("datasets", "preview", "scores", "-w", "team", "-o", "json", as_=team.alice))) == 50
    )
    only = run("datasets", "upload", str(file), "-w", "team", "-o", "json", as_=team.alice)
    assert as_json(only)["state"] == "complete"


@pytest.mark.slow
def test_export_and_apply_carry_connections_and_datasets_without_secrets(
    run: Run,
    team: Team,
    lake: Path,
    data_worker: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run("connections", "create", "raw", "-w", "team", "-k", "s3", "-c", "bucket=raw",
        "-s", "access_key_id=AKIA1", "-s", "secret_access_key=shh", "--no-test", as_=team.alice)  # fmt: skip
    run(
        "datasets",
        "register",
        "cancer",
        "-w",
        "team",
        "-c",
        "lake",
        "-p",
        "cancer",
        "-d",
        "tumours",
        as_=team.alice,
    )
    text = run("export", "-w", "team", as_=team.alice).stdout
    assert "shh" not in text
    assert "AKIA1" not in text
    docs = {(d["kind"], d["metadata"].get("name")): d for d in yaml.safe_load_all(text)}
    raw = docs[("Connection", "raw")]
    assert raw["spec"]["secrets"] == {
        "access_key_id": "${env:DAIS_SECRET_RAW_ACCESS_KEY_ID}",
        "secret_access_key": "${env:DAIS_SECRET_RAW_SECRET_ACCESS_KEY}",
    }
    cancer = docs[("Dataset", "cancer")]
    assert cancer["spec"]["connection"] == "lake"
    assert cancer["spec"]["source"]["path"] == "cancer"
    assert "No changes." in run("apply", "-f", "-", input=text, as_=team.alice).stdout

    # The same documents into a new workspace: secrets come from the environment.
    run("workspaces", "create", "copy", as_=team.alice)
    moved = text.replace("workspace: team", "workspace: copy")
    data_docs = "---\n".join(
        yaml.safe_dump(d) for d in yaml.safe_load_all(moved) if d["kind"] in ("Connection", "Dataset")
    )
    refused = run("apply", "-f", "-", input=data_docs, as_=team.alice, ok=False)
    assert refused.exit_code == 1
    assert "DAIS_SECRET_RAW_ACCESS_KEY_ID" in refused.output
    monkeypatch.setenv("DAIS_SECRET_RAW_ACCESS_KEY_ID", "AKIA2")
    monkeypatch.setenv("DAIS_SECRET_RAW_SECRET_ACCESS_KEY", "shh2")
    applied = run("apply", "-f", "-", input=data_docs, as_=team.alice).stdout
    assert "connection/copy/raw created" in applied
    assert "dataset/copy/cancer created" in applied
    copied = as_json(run("datasets", "show", "cancer", "-w", "copy", "-o", "json", as_=team.alice))
    assert (copied["row_count"], copied["description"]) == (569, "tumours")
    changed = data_docs.replace("description: tumours", "description: tumours, again")
    assert "dataset/copy/cancer configured" in run("apply", "-f", "-", input=changed, as_=team.alice).stdout
    assert "No changes." in run("apply", "-f", "-", input=changed, as_=team.alice).stdout
