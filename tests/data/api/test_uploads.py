"""Resumable uploads: chunks with Content-Range, a lost chunk resumed from the offset GET reports,
repeats and overlaps accepted, completion into the workspace's artifacts, and registering the file."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.data.api.helpers import OTHER, WS, Team, register

CONTENT = ("id,word\n" + "".join(f"{i},w{i}\n" for i in range(20))).encode()


def _put(api: TestClient, team: Team, upload_id: str, start: int, end: int, body: bytes | None = None) -> Any:
    data = CONTENT[start:end] if body is None else body
    return api.put(
        f"{WS}/uploads/{upload_id}",
        headers={**team.h, "Content-Range": f"bytes {start}-{end - 1}/{len(CONTENT)}"},
        content=data,
    )


def _open(api: TestClient, team: Team, name: str = "words.csv") -> dict[str, object]:
    r = api.post(f"{WS}/uploads", headers=team.h, json={"filename": name, "size": len(CONTENT)})
    assert r.status_code == 201, r.text
    body: dict[str, object] = r.json()
    assert body["received"] == 0
    assert body["state"] == "open"
    return body


@pytest.mark.slow
def test_resumable_upload_then_register(api: TestClient, team: Team, data_worker: None) -> None:
    up = _open(api, team)
    uid = str(up["id"])
    assert int(str(up["chunk_size"])) > 0
    r = _put(api, team, uid, 0, 40)
    assert r.status_code == 200, r.text
    # the chunk 40-80 is "lost": the next one leaves a gap and is refused with the offset to resume from
    r = _put(api, team, uid, 80, 120)
    assert r.status_code == 409
    assert r.json()["received"] == 40
    offset = api.get(f"{WS}/uploads/{uid}", headers=team.h).json()["received"]
    assert offset == 40
    assert _put(api, team, uid, offset, 80).status_code == 200
    assert _put(api, team, uid, 0, 40).json()["received"] == 80  # a repeat
    r = _put(api, team, uid, 60, 120)  # overlaps what arrived: only the new bytes count
    assert r.json()["received"] == 120
    r = api.post(f"{WS}/uploads/{uid}/complete", headers=team.h)
    assert r.status_code == 409  # not all there yet
    assert _put(api, team, uid, 120, len(CONTENT)).json()["received"] == len(CONTENT)
    r = api.post(f"{WS}/uploads/{uid}/complete", headers=team.h)
    assert r.status_code == 200, r.text
    key = r.json()["key"]
    assert key == f"uploads/{uid}/words.csv"
    assert r.json()["state"] == "complete"
    assert api.get(f"{WS}/artifacts/{key}", headers=team.h).content == CONTENT
    listing = api.get(f"{WS}/artifacts", params={"prefix": f"uploads/{uid}/"}, headers=team.h).json()
    assert [i["key"] for i in listing["items"]] == [key]  # the parts are gone
    job = register(api, team.h, "words", {"path": key}, connection=None)
    assert job["state"] == "succeeded", job["error"]
    ds = api.get(f"{WS}/datasets/words", headers=team.h).json()
    assert ds["connection"] is None
    rows = api.get(f"{WS}/datasets/words/sample", headers=team.h).json()["rows"]
    assert len(rows) == 20
    assert rows[3]["word"] == "w3"
    assert api.delete(f"{WS}/uploads/{uid}", headers=team.h).status_code == 409


def test_upload_bad_input(api: TestClient, team: Team) -> None:
    for name in ("a/b.csv", "../x", ".hidden", ""):
        r = api.post(f"{WS}/uploads", headers=team.h, json={"filename": name, "size": 3})
        assert r.status_code == 422, name
    uid = str(_open(api, team)["id"])
    r = api.put(f"{WS}/uploads/{uid}", headers=team.h, content=b"abc")
    assert r.status_code == 400
    assert "Content-Range" in r.json()["detail"]
    r = api.put(f"{WS}/uploads/{uid}", headers={**team.h, "Content-Range": "bytes 0-2/5"}, content=b"abc")
    assert r.status_code == 400  # wrong total
    r = _put(api, team, uid, 0, 40, body=CONTENT[:10])
    assert r.status_code == 400  # shorter than announced
    assert api.get(f"{WS}/uploads/{uid}", headers=team.h).json()["received"] == 0
    assert api.get(f"{WS}/uploads/nope", headers=team.h).status_code == 404
    assert api.delete(f"{WS}/uploads/{uid}", headers=team.h).status_code == 204
    r = _put(api, team, uid, 0, 40)
    assert r.status_code == 409  # aborted


def test_uploads_need_an_editor_and_stay_in_their_workspace(api: TestClient, team: Team) -> None:
    uid = str(_open(api, team)["id"])
    v = team.victor.headers
    assert api.get(f"{WS}/uploads/{uid}", headers=v).status_code == 200
    assert api.post(f"{WS}/uploads", headers=v, json={"filename": "x.csv", "size": 1}).status_code == 403
    r = api.put(f"{WS}/uploads/{uid}", headers={**v, "Content-Range": "bytes 0-0/1"}, content=b"x")
    assert r.status_code == 403
    assert api.post(f"{WS}/uploads/{uid}/complete", headers=v).status_code == 403
    e = team.eve.headers
    assert api.get(f"{OTHER}/uploads/{uid}", headers=e).status_code == 404
    r = api.put(
        f"{OTHER}/uploads/{uid}",
        headers={**e, "Content-Range": f"bytes 0-9/{len(CONTENT)}"},
        content=CONTENT[:10],
    )
    assert r.status_code == 404
    assert api.delete(f"{OTHER}/uploads/{uid}", headers=e).status_code == 404
