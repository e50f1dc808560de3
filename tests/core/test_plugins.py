"""Plugin registries: lazy built-ins, entry points, and broken plugins that warn instead of crash."""

from __future__ import annotations

import logging

import pytest

from dais.core.errors import NotFound, PluginError
from dais.core.plugins import Registry
from dais.storage.stores.local import LocalArtifactStore
from dais.storage.stores.s3 import S3ArtifactStore

GOOD = "dais.storage.stores.local:LocalArtifactStore"


def test_broken_builtin_warns_is_listed_and_others_still_load(caplog: pytest.LogCaptureFixture) -> None:
    reg: Registry[type] = Registry(
        "dais.test_kind",
        builtins={"good": GOOD, "broken": "dais.no_such_module:Thing", "typo": "dais.core.errors:NoSuchName"},
    )
    with caplog.at_level(logging.WARNING, logger="dais.core.plugins"):
        infos = {i.name: i for i in reg.load_all()}
    assert infos["good"].loaded
    assert infos["good"].error is None
    assert reg.get("good") is LocalArtifactStore
    for name in ("broken", "typo"):
        assert not infos[name].loaded
        assert infos[name].error
    assert "ModuleNotFoundError" in (infos["broken"].error or "")
    assert "AttributeError" in (infos["typo"].error or "")
    warned = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert any("broken" in r.getMessage() for r in warned)
    with pytest.raises(PluginError) as err:
        reg.get("broken")
    assert "broken" in str(err.value)
    assert err.value.status == 500


def test_plugins_load_lazily() -> None:
    reg: Registry[type] = Registry("dais.test_kind", builtins={"broken": "dais.no_such_module:Thing"})
    assert reg.names() == ["broken"]
    assert "broken" in reg
    (info,) = reg.infos()
    assert not info.loaded
    assert info.error is None  # nothing was imported yet


def test_unknown_plugin_is_not_found_naming_the_known_ones() -> None:
    reg: Registry[type] = Registry("dais.test_kind", builtins={"good": GOOD})
    with pytest.raises(NotFound) as err:
        reg.get("nope")
    assert "good" in str(err.value)


def test_registering_an_object_or_a_target() -> None:
    reg: Registry[object] = Registry("dais.test_kind")
    marker = object()
    reg.register("obj", marker)
    reg.register("lazy", GOOD)
    assert reg.get("obj") is marker
    assert reg.get("lazy") is LocalArtifactStore
    assert list(reg) == ["lazy", "obj"]


def test_entry_points_are_discovered() -> None:
    reg: Registry[type] = Registry("dais.artifact_stores")
    infos = {i.name: i for i in reg.infos()}
    assert {"file", "s3"} <= set(infos)
    assert infos["file"].source == "entry-point"
    assert reg.get("file") is LocalArtifactStore
    assert reg.get("s3") is S3ArtifactStore


def test_builtins_and_matching_entry_points_are_listed_once() -> None:
    from dais.storage import artifact_stores

    infos = artifact_stores().infos()
    names = [i.name for i in infos]
    assert len(names) == len(set(names))
    assert {"file", "s3"} <= set(names)


def test_plugins_endpoint_lists_every_kind(client, admin) -> None:  # type: ignore[no-untyped-def]
    r = client.get("/api/v1/plugins", headers=admin.headers)
    assert r.status_code == 200
    rows = {(p["group"], p["name"]): p for p in r.json()}
    assert rows[("dais.artifact_stores", "file")]["loaded"]
    assert rows[("dais.artifact_stores", "s3")]["loaded"]
    assert ("dais.identity_providers", "local") in rows
