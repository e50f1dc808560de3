"""Platform admin pages: users and every workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import Actor, World
from tests.e2e.helpers import confirm, log_in, nav, shot

pytestmark = pytest.mark.e2e


def test_users_and_workspaces(page: Page, world: World, admin: Actor, artifacts_dir: Path) -> None:
    world.workspace("vision", admin)
    world.workspace("forecasting", world.user("bob"))
    log_in(page, admin.username)

    nav(page, "Users")
    page.get_by_role("button", name="New user").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Username").fill("carol")
    dialog.get_by_label("Password").fill("carol-password-1")
    dialog.get_by_label("Display name").fill("Carol Chen")
    dialog.get_by_role("button", name="Create user").click()
    expect(page.get_by_text("User carol was created.")).to_be_visible()
    row = page.locator("tr.ant-table-row", has_text="carol")
    row.get_by_role("button", name="Make admin").click()
    confirm(page, "OK")
    expect(row).to_contain_text("admin")
    row.get_by_role("button", name="Deactivate").click()
    confirm(page, "Deactivate")
    expect(row).to_contain_text("deactivated")
    page.get_by_label("Search users").fill("zzz")
    page.get_by_label("Search users").press("Enter")
    expect(page.get_by_text("No user matches “zzz”.")).to_be_visible()
    page.get_by_label("Search users").fill("")
    page.get_by_label("Search users").press("Enter")
    expect(page.locator("tr.ant-table-row")).to_have_count(3)
    shot(page, artifacts_dir, "admin-users")

    nav(page, "Workspaces")
    rows = page.locator("tr.ant-table-row")
    expect(rows).to_have_count(2)
    expect(page.locator("tr.ant-table-row", has_text="forecasting")).to_contain_text("not a member")
    shot(page, artifacts_dir, "admin-workspaces")
    page.get_by_role("button", name="Delete forecasting").click()
    dialog = page.get_by_role("dialog")
    delete = dialog.get_by_role("button", name="Delete workspace")
    expect(delete).to_be_disabled()
    dialog.get_by_label("Workspace slug to confirm").fill("forecasting")
    delete.click()
    expect(page.get_by_text("Workspace forecasting was deleted.")).to_be_visible()
    expect(rows).to_have_count(1)

    page.get_by_role("button", name="New workspace").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Slug").fill("Not A Slug")
    dialog.get_by_role("button", name="Create workspace").click()
    expect(dialog).to_contain_text("Lower-case letters")
    dialog.get_by_label("Slug").fill("scratch")
    dialog.get_by_role("button", name="Create workspace").click()
    expect(page).to_have_url(re.compile(r"/w/scratch$"))
