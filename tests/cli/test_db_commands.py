"""`dais db upgrade|current|downgrade` on the database of DAIS_HOME."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dais.cli.main import app
from dais.db import head_revision


def test_upgrade_current_downgrade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAIS_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("DAIS_DATABASE_URL", raising=False)
    runner = CliRunner()
    head = head_revision()

    before = runner.invoke(app, ["db", "current"])
    assert before.exit_code == 0
    assert "revision none" in before.output
    up = runner.invoke(app, ["db", "upgrade"])
    assert up.exit_code == 0
    assert head in up.output
    assert "up to date" in runner.invoke(app, ["db", "current"]).output
    down = runner.invoke(app, ["db", "downgrade", "base"])
    assert down.exit_code == 0
    assert "revision none" in down.output
    assert "run `dais db upgrade`" in runner.invoke(app, ["db", "current"]).output
