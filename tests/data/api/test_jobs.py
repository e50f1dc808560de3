"""The data job kinds with a running worker: a registration that fails (unknown connection, a path
outside the allowed roots, a missing path, ragged CSV, an empty file) carries the source's message
and leaves nothing behind; names are checked; ids in a spec never reach another workspace."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dais.data.models import Dataset, DatasetVersion
from dais.db import Database
from tests.data.api.helpers import OTHER, WS, Team, file_connection, register, wait_job


def _nothing_registered(db: Database) -> None:
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 0
        assert s.scalar(select(func.count()).select_from(DatasetVersion)) == 0


@pytest.mark.slow
def test_failed_registrations_carry_the_message_and_leave_nothing(
    api: TestClient, team: Team, data_root: Path, data_worker: None, db: Database, tmp_path: Path
) -> None:
    (data_root / "ragged.csv").write_text("a,b,c\n1,2,3\n4,5\n6,7,8\n")
    (data_root / "empty.csv").write_bytes(b"")
    (tmp_path / "secret.csv").write_text("x\n1\n")
    (data_root / "escape.csv").symlink_to(tmp_path / "secret.csv")
    file_connection(api, team.h, data_root)
    cases = {
        "missing": ({"path": "nope/never.csv"}, ["not", "exist"]),
        "ragged": ({"path": "ragged.csv"}, ["line"]),
        "empty": ({"path": "empty.csv"}, ["empty"]),
        "outside": ({"path": "../secret.csv"}, [".."]),
        "symlink": ({"path": "escape.csv"}, ["symbolic link"]),
    }
    jobs = {}
    for name, (source, _) in cases.items():
        r = api.post(
            f"{WS}/datasets", headers=team.h, json={"name": name, "connection": "files", "source": source}
        )
        assert r.status_code == 202, r.text
        jobs[name] = r.json()["job"]["id"]
    for name, job_id in jobs.items():
        job = wait_job(api, team.h, job_id)
        assert job["state"] == "failed", name
        for word in cases[name][1]:
            assert word in job["error"].lower(), (name, job["error"])
    _nothing_registered(db)
    assert api.get(f"{WS}/datasets", headers=team.h).json()["items"] == []


def test_unknown_connection_and_bad_source_shapes_are_refused_at_once(
    api: TestClient, team: Team, data_root: Path
) -> None:
    file_connection(api, team.h, data_root)

    def post(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        r = api.post(f"{WS}/datasets", headers=team.h, json={"name": "d", **body})
        return r.status_code, r.json()

    code, body = post({"connection": "nope", "source": {"path": "a.csv"}})
    assert code == 404
    assert body["errors"] == [{"loc": ["body", "connection"], "msg": "unknown connection"}]
    code, body = post({"connection": "files", "source": {}})
    assert code == 422
    assert body["errors"][0]["loc"] == ["body", "source", "path"]
    code, _ = post({"connection": "files", "source": {"table": "t"}})
    assert code == 422
    code, _ = post({"connection": "files", "source": {"path": "a.csv", "format": "excel"}})
    assert code == 422


@pytest.mark.slow
def test_name_clashes_and_foreign_ids_fail_the_job(
    api: TestClient, team: Team, data_root: Path, data_worker: None, db: Database
) -> None:
    (data_root / "a.csv").write_text("x\n1\n")
    conn = file_connection(api, team.h, data_root)
    assert register(api, team.h, "a", {"path": "a.csv"})["state"] == "succeeded"
    r = api.post(
        f"{WS}/datasets",
        headers=team.h,
        json={"name": "a", "connection": "files", "source": {"path": "a.csv"}},
    )
    assert r.status_code == 409
    # a job that finds the name taken when it is about to write fails with a clear message
    spec = {"name": "a", "connection_id": None, "source": {"path": "a.csv"}}
    r = api.post(f"{WS}/jobs", headers=team.h, json={"kind": "data.register", "spec": spec})
    late = r.json()["id"]
    # eve submits a raw data.register job in her workspace naming alice's connection id
    spec = {"name": "stolen", "connection_id": conn["id"], "source": {"path": "a.csv"}}
    r = api.post(f"{OTHER}/jobs", headers=team.eve.headers, json={"kind": "data.register", "spec": spec})
    assert r.status_code == 201, r.text
    foreign = r.json()["id"]
    job = wait_job(api, team.h, late)
    assert job["state"] == "failed"
    assert "already exists" in job["error"]
    job = wait_job(api, team.eve.headers, foreign, ws=OTHER)
    assert job["state"] == "failed"
    assert "not found in this workspace" in job["error"]
    with db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Dataset)) == 1


def test_kinds_are_listed_with_their_specs(api: TestClient, team: Team) -> None:
    kinds = {k["name"]: k for k in api.get("/api/v1/job-kinds", headers=team.h).json()}
    for name in ("data.register", "data.refresh", "data.materialize"):
        assert kinds[name]["error"] is None
        assert kinds[name]["spec_schema"]["properties"]
