"""`dais up` as a user runs it: a real process on a temporary home, stopped and killed in turn."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from dais.db import upgrade

pytestmark = pytest.mark.slow

PASSWORD = "admin-password-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAIS_")}
    env.update(
        DAIS_HOME=str(home),
        DAIS_API_PORT=str(port),
        DAIS_ADMIN_PASSWORD=PASSWORD,
        DAIS_LOG_FORMAT="text",
        DAIS_API_COOKIE_SECURE="false",
    )
    return env


@dataclass
class Up:
    """One `dais up` process, its output read line by line in the background."""

    proc: subprocess.Popen[str]
    err_path: Path
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    @classmethod
    def start(cls, home: Path, port: int, *args: str) -> Up:
        err_path = home.parent / f"up-{port}-{time.monotonic_ns()}.err"
        with err_path.open("w") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "dais.cli.main", "up", *args],
                env=_env(home, port),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        up = cls(proc, err_path)
        threading.Thread(target=up._pump, daemon=True).start()
        return up

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 30) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    break
                continue
            self.seen.append(line)
            if m := re.search(pattern, line):
                return m
        raise AssertionError(f"no line matching {pattern!r}; output so far: {''.join(self.seen)}")

    def ready(self) -> tuple[str, str]:
        url = self.wait_for(r"Dais is running at (http://\S+)").group(1)
        link = self.wait_for(r"Log in once with this link: (\S+)").group(1)
        return url.rstrip("/"), link

    def stderr(self) -> str:
        return self.err_path.read_text()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def procs() -> Iterator[list[Up]]:
    started: list[Up] = []
    yield started
    for up in started:
        if up.proc.poll() is None:
            up.proc.kill()
        up.proc.wait(timeout=10)
        if up.proc.stdout is not None:
            up.proc.stdout.close()


def test_up_serves_survives_restarts_and_refuses_a_second_instance(home: Path, procs: list[Up]) -> None:
    port = _free_port()
    first = Up.start(home, port, "--demo")
    procs.append(first)
    url, link = first.ready()
    assert url == f"http://127.0.0.1:{port}"
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"

    used = httpx.get(link)
    assert used.status_code == 303
    assert "dais_session=" in used.headers["set-cookie"]
    again = httpx.get(link)
    assert (again.status_code, again.headers["location"]) == (303, "/login?link=expired")

    with httpx.Client(base_url=url, auth=("admin", PASSWORD)) as basic:
        token = basic.post("/api/v1/tokens", json={"name": "test"}).json()["token"]
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"})
    assert api.post("/api/v1/workspaces", json={"slug": "kept"}).status_code == 201
    demo = api.get("/api/v1/workspaces/demo").json()
    assert "iris" in demo["description"]
    iris = api.get("/api/v1/workspaces/demo/artifacts/datasets/iris.csv").text.splitlines()
    assert len(iris) == 151
    assert iris[0].startswith("sepal_length")
    roles = {m["username"]: m["role"] for m in api.get("/api/v1/workspaces/demo/members").json()["items"]}
    assert roles == {"admin": "owner", "alice": "editor", "bob": "viewer"}

    second = Up.start(home, _free_port(), "--demo")
    procs.append(second)
    assert second.proc.wait(timeout=20) != 0
    message = second.stderr()
    assert "already running" in message
    assert str(first.proc.pid) in message

    assert first.stop(signal.SIGTERM) == 0
    first.wait_for(r"Dais stopped")

    restarted = Up.start(home, port, "--demo")
    procs.append(restarted)
    restarted.ready()
    assert not any("Demo content added" in line for line in restarted.seen)
    assert api.get("/api/v1/workspaces/kept").status_code == 200
    assert len(api.get("/api/v1/workspaces/demo/members").json()["items"]) == 3

    assert restarted.stop(signal.SIGKILL) == -signal.SIGKILL
    after_kill = Up.start(home, port)
    procs.append(after_kill)
    after_kill.ready()
    assert api.get("/api/v1/workspaces/kept").status_code == 200
    assert api.get("/api/v1/workspaces/demo/artifacts/datasets/iris.csv").status_code == 200
    assert after_kill.stop(signal.SIGINT) == 0
    api.close()


def test_up_and_api_refuse_a_stale_schema_naming_the_upgrade_command(home: Path) -> None:
    env = _env(home, _free_port())
    dais = [sys.executable, "-m", "dais.cli.main"]
    upgrade(f"sqlite:///{home / 'dais.db'}")
    with sqlite3.connect(home / "dais.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0000_older'")
    for command in ("up", "api"):
        out = subprocess.run([*dais, command], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 1, (command, out.stdout, out.stderr)
        assert "dais db upgrade" in out.stderr


def test_up_runs_submitted_jobs_on_its_worker_pool(home: Path, procs: list[Up]) -> None:
    up = Up.start(home, _free_port())
    procs.append(up)
    url, _ = up.ready()
    up.wait_for(r"Workers: 1 worker of 4 slots")
    with httpx.Client(base_url=url, auth=("admin", PASSWORD)) as basic:
        token = basic.post("/api/v1/tokens", json={"name": "test"}).json()["token"]
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as api:
        assert api.post("/api/v1/workspaces", json={"slug": "work"}).status_code == 201
        # A script job reaches the API from inside the job with its own token.
        who = "import dais; print('I am', dais.Client().me().user.username)"
        body = {"kind": "script", "spec": {"command": [sys.executable, "-c", who]}}
        job = api.post("/api/v1/workspaces/work/jobs", json=body).json()
        deadline = time.monotonic() + 60
        while (state := api.get(f"/api/v1/workspaces/work/jobs/{job['id']}").json())["state"] not in (
            "succeeded",
            "failed",
        ):
            assert time.monotonic() < deadline, state
            time.sleep(0.1)
        logs = api.get(f"/api/v1/workspaces/work/jobs/{job['id']}/logs").text
        assert state["state"] == "succeeded", (state["error"], logs)
        assert "I am admin" in logs
        [worker] = api.get("/api/v1/workers").json()
        assert (worker["alive"], worker["slots"]) == (True, 4)
    assert up.stop(signal.SIGTERM) == 0
    up.wait_for(r"Dais stopped")
