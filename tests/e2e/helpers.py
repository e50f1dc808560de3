"""Small steps the browser tests share."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect


def shot(page: Page, folder: Path, name: str) -> None:
    """A full-page screenshot for a person to look at, once the page has settled."""
    expect(page.get_by_test_id("loading")).to_have_count(0)
    expect(page.locator(".ant-spin-spinning")).to_have_count(0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(
        path=folder / f"{name}.png",
        full_page=True,
        animations="disabled",
        style=".ant-message { visibility: hidden; }",  # passing toasts would cover the header
    )


def log_in(page: Page, username: str, password: str = "password-123") -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page).not_to_have_url(re.compile(r"/login"))
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def choose(page: Page, select: Locator, option: str) -> None:
    """Pick ``option`` in an Ant Design select, and wait until it shows as chosen."""
    select.click()
    dropdown = page.locator(".ant-select-dropdown:not(.ant-select-dropdown-hidden)")
    expect(dropdown).to_be_visible()
    dropdown.locator(".ant-select-item-option").filter(
        has_text=re.compile(rf"^{re.escape(option)}")
    ).first.click()
    expect(dropdown).to_be_hidden()
    expect(
        select.locator("xpath=ancestor-or-self::*[contains(concat(' ', @class, ' '), ' ant-select ')][1]")
    ).to_contain_text(option)


def confirm(page: Page, button: str) -> None:
    """Press ``button`` in the open confirmation pop-up."""
    page.locator(".ant-popconfirm:visible").get_by_role("button", name=button).click()


def nav(page: Page, label: str) -> None:
    """Follow a sidebar link."""
    page.locator(".ant-layout-sider").get_by_role("link", name=label, exact=True).click()
