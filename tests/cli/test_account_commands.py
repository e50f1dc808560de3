"""Logging in, profiles, login links, plugins and artifacts from the command line."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from dais.cli.main import app as cli_app
from dais.core import plugins
from dais.core.settings import Settings
from tests.cli.conftest import Run, as_json
from tests.conftest import Actor, World


def _dais(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args), input=input, env=env)
    return result.exit_code, result.output


def test_login_with_a_password_stores_a_token_profile(server_url: str, world: World, tmp_path: Path) -> None:
    world.user("hana", password="hana-password")
    code, out = _dais("login", server_url, "--username", "hana", "--profile", "lab", input="hana-password\n")
    assert code == 0, out
    assert "hana" in out
    config = tomllib.loads((tmp_path / "config.toml").read_text())
    assert config["current"] == "lab"
    token = config["profiles"]["lab"]["token"]
    assert token.startswith("dais_")
    assert "hana-password" not in (tmp_path / "config.toml").read_text()
    code, out = _dais("whoami", "-o", "json")
    assert code == 0
    assert '"hana"' in out


def test_login_with_a_wrong_password_fails_and_stores_nothing(
    server_url: str, world: World, tmp_path: Path
) -> None:
    world.user("hana", password="hana-password")
    code, out = _dais("login", server_url, "-u", "hana", input="nope-nope\n")
    assert code == 1
    assert "wrong" in out
    assert not (tmp_path / "config.toml").exists()


def test_login_with_a_token_and_switch_profiles(server_url: str, world: World) -> None:
    ivy, jon = world.user("ivy"), world.user("jon")
    assert _dais("login", server_url, "--token", ivy.token, "--profile", "ivy")[0] == 0
    assert _dais("login", server_url, "--token", jon.token, "--profile", "jon")[0] == 0
    code, out = _dais("profile", "list", "-o", "json")
    assert code == 0
    assert {p["name"]: p["current"] for p in json.loads(out)} == {"ivy": False, "jon": True}
    assert '"jon"' in _dais("whoami", "-o", "json")[1]
    assert _dais("profile", "use", "ivy")[0] == 0
    assert '"ivy"' in _dais("whoami", "-o", "json")[1]
    assert '"jon"' in _dais("--profile", "jon", "whoami", "-o", "json")[1]
    code, out = _dais("profile", "use", "kim")
    assert code == 1
    assert "ivy, jon" in out


def test_login_with_a_bad_token_is_refused(server_url: str) -> None:
    code, out = _dais("login", server_url, "--token", "dais_bogus")
    assert code == 1
    assert "not valid" in out


def test_login_link_through_the_api_works_once(run: Run, server_url: str, world: World) -> None:
    world.user("kai")
    out = run("login-link", "--user", "kai").stdout
    url = next(line for line in out.split() if "/login/link/" in line)
    path = url[url.index("/login/link/") :]
    first = httpx.get(server_url + path)
    assert first.status_code == 303
    assert "dais_session" in first.headers.get("set-cookie", "")
    assert httpx.get(server_url + path).headers["location"] == "/login?link=expired"


def test_login_link_for_another_user_needs_an_admin(run: Run, world: World) -> None:
    kai = world.user("kai")
    result = run("login-link", "--user", "root-admin", as_=kai, ok=False)
    assert result.exit_code == 1
    assert "administrator" in result.output


def test_local_login_link_is_made_in_the_home_database(
    settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world.user("admin", admin=True)
    monkeypatch.setenv("DAIS_HOME", str(settings.home))
    monkeypatch.setenv("DAIS_DATABASE_URL", settings.database_url)
    code, out = _dais("login-link", "--local")
    assert code == 0, out
    assert "/login/link/dais_l_" in out
    code, out = _dais("login-link", "--local", "--user", "nobody")
    assert code == 1
    assert "nobody" in out


def test_plugins_list_shows_broken_plugins_without_crashing(monkeypatch: pytest.MonkeyPatch) -> None:
    broken = plugins.Registry[object]("dais.test_kinds", builtins={"bad": "dais_no_such_module:Thing"})
    monkeypatch.setitem(plugins._ALL, "dais.test_kinds", broken)
    code, out = _dais("plugins", "list", "-o", "json")
    assert code == 0, out
    rows = {(p["group"], p["name"]): p for p in json.loads(out)}
    assert rows[("dais.artifact_stores", "file")]["status"] == "loaded"
    assert rows[("dais.test_kinds", "bad")]["status"] == "broken"
    assert "dais_no_such_module" in rows[("dais.test_kinds", "bad")]["error"]
    assert "broken" in _dais("plugins", "list")[1]


def test_artifacts_upload_ls_download_rm(run: Run, world: World, admin: Actor, tmp_path: Path) -> None:
    run("workspaces", "create", "files")
    src = tmp_path / "train.csv"
    src.write_text("a,b\n1,2\n")
    out = run("artifacts", "upload", "-w", "files", str(src), "data/train.csv").stdout
    assert "Uploaded data/train.csv" in out
    listed = as_json(run("artifacts", "ls", "-w", "files", "-o", "json"))
    assert [(a["key"], a["size"]) for a in listed] == [("data/train.csv", 8)]
    dest = tmp_path / "down"
    dest.mkdir()
    run("artifacts", "download", "-w", "files", "data/train.csv", str(dest))
    assert (dest / "train.csv").read_text() == "a,b\n1,2\n"
    run("artifacts", "rm", "-w", "files", "data/train.csv")
    assert as_json(run("artifacts", "ls", "-w", "files", "-o", "json")) == []
    missing = run("artifacts", "rm", "-w", "files", "data/train.csv", ok=False)
    assert missing.exit_code == 1
