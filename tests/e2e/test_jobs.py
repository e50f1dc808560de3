"""Jobs in the web UI: submit and live log, DAG graph, cancel, workers, schedules, notifications."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from dais.jobs.worker import JobWorker
from tests.conftest import Actor, World
from tests.e2e.conftest import LiveServer
from tests.e2e.helpers import confirm, log_in, nav, shot
from tests.jobs.receivers import webhook_receiver

pytestmark = pytest.mark.e2e


def _pick(page: Page, select: Locator, option: str) -> None:
    """Choose ``option`` in an Ant Design select inside a drawer that may still be sliding in."""
    root = select.locator("xpath=ancestor-or-self::*[contains(concat(' ', @class, ' '), ' ant-select ')][1]")
    for _ in range(3):
        select.click()
        dropdown = page.locator(
            ".ant-select-dropdown:not(.ant-select-dropdown-hidden):not(.ant-slide-up-leave)"
        )
        expect(dropdown).to_be_visible()
        dropdown.locator(".ant-select-item-option").filter(
            has_text=re.compile(rf"^{re.escape(option)}")
        ).first.click()
        try:
            expect(root).to_contain_text(option, timeout=1500)
            return
        except AssertionError:
            page.keyboard.press("Escape")
    expect(root).to_contain_text(option)


def _submit(server: LiveServer, actor: Actor, path: str, body: dict[str, object]) -> dict[str, object]:
    response = httpx.post(f"{server.url}/api/v1/workspaces/ml/{path}", json=body, headers=actor.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_submit_a_job_from_the_form_and_follow_its_log(
    page: Page, live_server: LiveServer, job_worker: JobWorker, world: World, artifacts_dir: Path
) -> None:
    ada = world.user("ada")
    world.workspace("ml", ada)
    log_in(page, "ada")
    nav(page, "Jobs")
    expect(page).to_have_url(re.compile(r"/w/ml/jobs$"))
    expect(page.locator(".ant-empty")).to_contain_text("No jobs have run in this workspace yet.")
    shot(page, artifacts_dir, "jobs-empty")

    # The form is drawn from the kind's spec schema.
    page.get_by_role("button", name="Submit job").click()
    drawer = page.get_by_role("dialog")
    _pick(page, page.get_by_test_id("job-kind"), "sleep")
    expect(drawer).to_contain_text("Parameters of sleep")
    drawer.get_by_label("Name").fill("nap")
    drawer.get_by_label("Seconds").fill("3")
    drawer.get_by_label("Steps").fill("6")
    drawer.get_by_label("Output").fill("tick")
    drawer.get_by_label("CPUs").fill("2")
    page.screenshot(path=artifacts_dir / "submit-drawer.png", animations="disabled")
    drawer.get_by_role("button", name="Submit job").click()

    # The detail page: running, progress moving, the log growing while it runs.
    expect(page).to_have_url(re.compile(r"/w/ml/jobs/[0-9a-z]+$"))
    state = page.get_by_test_id("detail-state").get_by_test_id("job-state")
    expect(state).to_have_attribute("data-state", "running")
    log = page.get_by_test_id("job-log")
    expect(log).to_contain_text("tick")
    expect(page.get_by_test_id("log-live")).to_be_visible()
    expect(state).to_have_attribute("data-state", "running")  # the lines came in while it ran
    expect(page.get_by_test_id("progress-message")).to_contain_text(re.compile(r"step \d+ of 6"))
    page.screenshot(path=artifacts_dir / "job-running.png", full_page=True, animations="disabled")

    expect(state).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(log).to_have_attribute("data-status", "done")
    assert log.inner_text().count("tick") == 6
    expect(page.get_by_test_id("job-result")).to_contain_text('"slept": 3')
    expect(page.locator(".ant-table-tbody")).to_contain_text("succeeded")
    shot(page, artifacts_dir, "job-succeeded")

    # The list shows it finished, and filters by state.
    page.get_by_role("link", name="Jobs", exact=True).first.click()
    row = page.locator("tr.ant-table-row").filter(has_text="nap")
    expect(row.get_by_test_id("job-state")).to_have_attribute("data-state", "succeeded")
    states = page.get_by_test_id("state-filter")
    _pick(page, states, "failed")
    page.keyboard.press("Escape")
    expect(page.locator(".ant-empty")).to_contain_text("No jobs match these filters.")
    states.hover()
    states.locator(".ant-select-clear").click()
    expect(row).to_be_visible()
    shot(page, artifacts_dir, "jobs-list")


def test_dag_graph_workers_and_cancel(
    page: Page, live_server: LiveServer, job_worker: JobWorker, world: World, artifacts_dir: Path
) -> None:
    ada = world.user("ada")
    world.user("vic")
    world.workspace("ml", ada, members={"vic": "viewer"})
    sleep = {"kind": "sleep", "spec": {"seconds": 0.3, "steps": 3, "output": "working"}}
    dag = _submit(
        live_server,
        ada,
        "dags",
        {
            "name": "nightly-training",
            "nodes": [
                {"node": "extract", **sleep},
                {"node": "features", "after": ["extract"], **sleep},
                {"node": "validate", "after": ["extract"], "kind": "fail", "spec": {"message": "bad rows"}},
                {"node": "train", "after": ["features"], **sleep},
                {"node": "report", "after": ["train", "validate"], **sleep},
            ],
        },
    )
    long_job = _submit(
        live_server,
        ada,
        "jobs",
        {
            "kind": "sleep",
            "name": "long-sleep",
            "spec": {"seconds": 120, "steps": 120, "output": "zzz"},
            "resources": {"cpus": 2, "memory_mb": 2048},
        },
    )

    log_in(page, "ada")

    # The graph: every node coloured by its state, settling as the DAG runs.
    page.goto(f"/w/ml/jobs/dags/{dag['dag_id']}")
    graph = page.get_by_test_id("dag-graph")
    expect(graph.locator(".react-flow__node")).to_have_count(5)
    expect(graph.locator(".react-flow__edge")).to_have_count(5)
    expect(page.get_by_test_id("dag-node-train")).to_have_attribute("data-state", "succeeded", timeout=20_000)
    expect(page.get_by_test_id("dag-node-validate")).to_have_attribute("data-state", "failed")
    expect(page.get_by_test_id("dag-node-report")).to_have_attribute("data-state", "upstream_failed")
    shot(page, artifacts_dir, "dag")
    page.get_by_test_id("dag-node-validate").click()
    expect(page).to_have_url(re.compile(r"/w/ml/jobs/[0-9a-z]+$"))
    expect(page.get_by_test_id("job-error")).to_contain_text("bad rows")
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    shot(page, artifacts_dir, "job-failed")

    # The list shows the running job live.
    nav(page, "Jobs")
    running = page.locator("tr.ant-table-row").filter(has_text="long-sleep")
    expect(running.get_by_test_id("job-state")).to_have_attribute("data-state", "running")
    expect(running.get_by_test_id("job-progress")).to_be_visible()
    shot(page, artifacts_dir, "jobs-live")

    # The resource pool: the worker, what it runs and what that uses.
    nav(page, "Workers")
    card = page.get_by_test_id("worker-card")
    expect(card).to_have_count(1)
    expect(card.get_by_test_id("worker-health")).to_have_text("alive")
    expect(card.get_by_test_id("worker-running")).to_contain_text(str(long_job["id"]))
    expect(card.get_by_test_id("usage-cpu")).to_contain_text("2 CPU of 4 CPU")
    expect(card.get_by_test_id("usage-memory")).to_contain_text("2 GiB of 8 GiB")
    shot(page, artifacts_dir, "workers")

    # Viewers see jobs but cannot submit, cancel or retry.
    viewer = page.context.browser.new_context(  # type: ignore[union-attr]
        base_url=live_server.url, viewport={"width": 1360, "height": 860}, reduced_motion="reduce"
    )
    vpage = viewer.new_page()
    log_in(vpage, "vic")
    vpage.goto(f"/w/ml/jobs/{long_job['id']}")
    expect(vpage.get_by_test_id("job-log")).to_contain_text("zzz")
    expect(vpage.get_by_role("button", name="Cancel")).to_have_count(0)
    vpage.goto("/w/ml/jobs")
    expect(vpage.locator("tr.ant-table-row")).to_have_count(6)
    expect(vpage.get_by_role("button", name="Submit job")).to_have_count(0)
    viewer.close()

    # Cancel the running job from its page.
    card.get_by_test_id("worker-running").get_by_text(str(long_job["id"])).click()
    state = page.get_by_test_id("detail-state").get_by_test_id("job-state")
    expect(state).to_have_attribute("data-state", "running")
    expect(page.get_by_test_id("job-log")).to_contain_text("zzz")
    page.get_by_role("button", name="Cancel").click()
    confirm(page, "Cancel job")
    expect(state).to_have_attribute("data-state", "cancelled", timeout=15_000)
    expect(page.get_by_role("button", name="Retry")).to_be_visible()
    shot(page, artifacts_dir, "job-cancelled")


def test_schedules_and_notification_rules(
    page: Page, live_server: LiveServer, world: World, artifacts_dir: Path
) -> None:
    ada = world.user("ada")
    world.workspace("ml", ada)
    log_in(page, "ada")

    # A schedule made from the form shows its next run times in its time zone; pause and resume it.
    nav(page, "Schedules")
    expect(page.locator(".ant-empty")).to_contain_text("No schedules yet.")
    page.get_by_role("button", name="New schedule").first.click()
    drawer = page.get_by_role("dialog")
    drawer.get_by_label("Schedule name").fill("nightly-import")
    drawer.get_by_label("Cron", exact=True).fill("30 2 * * *")
    zone = drawer.get_by_label("Time zone")
    zone.click()
    zone.fill("Europe/Paris")
    expect(page.locator(".ant-select-item-option-active")).to_have_text("Europe/Paris")
    zone.press("Enter")
    expect(page.get_by_test_id("schedule-timezone")).to_contain_text("Europe/Paris")
    _pick(page, page.get_by_test_id("job-kind"), "sleep")
    drawer.get_by_label("Output").fill("importing ${ds}")
    drawer.get_by_role("button", name="Create schedule").click()
    expect(page.get_by_text("Schedule nightly-import created.")).to_be_visible()
    row = page.locator("tr.ant-table-row").filter(has_text="nightly-import")
    expect(row).to_contain_text("30 2 * * *")
    expect(row).to_contain_text("Europe/Paris")
    expect(row.get_by_test_id("next-runs")).to_contain_text(re.compile(r"02:30|2:30"))
    expect(row.get_by_test_id("schedule-state")).to_have_text("active")
    shot(page, artifacts_dir, "schedules")
    row.get_by_role("button", name="Pause").click()
    expect(row.get_by_test_id("schedule-state")).to_have_text("paused")
    row.get_by_role("button", name="Resume").click()
    expect(row.get_by_test_id("schedule-state")).to_have_text("active")
    # Run it now: the run lists the job it submitted.
    row.get_by_role("button", name="Run now").click()
    confirm(page, "Run now")
    expect(page.get_by_text("nightly-import fired.")).to_be_visible()
    row.locator(".ant-table-row-expand-icon").click()
    expect(page.locator(".ant-table-expanded-row")).to_contain_text("Job ")

    # A webhook channel, a test message to it, a rule, and the delivery log.
    with webhook_receiver() as hook:
        nav(page, "Notifications")
        page.get_by_role("tab", name="Channels").click()
        page.get_by_role("button", name="New channel").click()
        modal = page.get_by_role("dialog")
        modal.get_by_label("Channel name").fill("ml-team")
        _pick(page, page.get_by_test_id("channel-kind"), "webhook")
        modal.get_by_label("Url").fill(hook.url)
        modal.get_by_role("button", name="Create channel").click()
        # The signing secret Dais generated is shown once.
        expect(page.get_by_test_id("generated-secret")).to_be_visible()
        page.get_by_role("button", name="OK").click()
        channel_row = page.locator("tr.ant-table-row").filter(has_text="ml-team")
        expect(channel_row).to_contain_text(hook.url)
        channel_row.get_by_role("button", name="Test").click()
        expect(page.get_by_text(re.compile(r"Test message sent to ml-team"))).to_be_visible()
        assert len(hook.wait(1)) == 1
        shot(page, artifacts_dir, "notification-channels")

        page.get_by_role("tab", name="Rules").click()
        page.get_by_role("button", name="New rule").click()
        modal = page.get_by_role("dialog")
        modal.get_by_label("Rule name").fill("Failures to the team")
        _pick(page, page.get_by_test_id("rule-channel"), "ml-team")
        modal.get_by_role("button", name="Create rule").click()
        expect(page.get_by_text("Rule Failures to the team created.")).to_be_visible()
        rule_row = page.locator("tr.ant-table-row").filter(has_text="Failures to the team")
        expect(rule_row).to_contain_text("failed")
        expect(rule_row).to_contain_text("every job")
        shot(page, artifacts_dir, "notification-rules")

        page.get_by_role("tab", name="Delivery log").click()
        delivery = page.get_by_role("tabpanel", name="Delivery log").locator("tr.ant-table-row").first
        expect(delivery.get_by_test_id("delivery-state")).to_have_text("sent")
        shot(page, artifacts_dir, "notification-deliveries")
