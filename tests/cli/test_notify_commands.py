"""``dais notify``: channels, rules and the delivery log against a real server and receiver."""

from __future__ import annotations

from tests.cli.conftest import Run, as_json
from tests.conftest import Actor
from tests.jobs.receivers import smtp_server, webhook_receiver


def test_notify_channels_rules_and_deliveries(run: Run, admin: Actor) -> None:
    run("workspaces", "create", "team")
    with webhook_receiver() as hook, smtp_server() as box:
        created = run(
            "notify",
            "channels",
            "create",
            "hook",
            "-w",
            "team",
            "--kind",
            "webhook",
            "--set",
            f"url={hook.url}",
        )
        assert "Generated secret (shown only now)" in created.stdout
        mail = as_json(
            run(
                "notify", "channels", "create", "mail", "-w", "team", "-k", "email",
                "--set", "host=127.0.0.1", "--set", f"port={box.port}", "--set", "security=none",
                "--set", "from_address=dais@example.org",
                "--set", "to=a@example.org", "--set", "to=b@example.org",
                "--set", "username=dais", "--secret", "password=pw-777",
                "-o", "json",
            )
        )  # fmt: skip
        assert mail["config"]["to"] == ["a@example.org", "b@example.org"]
        assert mail["secrets"] == {"has_password": True}
        listing = run("notify", "channels", "list", "-w", "team")
        assert "hook" in listing.stdout
        assert "password" in listing.stdout
        assert "pw-777" not in listing.stdout
        assert "Sent" in run("notify", "channels", "test", "hook", "-w", "team").stdout
        # The SMTP server offers no AUTH, so the login fails and the command says why.
        refused = run("notify", "channels", "test", "mail", "-w", "team", ok=False)
        assert refused.exit_code == 1
        assert "Not sent" in refused.stdout
        rule = as_json(
            run("notify", "rules", "create", "-w", "team", "-c", "hook", "--on", "failed",
                "--on", "running_longer", "--longer-than", "600", "--job-name", "train-*", "-o", "json")
        )  # fmt: skip
        assert rule["events"] == ["failed", "running_longer"]
        listed = as_json(run("notify", "rules", "list", "-w", "team", "-o", "json"))
        assert [(r["id"], r["job_name_pattern"]) for r in listed] == [(rule["id"], "train-*")]
        bad = run("notify", "rules", "create", "-w", "team", "-c", "hook", "--on", "running_longer", ok=False)
        assert "running_longer_than_s" in bad.output
        log = as_json(run("notify", "deliveries", "-w", "team", "-o", "json"))
        assert [(d["event"], d["state"]) for d in log] == [("test", "failed"), ("test", "sent")]
        failed = as_json(run("notify", "deliveries", "-w", "team", "--state", "failed", "-o", "json"))
        assert len(failed) == 1
        run("notify", "rules", "delete", rule["id"], "-w", "team")
        run("notify", "channels", "delete", "hook", "-w", "team", "--yes")
        assert [
            c["name"] for c in as_json(run("notify", "channels", "list", "-w", "team", "-o", "json"))
        ] == ["mail"]
