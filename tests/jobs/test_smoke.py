from fastapi.testclient import TestClient

from dais.core.settings import Settings
from dais.db import Database
from dais.storage import ArtifactStore
from tests.conftest import World
from tests.jobs.conftest import running_worker, wait_for


def test_sleep_job_runs_to_success_with_logs(
    client: TestClient, world: World, settings: Settings, db: Database, store: ArtifactStore
) -> None:
    alice = world.user("alice")
    world.workspace("team", alice)
    with running_worker(settings, db, store):
        r = client.post(
            "/api/v1/workspaces/team/jobs",
            headers=alice.headers,
            json={"kind": "sleep", "spec": {"seconds": 0.3, "steps": 3, "output": "hello"}},
        )
        assert r.status_code == 201, r.text
        job = wait_for(db, r.json()["id"])
    assert job.state == "succeeded", job.error
    assert job.result == {"slept": 0.3}
    logs = client.get(f"/api/v1/workspaces/team/jobs/{job.id}/logs", headers=alice.headers)
    assert logs.status_code == 200
    assert logs.text.count("hello") == 3
