"""The ``script`` kind runs ``python`` (and ``pip``, ``dais``) from the worker's own environment, not
whichever Python comes first on the worker's ``PATH``; a spec that sets ``PATH`` keeps its own."""

from __future__ import annotations

import os
import sys

import pytest
from fastapi.testclient import TestClient

from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.kinds.script import platform_path
from dais.storage import ArtifactStore
from tests.conftest import World
from tests.jobs.conftest import running_worker, wait_for

pytestmark = pytest.mark.slow

OWN_BIN = os.path.dirname(sys.executable)
PROBE = (
    "import importlib.util, sys; print('exe=' + sys.executable); "
    "print('mlflow=' + str(bool(importlib.util.find_spec('mlflow'))))"
)


def test_the_platform_path_puts_the_interpreters_folder_first_once() -> None:
    assert platform_path("/usr/bin:/bin") == os.pathsep.join([OWN_BIN, "/usr/bin", "/bin"])
    assert platform_path(os.pathsep.join(["/usr/bin", OWN_BIN, ""])) == os.pathsep.join([OWN_BIN, "/usr/bin"])
    assert platform_path("") == OWN_BIN


def test_a_script_job_runs_the_workers_python_unless_its_env_sets_path(
    client: TestClient,
    world: World,
    settings: Settings,
    db: Database,
    store: ArtifactStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As under `.venv/bin/dais up`: the worker's own folder is not on its PATH, another Python may be.
    monkeypatch.setenv(
        "PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != OWN_BIN)
    )
    alice = world.user("alice")
    world.workspace("team", alice)
    h = alice.headers

    def submit(spec: dict[str, object]) -> str:
        r = client.post("/api/v1/workspaces/team/jobs", headers=h, json={"kind": "script", "spec": spec})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    plain = submit({"command": ["python", "-c", PROBE]})
    shell = submit({"command": ["sh", "-c", "command -v dais; command -v python"]})
    own_path = submit({"command": ["sh", "-c", 'echo "path=$PATH"'], "env": {"PATH": "/usr/bin:/bin"}})
    with running_worker(settings, db, store, slots=3):
        finals = {job: wait_for(db, job) for job in (plain, shell, own_path)}
    assert {j.state for j in finals.values()} == {"succeeded"}, [j.error for j in finals.values()]

    def log(job: str) -> list[str]:
        return client.get(f"/api/v1/workspaces/team/jobs/{job}/logs", headers=h).text.splitlines()

    lines = log(plain)
    exe = next(line.removeprefix("exe=") for line in lines if line.startswith("exe="))
    assert os.path.dirname(exe) == OWN_BIN
    assert "mlflow=True" in lines  # the MLflow client is there for a training script
    assert os.path.join(OWN_BIN, "dais") in log(shell)
    assert os.path.join(OWN_BIN, "python") in log(shell)
    assert "path=/usr/bin:/bin" in log(own_path)
