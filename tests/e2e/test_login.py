"""Logging in and out of the web UI."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import log_in, shot

pytestmark = pytest.mark.e2e


def test_wrong_password_shows_the_api_message(page: Page, world: World, artifacts_dir: Path) -> None:
    world.user("ada")
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=%2F$"))
    shot(page, artifacts_dir, "login")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("not-her-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("password")
    expect(page).to_have_url(re.compile(r"/login"))
    shot(page, artifacts_dir, "login-wrong-password")


def test_log_in_and_out(page: Page, world: World, artifacts_dir: Path) -> None:
    ada = world.user("ada")
    world.workspace("vision", ada)
    log_in(page, "ada")
    expect(page).to_have_url(re.compile(r"/w/vision$"))
    expect(page.get_by_test_id("your-role")).to_contain_text("owner")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    # The session is gone: any page sends you back to the login form, and then to that page.
    page.goto("/w/vision/settings/members")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("password-123")
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/w/vision/settings/members$"))


def test_one_time_login_link(page: Page, live_server: LiveServer, world: World, artifacts_dir: Path) -> None:
    ada = world.user("ada")
    world.workspace("vision", ada)
    reply = httpx.post(f"{live_server.url}/api/v1/auth/login-links", headers=ada.headers)
    assert reply.status_code == 201, reply.text
    link = reply.json()["url"]
    assert link.startswith(live_server.url)

    page.goto(link)
    expect(page).to_have_url(re.compile(r"/w/vision$"))
    expect(page.get_by_test_id("user-menu")).to_contain_text("ada")
    shot(page, artifacts_dir, "after-login-link")

    page.goto(link)  # a link works once
    expect(page).to_have_url(re.compile(r"/login\?link=expired$"))
    expect(page.get_by_test_id("link-expired")).to_be_visible()
    shot(page, artifacts_dir, "login-link-expired")
