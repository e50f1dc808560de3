"""Browser sessions: password login cookies, CSRF, logout, one-time login links."""

from __future__ import annotations

from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from dais.app import create_app
from dais.db import Database, utcnow
from dais.tenancy.models import LoginLink
from tests.conftest import World, make_settings


def set_cookies(response) -> dict[str, SimpleCookie]:  # type: ignore[no-untyped-def]
    out = {}
    for header in response.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        for name in jar:
            out[name] = jar
    return out


def login(client: TestClient, username: str = "alice", password: str = "alice-password"):  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r


def test_login_sets_http_only_same_site_session_cookie(client: TestClient, world: World) -> None:
    world.user("alice", password="alice-password")
    r = login(client)
    assert r.json()["user"]["username"] == "alice"
    assert r.json()["auth"] == "session"
    cookies = set_cookies(r)
    session = cookies["dais_session"]["dais_session"]
    assert session["httponly"]
    assert session["samesite"].lower() == "lax"
    assert session["path"] == "/"
    assert not session["secure"]  # the test settings turn cookie_secure off
    csrf = cookies["dais_csrf"]["dais_csrf"]
    assert not csrf["httponly"]  # the UI reads it to echo it in X-CSRF-Token
    assert csrf["samesite"].lower() == "strict"
    assert session.value.startswith("dais_s_")
    assert csrf.value
    assert csrf.value != session.value


def test_session_cookies_are_secure_when_cookie_secure_is_on(
    tmp_path: Path, db_url: str, world: World
) -> None:
    world.user("alice", password="alice-password")
    settings = make_settings(tmp_path / "home", db_url)
    settings.api.cookie_secure = True
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        cookies = set_cookies(login(client))
    assert cookies["dais_session"]["dais_session"]["secure"]
    assert cookies["dais_csrf"]["dais_csrf"]["secure"]


def test_session_cookie_authenticates_safe_requests(client: TestClient, world: World) -> None:
    world.user("alice", password="alice-password")
    login(client)
    r = client.get("/api/v1/me")
    assert r.status_code == 200
    assert r.json()["auth"] == "session"


def test_unsafe_request_by_cookie_needs_the_csrf_header(client: TestClient, world: World) -> None:
    world.user("alice", password="alice-password")
    login(client)
    r = client.post("/api/v1/workspaces", json={"slug": "team-a"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert "CSRF" in r.json()["detail"]
    r = client.post("/api/v1/workspaces", json={"slug": "team-a"}, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 401
    csrf = client.cookies["dais_csrf"]
    r = client.post("/api/v1/workspaces", json={"slug": "team-a"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "owner"


def test_csrf_value_of_another_session_is_refused(client: TestClient, world: World, app) -> None:  # type: ignore[no-untyped-def]
    world.user("alice", password="alice-password")
    with TestClient(app) as other:
        login(other)
        other_csrf = other.cookies["dais_csrf"]
    login(client)
    r = client.post("/api/v1/workspaces", json={"slug": "team-a"}, headers={"X-CSRF-Token": other_csrf})
    assert r.status_code == 401


def test_logout_ends_the_session(client: TestClient, world: World) -> None:
    world.user("alice", password="alice-password")
    login(client)
    session = client.cookies["dais_session"]
    csrf = client.cookies["dais_csrf"]
    assert client.post("/api/v1/auth/logout").status_code == 401  # CSRF applies to logout too
    r = client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert "dais_session" not in client.cookies
    # The old cookie, replayed, no longer works: the session is gone on the server.
    client.cookies.set("dais_session", session)
    r = client.get("/api/v1/me")
    assert r.status_code == 401
    assert "session" in r.json()["detail"]


def test_expired_session_gets_401(client: TestClient, world: World, db: Database) -> None:
    from dais.tenancy.models import AuthSession

    world.user("alice", password="alice-password")
    login(client)
    with db.session() as s:
        s.execute(update(AuthSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert client.get("/api/v1/me").status_code == 401


def _login_link(client: TestClient, headers: dict[str, str], username: str | None = None) -> str:
    params = {"username": username} if username else {}
    r = client.post("/api/v1/auth/login-links", params=params, headers=headers)
    assert r.status_code == 201, r.text
    url: str = r.json()["url"]
    assert "/login/link/" in url
    return url[url.index("/login/link/") :]


def test_login_link_works_once(client: TestClient, world: World) -> None:
    alice = world.user("alice")
    path = _login_link(client, alice.headers)
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    assert "dais_session" in set_cookies(r)
    assert client.get("/api/v1/me").json()["user"]["username"] == "alice"
    client.cookies.clear()
    again = client.get(path, follow_redirects=False)
    assert again.status_code == 303
    assert again.headers["location"] == "/login?link=expired"
    assert "dais_session" not in set_cookies(again)
    assert client.get("/api/v1/me").status_code == 401


def test_expired_login_link_fails(client: TestClient, world: World, db: Database) -> None:
    alice = world.user("alice")
    path = _login_link(client, alice.headers)
    with db.session() as s:
        s.execute(update(LoginLink).values(expires_at=utcnow() - timedelta(seconds=1)))
    r = client.get(path, follow_redirects=False)
    assert r.headers["location"] == "/login?link=expired"
    assert client.get("/api/v1/me").status_code == 401


def test_unknown_login_link_fails(client: TestClient) -> None:
    r = client.get("/login/link/dais_l_made-up", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?link=expired"


def test_only_platform_admins_make_login_links_for_others(client: TestClient, world: World, admin) -> None:  # type: ignore[no-untyped-def]
    alice = world.user("alice")
    world.user("bob")
    r = client.post("/api/v1/auth/login-links", params={"username": "bob"}, headers=alice.headers)
    assert r.status_code == 403
    path = _login_link(client, admin.headers, "bob")
    client.get(path, follow_redirects=False)
    assert client.get("/api/v1/me").json()["user"]["username"] == "bob"


def test_login_link_for_deactivated_user_fails(client: TestClient, world: World, admin) -> None:  # type: ignore[no-untyped-def]
    world.user("bob")
    path = _login_link(client, admin.headers, "bob")
    assert (
        client.patch("/api/v1/users/bob", json={"is_active": False}, headers=admin.headers).status_code == 200
    )
    r = client.get(path, follow_redirects=False)
    assert r.headers["location"] == "/login?link=expired"
    assert client.get("/api/v1/me").status_code == 401
