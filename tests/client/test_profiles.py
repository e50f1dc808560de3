"""Where a client takes its URL and token from: arguments, environment, then the profile."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from dais import Client
from dais.client import Profile, config_path, load_config, save_profile, use_profile
from dais.client.config import DEFAULT_URL
from dais.core.errors import NotFound


def test_profile_file_is_written_private_and_read_back() -> None:
    path = config_path()
    save_profile(Profile("prod", "https://dais.example.org", "dais_prod"))
    save_profile(Profile("dev", "http://127.0.0.1:9000/", "dais_dev"), make_current=False)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = load_config()
    assert config.current == "prod"
    assert sorted(config.profiles) == ["dev", "prod"]
    use_profile("dev")
    assert load_config().current == "dev"
    with pytest.raises(NotFound, match=r"dev, prod"):
        use_profile("staging")


def test_current_profile_gives_url_and_token() -> None:
    save_profile(Profile("prod", "https://dais.example.org", "dais_prod"))
    with Client() as client:
        assert (client.url, client.token) == ("https://dais.example.org", "dais_prod")
    with Client(profile="prod") as client:
        assert client.token == "dais_prod"
    with pytest.raises(NotFound, match="staging"):
        Client(profile="staging")


def test_environment_beats_the_profile_and_arguments_beat_both(monkeypatch: pytest.MonkeyPatch) -> None:
    save_profile(Profile("prod", "https://dais.example.org", "dais_prod"))
    monkeypatch.setenv("DAIS_TOKEN", "dais_env")
    with Client() as client:
        assert (client.url, client.token) == ("https://dais.example.org", "dais_env")
    monkeypatch.setenv("DAIS_URL", "http://env.example:1")
    with Client() as client:
        assert (client.url, client.token) == ("http://env.example:1", "dais_env")
    with Client("http://arg.example:2", "dais_arg") as client:
        assert (client.url, client.token) == ("http://arg.example:2", "dais_arg")


def test_a_profiles_token_is_never_sent_to_another_server() -> None:
    save_profile(Profile("prod", "https://dais.example.org", "dais_prod"))
    with Client("http://elsewhere.example") as client:
        assert client.token is None
    with Client("https://dais.example.org/") as client:
        assert client.token == "dais_prod"


def test_without_any_configuration_the_local_default_is_used() -> None:
    with Client() as client:
        assert (client.url, client.token) == (DEFAULT_URL, None)


def test_config_lives_in_dais_home_without_dais_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DAIS_CONFIG")
    monkeypatch.setenv("DAIS_HOME", str(tmp_path / "home"))
    assert config_path() == tmp_path / "home" / "config.toml"
    save_profile(Profile("default", "http://h:1", "dais_t"))
    assert (tmp_path / "home" / "config.toml").exists()
