"""API tokens from the account page: the secret is shown once, works, and stops working when revoked."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import choose, confirm, log_in, shot

pytestmark = pytest.mark.e2e


def test_create_use_and_revoke_a_token(
    page: Page, live_server: LiveServer, world: World, artifacts_dir: Path
) -> None:
    ada = world.user("ada")
    world.workspace("vision", ada)
    log_in(page, "ada")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("menuitem", name="Account").click()
    expect(page.get_by_role("heading", name="Account")).to_be_visible()

    page.get_by_role("button", name="New token").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("laptop CLI")
    choose(page, dialog.get_by_label("Token workspace"), "vision")
    choose(page, dialog.get_by_label("Token expiry"), "30 days")
    dialog.get_by_role("button", name="Create token").click()
    secret = page.get_by_test_id("token-secret").inner_text().strip()
    assert secret
    shot(page, artifacts_dir, "token-secret")

    me = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200, me.text
    assert me.json()["user"]["username"] == "ada"
    assert me.json()["token_workspace"] == "vision"

    page.get_by_role("button", name="I have stored it").click()
    expect(page.get_by_test_id("token-secret")).to_be_hidden()
    row = page.locator("tr.ant-table-row", has_text="laptop CLI")
    expect(row).to_contain_text("vision")
    page.reload()
    expect(row).to_contain_text("ago")  # last used
    shot(page, artifacts_dir, "account")

    row.get_by_role("button", name="Revoke laptop CLI").click()
    confirm(page, "Revoke")
    expect(page.get_by_text("Token “laptop CLI” was revoked.")).to_be_visible()
    expect(row).to_be_hidden()
    gone = httpx.get(f"{live_server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert gone.status_code == 401
    page.get_by_label("Show revoked tokens").click()
    expect(row).to_contain_text("revoked")
    shot(page, artifacts_dir, "account-revoked")
