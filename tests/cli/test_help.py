"""`dais --help` is fast because it imports nothing heavy; every command explains itself."""

from __future__ import annotations

import subprocess
import sys

from typer.main import get_command
from typer.testing import CliRunner

from dais.cli.main import app

PROBE = """
import sys
from typer.testing import CliRunner
from dais.cli.main import app
result = CliRunner().invoke(app, ["--help"])
assert result.exit_code == 0, result.output
heavy = ("fastapi", "sqlalchemy", "uvicorn", "httpx", "dais.app", "dais.db")
loaded = sorted(m for m in heavy if m in sys.modules)
print(",".join(loaded))
"""


def test_help_imports_no_server_framework() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=30
    )
    assert out.stdout.strip() == ""


def _commands(group: object, prefix: list[str]) -> list[list[str]]:
    found = []
    for name, cmd in getattr(group, "commands", {}).items():
        assert cmd.help, f"`dais {' '.join([*prefix, name])}` has no help text"
        found.append([*prefix, name])
        found.extend(_commands(cmd, [*prefix, name]))
    return found


def test_every_command_has_help() -> None:
    runner = CliRunner()
    commands = _commands(get_command(app), [])
    assert ["up"] in commands
    assert ["members", "set-role"] in commands
    for path in commands:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_shell_completion_is_offered() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert "--install-completion" in result.output
