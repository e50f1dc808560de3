"""Options every command shares (``--url``, ``--profile``), and the SDK client they select."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dais.client import Client


@dataclass
class Globals:
    """What the root command's options chose."""

    url: str | None = None
    profile: str | None = None


GLOBALS = Globals()


def client() -> Client:
    """An SDK client for the chosen server and credentials (a context manager)."""
    from dais.client import Client

    return Client(url=GLOBALS.url, profile=GLOBALS.profile)
