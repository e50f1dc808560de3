"""`dais export` and `dais apply`: a workspace as YAML, applied idempotently."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.conftest import Run, as_json
from tests.conftest import World


def _setup(run: Run, world: World) -> None:
    world.user("lee")
    world.user("max")
    run("workspaces", "create", "ml", "--name", "ML team", "-d", "Models and data")
    run("members", "add", "-w", "ml", "lee", "--role", "editor")
    run("members", "add", "-w", "ml", "max", "--role", "viewer")
    run("quotas", "set", "-w", "ml", "--max-gpus", "2", "--priority", "3")


def test_export_writes_the_workspace_members_and_quota(run: Run, world: World, tmp_path: Path) -> None:
    _setup(run, world)
    out = tmp_path / "ml.yaml"
    run("export", "-w", "ml", "-f", str(out))
    docs = list(yaml.safe_load_all(out.read_text()))
    assert {d["apiVersion"] for d in docs} == {"dais/v1"}
    assert docs[0] == {
        "apiVersion": "dais/v1",
        "kind": "Workspace",
        "metadata": {"name": "ml"},
        "spec": {"name": "ML team", "description": "Models and data"},
    }
    members = {d["metadata"]["name"]: d["spec"]["role"] for d in docs if d["kind"] == "Member"}
    assert members == {"root-admin": "owner", "lee": "editor", "max": "viewer"}
    quota = next(d for d in docs if d["kind"] == "Quota")
    assert (quota["metadata"], quota["spec"]["max_gpus"], quota["spec"]["priority"]) == (
        {"workspace": "ml"},
        2,
        3,
    )
    assert run("export", "-w", "ml").stdout == out.read_text()


def test_apply_recreates_an_exported_workspace_and_a_second_apply_changes_nothing(
    run: Run, world: World, tmp_path: Path
) -> None:
    _setup(run, world)
    out = tmp_path / "ml.yaml"
    run("export", "-w", "ml", "-f", str(out))
    run("workspaces", "delete", "ml", "--yes")

    first = run("apply", "-f", str(out)).stdout
    assert "workspace/ml created" in first
    assert "member/ml/lee created" in first
    assert "quota/ml configured" in first
    again = run("apply", "-f", str(out)).stdout
    assert "No changes." in again
    assert "created" not in again
    assert "configured" not in again
    assert run("export", "-w", "ml").stdout == out.read_text()


def test_apply_updates_what_differs_and_reports_it(run: Run, world: World, tmp_path: Path) -> None:
    _setup(run, world)
    text = run("export", "-w", "ml").stdout
    docs = list(yaml.safe_load_all(text))
    docs[0]["spec"]["description"] = "Only models"
    next(d for d in docs if d["metadata"].get("name") == "max")["spec"]["role"] = "editor"
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump_all(docs))

    preview = as_json(run("apply", "-f", str(path), "--dry-run", "-o", "json"))
    assert [c["action"] for c in preview if c["action"] != "unchanged"] == ["configured", "configured"]
    assert as_json(run("workspaces", "get", "ml", "-o", "json"))["description"] == "Models and data"

    changes = {(c["kind"], c["name"]): c for c in as_json(run("apply", "-f", str(path), "-o", "json"))}
    assert changes[("Workspace", "ml")]["action"] == "configured"
    assert changes[("Member", "ml/max")]["details"] == ["role: viewer -> editor"]
    assert changes[("Member", "ml/lee")]["action"] == "unchanged"
    assert as_json(run("workspaces", "get", "ml", "-o", "json"))["description"] == "Only models"


def test_apply_refuses_bad_documents_clearly(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: dais/v1\nkind: Gadget\nmetadata: {name: x}\n")
    result = run("apply", "-f", str(bad), ok=False)
    assert result.exit_code == 1
    assert "Unknown kind 'Gadget'" in result.output
    bad.write_text("apiVersion: v0\nkind: Workspace\nmetadata: {name: x}\n")
    assert "apiVersion must be" in run("apply", "-f", str(bad), ok=False).output
    bad.write_text("apiVersion: dais/v1\nkind: Workspace\nmetadata: {name: x}\nspec: {colour: red}\n")
    result = run("apply", "-f", str(bad), ok=False)
    assert result.exit_code == 1
    assert "colour" in result.output
