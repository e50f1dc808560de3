"""Notifications through the SDK against a live server: channels, rules, a test send, the log."""

from __future__ import annotations

import pytest

from dais import Client
from dais.core.errors import InvalidInput, NotFound, PermissionDenied
from tests.conftest import World
from tests.jobs.receivers import webhook_receiver


def test_sdk_manages_channels_and_rules_and_reads_the_log(server_url: str, world: World) -> None:
    alice = world.user("alice")
    victor = world.user("victor")
    world.workspace("team", alice, members={"victor": "viewer"})
    with Client(server_url, alice.token) as c, webhook_receiver([502]) as hook:
        ch = c.notifications.create_channel("team", "hook", "webhook", config={"url": hook.url})
        secret = ch.generated_secrets["secret"]
        assert ch.secrets == {"has_secret": True}
        assert [x.name for x in c.notifications.channels("team")] == ["hook"]
        assert c.notifications.get_channel("team", "hook").generated_secrets == {}
        failed = c.notifications.test_channel("team", "hook")
        assert not failed.ok
        assert failed.error is not None
        assert "HTTP 502" in failed.error
        assert c.notifications.test_channel("team", ch.id).ok
        assert hook.received[-1].signature_ok(secret)
        rule = c.notifications.create_rule("team", "hook", events=["failed"], job_name_pattern="train-*")
        assert [r.id for r in c.notifications.rules("team", channel="hook")] == [rule.id]
        assert not c.notifications.update_rule("team", rule.id, enabled=False).enabled
        log = list(c.notifications.deliveries("team", channel="hook"))
        assert [(d.event, d.state, len(d.tries)) for d in log] == [("test", "sent", 1), ("test", "failed", 1)]
        assert c.notifications.get_delivery("team", log[1].id).last_error == failed.error
        assert {k.name for k in c.notifications.kinds()} >= {"email", "webhook"}
        with pytest.raises(InvalidInput):
            c.notifications.create_rule("team", "hook", events=["exploded"])
        c.notifications.delete_rule("team", rule.id)
        c.notifications.delete_channel("team", "hook")
        with pytest.raises(NotFound):
            c.notifications.get_channel("team", "hook")
    with Client(server_url, victor.token) as v, pytest.raises(PermissionDenied):
        v.notifications.create_channel("team", "x", "webhook", config={"url": "http://127.0.0.1:9/"})
