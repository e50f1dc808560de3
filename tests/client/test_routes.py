"""Every route the SDK calls exists in the server's OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI

import dais.client
from dais.client import routes


def test_every_sdk_route_is_in_the_openapi_document(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    declared = routes()
    assert len(declared) >= 20
    missing = [
        f"{r.method} {r.template}"
        for r in sorted(declared, key=lambda r: (r.template, r.method))
        if r.method.lower() not in paths.get(r.template, {})
    ]
    assert missing == []


def test_route_templates_escape_values_but_keep_slashes_in_artifact_keys() -> None:
    route = dais.client.Route("GET", "/api/v1/workspaces/{workspace}/artifacts/{key}")
    assert route.path({"workspace": "a/b", "key": "data/my file.csv"}) == (
        "/api/v1/workspaces/a%2Fb/artifacts/data/my%20file.csv"
    )


def test_sdk_public_names_are_curated() -> None:
    assert set(dais.client.__all__) <= set(dir(dais.client))
    assert "Client" in dais.client.__all__
