"""Problem+json replies come back as the server's own exception classes."""

from __future__ import annotations

import socket

import pytest

from dais import Client
from dais.client import DaisConnectionError, request_id_of
from dais.core.errors import AlreadyExists, InvalidInput, NotFound, PermissionDenied, Unauthenticated
from tests.conftest import World


def test_wrong_token_raises_unauthenticated_with_the_servers_message(server_url: str) -> None:
    with Client(server_url, "dais_not-a-real-token") as client, pytest.raises(Unauthenticated) as info:
        client.me()
    assert "not valid" in info.value.detail
    assert request_id_of(info.value)


def test_wrong_password_raises_unauthenticated(server_url: str, world: World) -> None:
    world.user("carol")
    with (
        Client(server_url, username="carol", password="wrong-password") as client,
        pytest.raises(Unauthenticated),
    ):
        client.me()


def test_workspace_of_another_tenant_is_not_found(server_url: str, world: World) -> None:
    alice, bob = world.user("alice"), world.user("bob")
    world.workspace("alpha", alice)
    with Client(server_url, bob.token) as client:
        with pytest.raises(NotFound, match="alpha"):
            client.workspaces.get("alpha")
        with pytest.raises(NotFound):
            client.artifacts.list("alpha")
        with pytest.raises(NotFound):
            client.members.add("alpha", "bob", "owner")


def test_viewer_changing_a_workspace_is_denied(server_url: str, world: World) -> None:
    alice, bob = world.user("alice"), world.user("bob")
    world.workspace("alpha", alice, members={"bob": "viewer"})
    with Client(server_url, bob.token) as client, pytest.raises(PermissionDenied):
        client.workspaces.update("alpha", description="mine now")


def test_invalid_input_carries_the_field_errors(server_url: str, admin: object, world: World) -> None:
    user = world.user("dora")
    with Client(server_url, user.token) as client:
        with pytest.raises(InvalidInput) as info:
            client.workspaces.create("Not A Slug!")
        assert any("slug" in e["loc"] for e in info.value.errors)
        client.workspaces.create("dora-ws")
        with pytest.raises(AlreadyExists):
            client.workspaces.create("dora-ws")


def test_unreachable_server_raises_a_connection_error_naming_the_url() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with Client(url, "dais_x", timeout=2) as client, pytest.raises(DaisConnectionError) as info:
        client.me()
    assert url in info.value.detail
