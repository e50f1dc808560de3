"""Jobs through the SDK against a live server with a worker: submit, wait, logs (tail, follow), DAGs,
cancel, and a `script` job that uses the SDK itself with its job token."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest

from dais import Client
from dais.core.errors import InvalidInput, NotFound
from dais.core.settings import Settings
from dais.db import Database
from dais.jobs.worker import JobWorker
from dais.storage import open_store
from tests.conftest import Actor, World
from tests.jobs.conftest import running_worker

SCRIPT = """\
import os
import sys

import dais
from dais.core.errors import NotFound

with dais.Client() as client:
    print("workspaces:", ",".join(w.slug for w in client.workspaces.list()))
    for art in client.artifacts.list(os.environ["DAIS_WORKSPACE"], "data/"):
        print("artifact:", art.key, art.size)
    try:
        client.artifacts.list("other")
    except NotFound:
        print("other: not visible")
    print("args:", " ".join(sys.argv[1:]))
"""


@pytest.fixture
def alice(world: World) -> Actor:
    alice = world.user("alice")
    world.workspace("team", alice)
    return alice


@pytest.fixture
def worker(server_url: str, settings: Settings, db: Database) -> Iterator[JobWorker]:
    """A worker whose jobs reach the live server at ``server_url``."""
    api = settings.api.model_copy(update={"public_url": server_url})
    with running_worker(dataclasses.replace(settings, api=api), db, open_store(settings)) as w:
        yield w


@pytest.fixture
def client(server_url: str, alice: Actor) -> Iterator[Client]:
    with Client(server_url, alice.token) as c:
        yield c


def test_submit_wait_and_read_the_logs(client: Client, worker: JobWorker) -> None:
    job = client.jobs.submit("team", "sleep", {"seconds": 0.3, "steps": 3, "output": "hello"}, name="nap")
    assert (job.kind, job.name, job.state) == ("sleep", "nap", "queued")
    done = job.wait(timeout=30)
    assert done.succeeded, done.error
    assert done.result == {"slept": 0.3}
    assert done.progress == 1.0
    assert [a.number for a in done.attempts] == [1]
    assert list(done.logs()) == ["hello"] * 3
    assert list(client.jobs.logs("team", job.id, tail=2)) == ["hello"] * 2
    assert [j.id for j in client.jobs.list("team", state=["succeeded"])] == [job.id]
    assert list(client.jobs.list("team", state="failed")) == []
    assert done.refresh().state == "succeeded"
    workers = client.workers.list()
    assert [w.name for w in workers] == [worker.config.name]
    assert workers[0].alive


def test_submit_many_queues_a_sweep_in_one_request(client: Client, worker: JobWorker) -> None:
    jobs = client.jobs.submit_many(
        "team", [{"kind": "sleep", "name": f"n{i}", "spec": {"seconds": 0.1 * i}} for i in range(3)]
    )
    assert [j.name for j in jobs] == ["n0", "n1", "n2"]
    assert [j.wait(timeout=30).result for j in jobs] == [{"slept": 0.0}, {"slept": 0.1}, {"slept": 0.2}]
    with pytest.raises(InvalidInput):
        client.jobs.submit_many("team", [{"kind": "noop"}, {"kind": "no-such-kind"}])


def test_follow_streams_lines_while_the_job_runs(client: Client, worker: JobWorker) -> None:
    job = client.jobs.submit("team", "sleep", {"seconds": 2.4, "steps": 4, "output": "tick"})
    states_at_line: list[str] = []
    lines = []
    for line in job.logs(follow=True):
        lines.append(line)
        if len(states_at_line) < 1:
            states_at_line.append(job.refresh().state)
    assert lines == ["tick"] * 4
    assert states_at_line == ["running"]  # the first line came while the job still ran
    assert job.refresh().succeeded
    # Following a finished job prints what it wrote and ends; tail keeps only the last lines.
    assert list(client.jobs.logs("team", job.id, follow=True, tail=2)) == ["tick"] * 2


def test_a_script_job_uses_the_sdk_with_a_token_limited_to_its_workspace(
    client: Client, world: World, alice: Actor, worker: JobWorker
) -> None:
    world.workspace("other", alice)
    client.artifacts.upload("other", "secret.txt", b"not for the job")
    client.artifacts.upload("team", "data/hello.txt", b"hello")
    client.artifacts.upload("team", "src/app/list.py", SCRIPT.encode())
    job = client.jobs.submit(
        "team", "script", {"python": "list.py", "files": "src/app", "args": ["--fast", "x"]}, timeout_s=60
    )
    done = job.wait(timeout=60)
    output = list(done.logs())
    assert done.succeeded, (done.error, output)
    assert "workspaces: team" in output
    assert "artifact: data/hello.txt 5" in output
    assert "other: not visible" in output
    assert "args: --fast x" in output


def test_dags_failures_cancel_and_retry(client: Client, worker: JobWorker) -> None:
    dag = client.jobs.submit_dag(
        "team",
        [
            {"node": "first", "kind": "fail", "spec": {"message": "broke on purpose"}},
            {"node": "second", "kind": "noop", "after": ["first"]},
        ],
        name="pair",
    )
    first, second = dag.job("first"), dag.job("second")
    assert dag.edges == [(first.id, second.id)]
    assert second.state == "pending"
    failed = first.wait(timeout=30)
    assert (failed.state, failed.error) == ("failed", "RuntimeError: broke on purpose")
    assert second.wait(timeout=30).state == "upstream_failed"
    assert {j.dag_node: j.state for j in client.jobs.dag("team", dag.dag_id).jobs} == {
        "first": "failed",
        "second": "upstream_failed",
    }
    assert first.retry().state == "queued"
    assert second.refresh().state == "pending"

    slow = client.jobs.submit("team", "sleep", {"seconds": 30})
    deadline = time.monotonic() + 20
    while slow.refresh().state != "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    slow.cancel()
    assert slow.wait(timeout=30).state == "cancelled"
    late = client.jobs.submit("team", "sleep", {"seconds": 5})
    with pytest.raises(TimeoutError):
        late.wait(timeout=0.2)
    late.cancel()


def test_bad_submissions_raise_the_servers_errors(client: Client, world: World) -> None:
    with pytest.raises(InvalidInput, match="Unknown job kind"):
        client.jobs.submit("team", "no-such-kind")
    with pytest.raises(InvalidInput) as info:
        client.jobs.submit("team", "sleep", {"seconds": "soon"})
    assert any("seconds" in e["loc"] for e in info.value.errors)
    with pytest.raises(InvalidInput, match="cycle"):
        client.jobs.submit_dag(
            "team",
            [{"node": "a", "kind": "noop", "after": ["b"]}, {"node": "b", "kind": "noop", "after": ["a"]}],
        )
    bob = world.user("bob")
    with Client(client.url, bob.token) as other, pytest.raises(NotFound):
        other.jobs.submit("team", "noop")
    assert {"noop", "sleep", "fail", "script"} <= {k.name for k in client.jobs.kinds()}
