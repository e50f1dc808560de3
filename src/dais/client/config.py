"""Profiles: named server URLs and tokens in a TOML file, and how a client picks its URL and token.

The file is ``$DAIS_CONFIG``, else ``$DAIS_HOME/config.toml``, else ``~/.dais/config.toml``::

    current = "default"

    [profiles.default]
    url = "http://127.0.0.1:8765"
    token = "dais_..."

Resolution, per value: an explicit argument, then ``DAIS_URL`` / ``DAIS_TOKEN``, then the profile
(the one named, else ``DAIS_PROFILE``, else the file's ``current``). A profile's token is only used
with that profile's URL, so a token is never sent to a server it was not made for.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from dais.core.errors import InvalidInput, NotFound

DEFAULT_URL = "http://127.0.0.1:8765"
DEFAULT_PROFILE = "default"


def config_path() -> Path:
    """Where profiles are kept."""
    if explicit := os.environ.get("DAIS_CONFIG"):
        return Path(explicit).expanduser()
    home = os.environ.get("DAIS_HOME")
    return (Path(home).expanduser() if home else Path("~/.dais").expanduser()) / "config.toml"


@dataclass
class Profile:
    """One named server and the token to use with it."""

    name: str
    url: str
    token: str | None = None


@dataclass
class Config:
    """The whole profiles file."""

    current: str | None = None
    profiles: dict[str, Profile] = field(default_factory=dict)

    def get(self, name: str | None = None) -> Profile | None:
        """The profile ``name`` (default: the current one), or ``None`` if there is none."""
        name = name or self.current
        return self.profiles.get(name) if name else None


def load_config(path: Path | None = None) -> Config:
    """Read the profiles file (an empty config if it does not exist)."""
    path = path or config_path()
    if not path.exists():
        return Config()
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"The config file {path} is not valid TOML: {exc}") from exc
    profiles = {
        name: Profile(name, str(body.get("url", DEFAULT_URL)), body.get("token"))
        for name, body in (raw.get("profiles") or {}).items()
        if isinstance(body, dict)
    }
    return Config(current=raw.get("current"), profiles=profiles)


def save_config(config: Config, path: Path | None = None) -> Path:
    """Write the profiles file atomically, readable by its owner only (it holds tokens)."""
    path = path or config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    body: dict[str, Any] = {}
    if config.current:
        body["current"] = config.current
    body["profiles"] = {
        p.name: {"url": p.url, **({"token": p.token} if p.token else {})} for p in config.profiles.values()
    }
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        tomli_w.dump(body, fh)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def save_profile(profile: Profile, *, make_current: bool = True, path: Path | None = None) -> Path:
    """Add or replace one profile (and make it the current one)."""
    config = load_config(path)
    config.profiles[profile.name] = profile
    if make_current or not config.current:
        config.current = profile.name
    return save_config(config, path)


def use_profile(name: str, path: Path | None = None) -> Profile:
    """Make ``name`` the current profile."""
    config = load_config(path)
    profile = config.profiles.get(name)
    if profile is None:
        known = ", ".join(sorted(config.profiles)) or "none yet; run `dais login`"
        raise NotFound(f"No profile named {name!r} (known: {known}).")
    config.current = name
    save_config(config, path)
    return profile


def _same_server(a: str, b: str) -> bool:
    return a.rstrip("/") == b.rstrip("/")


def resolve(
    url: str | None = None, token: str | None = None, profile: str | None = None
) -> tuple[str, str | None]:
    """The URL and token a client should use (see the module docstring for the order)."""
    url = url or os.environ.get("DAIS_URL") or None
    token = token or os.environ.get("DAIS_TOKEN") or None
    name = profile or os.environ.get("DAIS_PROFILE") or None
    if url and token:
        return url.rstrip("/"), token
    config = load_config()
    chosen = config.get(name)
    if name and chosen is None:
        known = ", ".join(sorted(config.profiles)) or "none yet; run `dais login`"
        raise NotFound(f"No profile named {name!r} in {config_path()} (known: {known}).")
    if chosen is not None:
        if url is None:
            url = chosen.url
        if token is None and _same_server(url, chosen.url):
            token = chosen.token
    return (url or DEFAULT_URL).rstrip("/"), token
