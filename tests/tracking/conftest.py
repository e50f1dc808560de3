"""Tracking fixtures: one migrated database and one live API server per test module.

The MLflow client tests drive a real uvicorn server (module scope: starting one per test would
cost more than the tests). ``MLFLOW_*`` variables point the client at it; each test picks its
caller with :meth:`MlflowServer.login`.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from dais.app import create_app
from dais.db import Database, create_database
from tests.conftest import Actor, World, make_settings, serve


@pytest.fixture(scope="module")
def module_db_url(_db_template: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database with no rows, for one test module."""
    if isinstance(_db_template, str):
        path = tmp_path_factory.mktemp("trackdb") / "dais.db"
        shutil.copy(_db_template, path)
        yield f"sqlite:///{path}"
        return
    name = _db_template.clone()  # type: ignore[attr-defined]
    try:
        yield _db_template.url(name)  # type: ignore[attr-defined]
    finally:
        _db_template.drop(name)  # type: ignore[attr-defined]


@dataclass
class MlflowServer:
    """A live Dais API server with users: ``alice`` (owner of ``default`` and ``team``), ``bob``
    (owner of ``other`` only), ``vera`` (viewer in ``default``)."""

    url: str
    db: Database
    world: World
    home: Path
    users: dict[str, Actor] = field(default_factory=dict)
    password: str = "password-123"

    def login(self, mp: pytest.MonkeyPatch, username: str = "alice", *, token: bool = False) -> None:
        """Point the mlflow client at the server as ``username`` (password, or a token as Bearer)."""
        mp.setenv("MLFLOW_TRACKING_URI", self.url)
        for name in ("MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD", "MLFLOW_TRACKING_TOKEN"):
            mp.delenv(name, raising=False)
        if token:
            mp.setenv("MLFLOW_TRACKING_TOKEN", self.users[username].token)
        else:
            mp.setenv("MLFLOW_TRACKING_USERNAME", username)
            mp.setenv("MLFLOW_TRACKING_PASSWORD", self.password)


@pytest.fixture(scope="module")
def mlflow_server(module_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    home = tmp_path_factory.mktemp("home")
    settings = make_settings(home, module_db_url)
    db = create_database(settings.database_url)
    world = World(db)
    users = {name: world.user(name) for name in ("alice", "bob", "vera")}
    world.workspace("default", users["alice"], {"vera": "viewer"})
    world.workspace("team", users["alice"])
    world.workspace("other", users["bob"])
    app = create_app(settings, db=db)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        mp.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
        with serve(app) as url:
            yield MlflowServer(url, db, world, home, users)
    db.dispose()
