"""What every domain module of the SDK shares."""

from __future__ import annotations

from dais.client.http import Transport


class Resource:
    """One domain of the API, reached through the client's transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
