"""Workspaces in the web UI: create one, manage its members and quota, read its audit log."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Actor, World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import choose, log_in, nav, shot

pytestmark = pytest.mark.e2e


def test_create_a_workspace_and_manage_it(
    page: Page, live_server: LiveServer, world: World, admin: Actor, artifacts_dir: Path
) -> None:
    world.user("bob")
    log_in(page, admin.username)
    expect(page.get_by_test_id("no-workspace")).to_be_visible()
    shot(page, artifacts_dir, "welcome")

    page.get_by_role("button", name="Create a workspace").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Slug").fill("vision")
    dialog.get_by_label("Name").fill("Computer vision")
    dialog.get_by_label("Description").fill("Defect detection on the assembly line.")
    dialog.get_by_role("button", name="Create workspace").click()
    expect(page).to_have_url(re.compile(r"/w/vision$"))
    expect(page.get_by_test_id("your-role")).to_contain_text("owner")
    expect(page.get_by_test_id("member-count")).to_contain_text("1")
    shot(page, artifacts_dir, "overview")

    # Add a member with a role, then change the role.
    nav(page, "Members")
    page.get_by_label("Username to add").fill("bob")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_text("bob is now viewer of this workspace.")).to_be_visible()
    choose(page, page.get_by_test_id("role-bob"), "editor")
    expect(page.get_by_text("bob is now editor.")).to_be_visible()
    members = httpx.get(f"{live_server.url}/api/v1/workspaces/vision/members", headers=admin.headers).json()
    assert {m["username"]: m["role"] for m in members["items"]} == {admin.username: "owner", "bob": "editor"}
    # A mistake shows the API's message.
    page.get_by_label("Username to add").fill("nobody-here")
    page.get_by_role("button", name="Add member").click()
    expect(page.get_by_test_id("inline-error")).to_contain_text("nobody-here")
    shot(page, artifacts_dir, "members")

    # Platform admins edit the quota.
    nav(page, "Quota")
    page.get_by_role("button", name="Edit quota").click()
    page.get_by_label("Concurrent jobs").fill("4")
    page.get_by_label("GPUs").fill("1")
    page.get_by_label("Memory (MiB)").fill("16384")
    page.get_by_role("button", name="Save quota").click()
    expect(page.get_by_text("Quota saved.")).to_be_visible()
    expect(page.locator(".ant-descriptions")).to_contain_text("16 GiB")
    shot(page, artifacts_dir, "quota")

    # The audit log has all of it, and filters by action.
    nav(page, "Audit log")
    table = page.locator(".ant-table-tbody")
    expect(table).to_contain_text("member.add")
    expect(table).to_contain_text("quota.update")
    page.get_by_label("Filter by action").fill("member.update")
    page.get_by_label("Filter by action").press("Enter")
    expect(table.locator("tr.ant-table-row")).to_have_count(1)
    expect(table).to_contain_text("member.update")
    shot(page, artifacts_dir, "audit")

    # Areas not built yet say what they will do.
    nav(page, "Labeling")
    expect(page.get_by_test_id("coming")).to_contain_text("Image tools (class, box, polygon)")
    shot(page, artifacts_dir, "coming-labeling")
