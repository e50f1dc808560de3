"""The registry service on the metadata database (SQLite, and PostgreSQL with DAIS_TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dais import registry
from dais.core.errors import NotFound, PermissionDenied
from dais.db import Database
from dais.registry import (
    LoggedModelNotFound,
    ModelVersionNotFound,
    RegisteredModelExists,
    RegisteredModelNotFound,
    RegistryInvalid,
)
from dais.tenancy import WorkspaceAccess, require_workspace
from dais.tenancy.access import Principal
from dais.tenancy.models import AuditEvent
from dais.tenancy.service import get_user
from tests.conftest import World

Access = Callable[[Session, str, str], WorkspaceAccess]


@pytest.fixture
def access(db: Database, world: World) -> Access:
    """``access(session, username, workspace)``; alice owns ``ml`` (vera views it), bob owns ``other``."""
    alice, bob, vera = world.user("alice"), world.user("bob"), world.user("vera")
    world.workspace("ml", alice, {"vera": "viewer"})
    world.workspace("other", bob)
    del vera

    def make(s: Session, username: str, workspace: str) -> WorkspaceAccess:
        return require_workspace(s, Principal(get_user(s, username), "password"), workspace)

    return make


@pytest.fixture
def s(db: Database) -> Iterator[Session]:
    with db.session() as session:
        yield session


def _resolver(run_id: str) -> str:
    if run_id != "0123456789abcdef0123456789abcdef":
        raise NotFound(f"Run with id={run_id} not found")
    return f"mlflow/1/{run_id}/artifacts"


RUN = "0123456789abcdef0123456789abcdef"


def test_registered_models_crud_tags_audit_and_isolation(s: Session, access: Access) -> None:
    a = access(s, "alice", "ml")
    m = registry.create_registered_model(s, a, "churn", tags={"team": "risk"}, description="first")
    assert (m.name, m.description, m.user_id) == ("churn", "first", "alice")
    with pytest.raises(RegisteredModelExists, match=r"Registered Model \(name=churn\) already exists"):
        registry.create_registered_model(s, a, "churn")
    for bad in ("", "a/b", "a:b", ".."):
        with pytest.raises(RegistryInvalid):
            registry.create_registered_model(s, a, bad)

    registry.set_registered_model_tag(s, a, "churn", "stage", "beta")
    registry.delete_registered_model_tag(s, a, "churn", "team")
    registry.delete_registered_model_tag(s, a, "churn", "missing")  # a no-op, as in MLflow
    view = registry.model_views(s, [registry.get_registered_model(s, a, "churn")])[0]
    assert view.tags == {"stage": "beta"}

    registry.update_registered_model(s, a, "churn", "second")
    renamed = registry.rename_registered_model(s, a, "churn", "churn2")
    assert (renamed.name, renamed.description) == ("churn2", "second")
    with pytest.raises(RegisteredModelNotFound, match="name=churn not found"):
        registry.get_registered_model(s, a, "churn")

    # another workspace sees nothing of it and may use the same name
    b = access(s, "bob", "other")
    with pytest.raises(RegisteredModelNotFound):
        registry.get_registered_model(s, b, "churn2")
    registry.create_registered_model(s, b, "churn2")
    assert [r.name for r in registry.search_registered_models(s, b)[0]] == ["churn2"]
    # a viewer reads but cannot change
    v = access(s, "vera", "ml")
    assert registry.get_registered_model(s, v, "churn2").id == renamed.id
    with pytest.raises(PermissionDenied):
        registry.create_registered_model(s, v, "nope")

    registry.delete_registered_model(s, a, "churn2")
    with pytest.raises(RegisteredModelNotFound):
        registry.get_registered_model(s, a, "churn2")
    actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "registered_model")))
    assert {"registry.model.create", "registry.model.rename", "registry.model.delete"} <= actions


def test_versions_from_every_source_kind(s: Session, access: Access) -> None:
    a = access(s, "alice", "ml")
    registry.create_registered_model(s, a, "m")
    v1 = registry.create_model_version(s, a, "m", "mlflow-artifacts:/1/r/artifacts/model", tags={"k": "v"})
    assert (v1.version, v1.storage_key, v1.status, v1.current_stage) == (
        1,
        "mlflow/1/r/artifacts/model",
        "READY",
        "None",
    )
    v2 = registry.create_model_version(s, a, "m", f"runs:/{RUN}/model", resolve_run=_resolver)
    assert (v2.version, v2.run_id, v2.storage_key) == (2, RUN, f"mlflow/1/{RUN}/artifacts/model")
    logged = registry.create_logged_model(s, a, 1, name="lm", source_run_id=RUN)
    v3 = registry.create_model_version(s, a, "m", f"models:/{logged.id}")
    assert (v3.model_id, v3.run_id, v3.storage_key) == (
        logged.id,
        RUN,
        f"mlflow/1/models/{logged.id}/artifacts",
    )
    assert registry.download_uri(s, a, "m", 3) == f"mlflow-artifacts:/1/models/{logged.id}/artifacts"
    registry.set_alias(s, a, "m", "champion", 2)
    registry.create_registered_model(s, a, "copy")
    assert registry.create_model_version(s, a, "copy", "models:/m@champion").storage_key == v2.storage_key
    assert registry.create_model_version(s, a, "copy", "models:/m/1").storage_key == v1.storage_key
    view = registry.logged_model_views(s, [logged])[0]
    assert view.registrations == [("m", 3)]

    for bad, err in (
        ("s3://bucket/model", RegistryInvalid),
        ("file:///etc", RegistryInvalid),
        ("mlflow-artifacts:/1/../../x", RegistryInvalid),
        ("runs:/ffffffffffffffffffffffffffffffff/model", NotFound),
        ("models:/m-00000000000000000000000000000000", LoggedModelNotFound),
        ("models:/m/9", ModelVersionNotFound),
    ):
        with pytest.raises(err):
            registry.create_model_version(s, a, "m", bad, resolve_run=_resolver)
    with pytest.raises(RegistryInvalid, match="does not match"):
        registry.create_model_version(s, a, "m", f"runs:/{RUN}/model", run_id="x" * 32, resolve_run=_resolver)

    # numbers are never reused, even after deleting the newest version
    registry.delete_model_version(s, a, "m", 3)
    assert registry.create_model_version(s, a, "m", "mlflow-artifacts:/1/r/artifacts/m2").version == 4
    with pytest.raises(ModelVersionNotFound, match=r"\(name=m, version=3\) not found"):
        registry.get_model_version(s, a, "m", "3")
    with pytest.raises(RegistryInvalid, match="must be an integer"):
        registry.get_model_version(s, a, "m", "one")
    registry.set_model_version_tag(s, a, "m", 1, "k", "v2")
    registry.update_model_version(s, a, "m", 1, "described")
    registry.delete_model_version_tag(s, a, "m", 1, "missing")
    views = registry.version_views(s, [registry.get_model_version(s, a, "m", 1)])
    assert (views[0].tags, views[0].row.description) == ({"k": "v2"}, "described")
    # other workspaces cannot register from this one's logged models
    b = access(s, "bob", "other")
    registry.create_registered_model(s, b, "steal")
    with pytest.raises(LoggedModelNotFound):
        registry.create_model_version(s, b, "steal", f"models:/{logged.id}")


def test_aliases_move_with_history_and_stages(s: Session, access: Access) -> None:
    a = access(s, "alice", "ml")
    registry.create_registered_model(s, a, "m")
    for i in range(3):
        registry.create_model_version(s, a, "m", f"mlflow-artifacts:/1/r{i}/artifacts/model")
    registry.set_alias(s, a, "m", "prod", 1)
    registry.set_alias(s, a, "m", "prod", "2")
    registry.set_alias(s, a, "m", "prod", 2)  # unchanged: no event
    registry.set_alias(s, a, "m", "canary", 3)
    assert registry.get_version_by_alias(s, a, "m", "prod").version == 2
    assert registry.get_version_by_alias(s, a, "m", "latest").version == 3
    assert registry.resolve_models_uri(s, a, "models:/m@canary").version == 3
    for bad in ("latest", "v3", "a b", ""):
        with pytest.raises(RegistryInvalid):
            registry.set_alias(s, a, "m", bad, 1)
    with pytest.raises(RegistryInvalid, match="alias nope not found"):
        registry.get_version_by_alias(s, a, "m", "nope")
    with pytest.raises(ModelVersionNotFound):
        registry.set_alias(s, a, "m", "x", 7)

    registry.delete_model_version(s, a, "m", 3)  # takes its alias with it
    registry.delete_alias(s, a, "m", "prod")
    registry.delete_alias(s, a, "m", "prod")  # a no-op
    moves = [(e.alias, e.from_version, e.to_version, e.actor) for e in registry.alias_history(s, a, "m")]
    assert moves == [
        ("prod", None, 1, "alice"),
        ("prod", 1, 2, "alice"),
        ("canary", None, 3, "alice"),
        ("canary", 3, None, "alice"),
        ("prod", 2, None, "alice"),
    ]
    assert registry.model_views(s, [registry.get_registered_model(s, a, "m")])[0].aliases == {}

    registry.transition_stage(s, a, "m", 1, "production")
    registry.transition_stage(s, a, "m", 2, "Production", archive_existing_versions=True)
    stages = {v.version: v.current_stage for v in registry.search_model_versions(s, a, filter="name='m'")[0]}
    assert stages == {1: "Archived", 2: "Production"}
    assert [v.version for v in registry.get_latest_versions(s, a, "m", ["Production"])] == [2]
    assert [v.version for v in registry.get_latest_versions(s, a, "m")] == [1, 2]
    assert registry.resolve_models_uri(s, a, "models:/m/Production").version == 2
    with pytest.raises(RegistryInvalid, match="Invalid Model Version stage"):
        registry.transition_stage(s, a, "m", 1, "Gold")
    with pytest.raises(RegistryInvalid, match="not an Active stage"):
        registry.transition_stage(s, a, "m", 1, "Archived", archive_existing_versions=True)


def test_search_registered_models_and_versions(s: Session, access: Access) -> None:
    a = access(s, "alice", "ml")
    for name, team in (("Churn-A", "risk"), ("churn-b", "risk"), ("fraud", "ops")):
        registry.create_registered_model(s, a, name, tags={"team": team})
        registry.create_model_version(s, a, name, f"runs:/{RUN}/model", resolve_run=_resolver)
    registry.create_model_version(s, a, "fraud", "mlflow-artifacts:/1/x/artifacts/m", tags={"good": "yes"})
    registry.create_registered_model(s, a, "a-prompt", tags={"mlflow.prompt.is_prompt": "true"})

    def names(**kw: object) -> list[str]:
        return [m.name for m in registry.search_registered_models(s, a, **kw)[0]]  # type: ignore[arg-type]

    assert names() == ["Churn-A", "churn-b", "fraud"]  # prompts are left out, as in MLflow
    assert names(filter="name LIKE 'churn%'") == ["churn-b"]  # LIKE is case-sensitive on every database
    assert names(filter="name ILIKE 'churn%'") == ["Churn-A", "churn-b"]
    assert names(filter="tags.team = 'risk' AND name != 'churn-b'") == ["Churn-A"]
    assert names(filter="name IN ('fraud', 'Churn-A')") == ["Churn-A", "fraud"]
    assert names(filter="tags.`mlflow.prompt.is_prompt` = 'true'") == ["a-prompt"]
    # what the mlflow client adds to every search: plain models, the tag being absent on them
    plain = names(filter="name ILIKE '%a%' AND tags.`mlflow.prompt.is_prompt` != 'true'")
    assert plain == ["Churn-A", "fraud"]
    assert names(order_by=["name DESC"]) == ["fraud", "churn-b", "Churn-A"]
    assert names(order_by=["last_updated_timestamp DESC"])[0] == "fraud"
    page, token = registry.search_registered_models(s, a, max_results=2)
    assert [m.name for m in page] == ["Churn-A", "churn-b"]
    assert token
    assert names(page_token=token) == ["fraud"]
    for bad in ("name = 'x' OR name = 'y'", "nam = 'x'", "name = x", "tags.team > 'a'", "name LIKE"):
        with pytest.raises(RegistryInvalid):
            names(filter=bad)
    for bad_order in (["size"], ["name UP"], ["name", "name DESC"]):
        with pytest.raises(RegistryInvalid):
            names(order_by=bad_order)
    with pytest.raises(RegistryInvalid, match="page token"):
        names(page_token="not-a-token")
    with pytest.raises(RegistryInvalid, match="max_results"):
        names(max_results=5000)

    def versions(flt: str, **kw: object) -> list[tuple[str, int]]:
        rows = registry.search_model_versions(s, a, filter=flt, **kw)[0]  # type: ignore[arg-type]
        return [(v.name, v.row.version) for v in registry.version_views(s, rows)]

    assert versions("name = 'fraud'") == [("fraud", 2), ("fraud", 1)]
    assert versions(f"run_id = '{RUN}'") == [("Churn-A", 1), ("churn-b", 1), ("fraud", 1)]
    assert versions("tags.good = 'yes'") == [("fraud", 2)]
    assert versions("name = 'fraud' AND version_number > 1") == [("fraud", 2)]
    assert versions(f"run_id IN ('{RUN}') AND name ILIKE 'CHURN%'") == [("Churn-A", 1), ("churn-b", 1)]
    assert versions("source_path LIKE 'mlflow-artifacts:%'") == [("fraud", 2)]
    assert versions("name = 'fraud'", order_by=["version_number ASC"]) == [("fraud", 1), ("fraud", 2)]
    with pytest.raises(RegistryInvalid, match="Invalid attribute key"):
        versions("stage = 'x'")
    b = access(s, "bob", "other")
    assert registry.search_model_versions(s, b, filter="name = 'fraud'")[0] == []


def test_logged_models_lifecycle_and_search(s: Session, access: Access) -> None:
    a = access(s, "alice", "ml")
    m1 = registry.create_logged_model(
        s, a, 1, name="lgbm", model_type="classifier", params={"lr": "0.1"}, tags={"t": "x"}
    )
    m2 = registry.create_logged_model(s, a, 1, source_run_id=RUN)
    m3 = registry.create_logged_model(s, a, 2, name="other-exp")
    assert m1.id.startswith("m-")
    assert len(m1.id) == 34
    assert m1.artifact_location == f"mlflow-artifacts:/1/models/{m1.id}/artifacts"
    assert m2.name  # a random friendly name
    assert m1.status == "PENDING"
    assert registry.finalize_logged_model(s, a, m1.id, "LOGGED_MODEL_READY").status == "READY"
    assert registry.finalize_logged_model(s, a, m2.id, 3).status == "FAILED"
    with pytest.raises(RegistryInvalid):
        registry.finalize_logged_model(s, a, m1.id, "DONE")
    registry.set_logged_model_tags(s, a, m1.id, {"t": "y", "u": "1"})
    registry.delete_logged_model_tag(s, a, m1.id, "u")
    with pytest.raises(LoggedModelNotFound, match="No tag with key"):
        registry.delete_logged_model_tag(s, a, m1.id, "u")
    registry.log_logged_model_params(s, a, m1.id, {"lr": "0.1", "depth": "3"})
    with pytest.raises(RegistryInvalid, match="Changing param values is not allowed"):
        registry.log_logged_model_params(s, a, m1.id, {"lr": "0.2"})
    view = registry.logged_model_views(s, [registry.get_logged_model(s, a, m1.id)])[0]
    assert (view.tags, view.params) == ({"t": "y"}, {"lr": "0.1", "depth": "3"})

    def found(flt: str | None = None, exps: tuple[int, ...] = (1, 2), **kw: object) -> list[str]:
        rows = registry.search_logged_models(s, a, exps, filter=flt, **kw)[0]  # type: ignore[arg-type]
        return [r.name for r in rows]

    assert sorted(found()) == sorted([m1.name, m2.name, m3.name])
    assert found("params.lr = '0.1' AND tags.t = 'y'") == ["lgbm"]
    assert found("status = 'READY'") == ["lgbm"]
    assert found(f"source_run_id = '{RUN}'") == [m2.name]
    assert found("name LIKE 'other%'", exps=(1,)) == []
    assert found(order_by=[("name", True)]) == sorted([m1.name, m2.name, m3.name])
    with pytest.raises(RegistryInvalid, match="metrics is not available"):
        found("metrics.acc > 0.5")
    with pytest.raises(RegistryInvalid):
        found(order_by=[("metrics.acc", True)])
    page, token = registry.search_logged_models(s, a, [1, 2], max_results=2)
    assert len(page) == 2
    assert token
    assert len(registry.search_logged_models(s, a, [1, 2], page_token=token)[0]) == 1

    registry.delete_logged_model(s, a, m3.id)
    with pytest.raises(LoggedModelNotFound):
        registry.get_logged_model(s, a, m3.id)
    assert registry.get_logged_model(s, a, m3.id, allow_deleted=True).lifecycle_stage == "deleted"
    b = access(s, "bob", "other")
    with pytest.raises(LoggedModelNotFound):
        registry.get_logged_model(s, b, m1.id)
    assert registry.search_logged_models(s, b, [1, 2])[0] == []


def test_migration_matches_the_registry_tables(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from dais.db.base import Base

    tables = {
        t.name for t in Base.metadata.sorted_tables if t.name.startswith(("registered_", "model_", "logged_"))
    }
    assert len(tables) == 9
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diff if any(t in str(d) for t in tables)] == []
