"""CLI fixtures: a live server, and ``run`` to call ``dais`` against it as a given user."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from typer.testing import CliRunner, Result

from dais.cli.main import app as cli_app
from tests.client.live import serve_in_thread
from tests.conftest import Actor

Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DAIS_URL", "DAIS_TOKEN", "DAIS_PROFILE", "DAIS_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DAIS_CONFIG", str(tmp_path / "config.toml"))


@pytest.fixture
def server_url(app: FastAPI) -> Iterator[str]:
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture
def run(server_url: str, admin: Actor) -> Run:
    """``run(*args, as_=actor, input=..., ok=True)``: invoke ``dais`` (as the admin by default)."""

    def invoke(*args: str, as_: Actor | None = None, input: str | None = None, ok: bool = True) -> Result:
        env = {"DAIS_URL": server_url, "DAIS_TOKEN": (as_ or admin).token}
        result = CliRunner().invoke(cli_app, list(args), env=env, input=input)
        if ok:
            assert result.exit_code == 0, (result.output, result.exception)
        return result

    return invoke


def as_json(result: Result) -> Any:
    return json.loads(result.stdout)
