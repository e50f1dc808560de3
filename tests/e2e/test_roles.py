"""What a viewer sees: no buttons that change things, and the API's own message where it says no."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from tests.e2e.helpers import log_in, nav, shot

pytestmark = pytest.mark.e2e


def test_viewer_sees_no_mutations(page: Page, world: World, artifacts_dir: Path) -> None:
    ada = world.user("ada")
    world.user("vic")
    world.workspace("vision", ada, members={"vic": "viewer"})
    log_in(page, "vic")
    expect(page.get_by_test_id("your-role")).to_contain_text("viewer")

    nav(page, "Members")
    expect(page.locator("tr.ant-table-row")).to_have_count(2)
    expect(page.get_by_role("button", name="Add member")).to_have_count(0)
    expect(page.get_by_role("button", name="Remove")).to_have_count(0)
    expect(page.locator(".ant-layout-sider")).not_to_contain_text("Audit log")
    shot(page, artifacts_dir, "members-viewer")

    nav(page, "Quota")
    expect(page.get_by_text("Only platform admins can change quotas.")).to_be_visible()
    expect(page.get_by_role("button", name="Edit quota")).to_have_count(0)

    page.goto("/w/vision/settings/audit")
    expect(page.get_by_test_id("error-detail")).to_contain_text("Your role in workspace 'vision' is viewer")
    shot(page, artifacts_dir, "audit-forbidden")

    page.goto("/w/someone-elses/settings/members")
    expect(page.get_by_test_id("error-detail")).to_contain_text("not found")
    shot(page, artifacts_dir, "workspace-not-found")
