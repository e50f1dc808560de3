"""Each noun's main commands against a real server, read back as JSON."""

from __future__ import annotations

import pytest
import yaml

from tests.cli.conftest import Run, as_json
from tests.conftest import Actor, World


def test_workspaces_create_list_get_update_delete(run: Run) -> None:
    created = as_json(run("workspaces", "create", "vision", "--name", "Vision", "-d", "Images", "-o", "json"))
    assert (created["slug"], created["role"]) == ("vision", "owner")
    assert [w["slug"] for w in as_json(run("workspaces", "list", "-o", "json"))] == ["vision"]
    assert "vision" in run("workspaces", "list").stdout
    updated = yaml.safe_load(run("workspaces", "update", "vision", "-d", "Photos", "-o", "yaml").stdout)
    assert updated["description"] == "Photos"
    assert as_json(run("workspaces", "get", "vision", "-o", "json"))["description"] == "Photos"
    run("workspaces", "delete", "vision", "--yes")
    missing = run("workspaces", "get", "vision", ok=False)
    assert missing.exit_code == 1
    assert "not found" in missing.output


def test_errors_print_the_message_and_field_errors(run: Run) -> None:
    result = run("workspaces", "create", "Bad Slug!", ok=False)
    assert result.exit_code == 1
    assert "Error:" in result.output
    assert "slug" in result.output
    assert "request id" in result.output


def test_users_create_list_update(run: Run) -> None:
    user = as_json(run("users", "create", "erin", "--display-name", "Erin", "-o", "json"))
    assert (user["username"], user["is_admin"]) == ("erin", False)
    names = [u["username"] for u in as_json(run("users", "list", "-o", "json"))]
    assert "erin" in names
    changed = as_json(run("users", "update", "erin", "--admin", "--email", "erin@example.org", "-o", "json"))
    assert (changed["is_admin"], changed["email"]) == (True, "erin@example.org")
    with_password = as_json(
        run("users", "create", "fay", "--password", "-o", "json", input="long-password\nlong-password\n")
    )
    assert with_password["username"] == "fay"


def test_members_add_list_set_role_remove(run: Run, world: World) -> None:
    world.user("gus")
    run("workspaces", "create", "team")
    added = as_json(run("members", "add", "-w", "team", "gus", "--role", "editor", "-o", "json"))
    assert added["role"] == "editor"
    roles = {m["username"]: m["role"] for m in as_json(run("members", "list", "-w", "team", "-o", "json"))}
    assert roles == {"root-admin": "owner", "gus": "editor"}
    assert (
        as_json(run("members", "set-role", "-w", "team", "gus", "viewer", "-o", "json"))["role"] == "viewer"
    )
    run("members", "remove", "-w", "team", "gus")
    assert len(as_json(run("members", "list", "-w", "team", "-o", "json"))) == 1


def test_a_viewer_cannot_add_members(run: Run, world: World) -> None:
    owner, viewer = world.user("owner"), world.user("viewer")
    world.user("other")
    world.workspace("team", owner, members={"viewer": "viewer"})
    result = run("members", "add", "-w", "team", "other", as_=viewer, ok=False)
    assert result.exit_code == 1
    assert "viewer" in result.output


def test_tokens_create_list_revoke(run: Run) -> None:
    created = as_json(run("tokens", "create", "ci", "--expires-in-days", "7", "-o", "json"))
    assert created["token"].startswith("dais_")
    listed = as_json(run("tokens", "list", "-o", "json"))
    assert created["id"] in [t["id"] for t in listed]
    assert all("token" not in t for t in listed)
    revoked = as_json(run("tokens", "revoke", created["id"], "-o", "json"))
    assert revoked["revoked_at"] is not None
    assert created["id"] not in [t["id"] for t in as_json(run("tokens", "list", "-o", "json"))]
    assert created["id"] in [t["id"] for t in as_json(run("tokens", "list", "--all", "-o", "json"))]
    table = run("tokens", "create", "shown-once").stdout
    assert "shown only now" in table
    assert "dais_" in table


def test_quotas_get_and_set(run: Run) -> None:
    run("workspaces", "create", "gpu")
    quota = as_json(run("quotas", "get", "-w", "gpu", "-o", "json"))
    assert quota["max_gpus"] is None
    quota = as_json(
        run(
            "quotas",
            "set",
            "-w",
            "gpu",
            "--max-gpus",
            "4",
            "--max-cpus",
            "8.5",
            "--priority",
            "5",
            "-o",
            "json",
        )
    )
    assert (quota["max_gpus"], quota["max_cpus"], quota["priority"]) == (4, 8.5, 5)
    quota = as_json(run("quotas", "set", "-w", "gpu", "--max-gpus", "unlimited", "-o", "json"))
    assert (quota["max_gpus"], quota["max_cpus"]) == (None, 8.5)
    bad = run("quotas", "set", "-w", "gpu", "--max-gpus", "lots", ok=False)
    assert bad.exit_code == 2


def test_audit_lists_filtered_events(run: Run) -> None:
    run("workspaces", "create", "audited")
    run("workspaces", "update", "audited", "-d", "changed")
    events = as_json(run("audit", "-w", "audited", "-o", "json"))
    assert {"workspace.create", "workspace.update"} <= {e["action"] for e in events}
    only = as_json(run("audit", "-w", "audited", "--action", "workspace.update", "-o", "json"))
    assert [e["action"] for e in only] == ["workspace.update"]
    everywhere = as_json(
        run("audit", "--actor", "root-admin", "--since", "2000-01-01T00:00:00", "-o", "json")
    )
    assert everywhere
    assert all(e["actor_name"] == "root-admin" for e in everywhere)


def test_whoami(run: Run, admin: Actor) -> None:
    run("workspaces", "create", "mine")
    me = as_json(run("whoami", "-o", "json"))
    assert (me["user"]["username"], me["auth"]) == ("root-admin", "token")
    assert [w["slug"] for w in me["workspaces"]] == ["mine"]
    assert "root-admin" in run("whoami").stdout


@pytest.mark.parametrize("fmt", ["json", "yaml", "table"])
def test_every_format_prints_a_listing(run: Run, fmt: str) -> None:
    run("workspaces", "create", "fmt-ws")
    assert "fmt-ws" in run("workspaces", "list", "-o", fmt).stdout
