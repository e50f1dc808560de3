"""``webhook``: POST each notification as JSON, signed with HMAC-SHA256 so receivers can trust it.

The receiver checks a delivery like this (Python)::

    signed = request.headers["X-Dais-Timestamp"].encode() + b"." + request.body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, request.headers["X-Dais-Signature"])

and rejects timestamps older than a few minutes (replays). ``X-Dais-Delivery`` is the same on every
retry of one delivery, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any, ClassVar

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr

from dais import __version__
from dais.jobs.notify.notifiers.base import DeliveryFailed, Message, Notifier

SIGNATURE_HEADER = "X-Dais-Signature"
TIMESTAMP_HEADER = "X-Dais-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Dais-Signature`` value of ``body`` sent at ``timestamp`` (Unix seconds as text)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookConfig(BaseModel):
    """Where to POST and how long to wait for an answer."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl = Field(description="http(s) URL that receives the JSON body.")
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="Seconds to wait for an answer.")


class WebhookSecrets(BaseModel):
    """The key the body is signed with (generated when left out, and shown once), and an optional
    ``Authorization`` header value for receivers that want one (``Bearer ...``)."""

    model_config = ConfigDict(extra="forbid")

    secret: SecretStr | None = Field(default=None, min_length=16, max_length=256)
    authorization: SecretStr | None = Field(default=None, max_length=4096)


class WebhookNotifier(Notifier):
    """POST the event as JSON to a URL; any 2xx answer counts as delivered."""

    name = "webhook"
    description = "POST a JSON body signed with HMAC-SHA256 (X-Dais-Signature) to a URL."
    Config = WebhookConfig
    Secrets = WebhookSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"json", "signed"})

    def generate_secrets(self) -> dict[str, str]:
        """A random signing secret for a channel created without one."""
        return {"secret": "whsec_" + secrets.token_urlsafe(32)}

    def send(self, message: Message, config: Any, secrets: Any) -> None:
        """POST ``message.payload`` to the URL; a non-2xx answer or a timeout raises DeliveryFailed."""
        cfg: WebhookConfig = config
        sec: WebhookSecrets = secrets
        body = json.dumps(message.payload, separators=(",", ":"), sort_keys=True, default=str).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"dais-webhook/{__version__}",
            "X-Dais-Event": message.event,
            TIMESTAMP_HEADER: timestamp,
        }
        if message.delivery_id:
            headers["X-Dais-Delivery"] = message.delivery_id
        if sec.authorization is not None:
            headers["Authorization"] = sec.authorization.get_secret_value()
        if sec.secret is not None:
            headers[SIGNATURE_HEADER] = sign(sec.secret.get_secret_value(), timestamp, body)
        url = str(cfg.url)
        try:
            with httpx.Client(timeout=cfg.timeout_s, follow_redirects=False) as http:
                response = http.post(url, content=body, headers=headers)
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(f"{_host(url)} did not answer within {cfg.timeout_s:g} s.") from exc
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"Cannot reach {_host(url)}: {type(exc).__name__}: {exc}") from exc
        if not 200 <= response.status_code < 300:
            text = response.text[:300].strip()
            raise DeliveryFailed(
                f"{_host(url)} answered HTTP {response.status_code}" + (f": {text}" if text else "")
            )


def _host(url: str) -> str:
    # Name the destination without its path or query, which may carry a token (chat webhooks do).
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.host}" + (f":{parsed.port}" if parsed.port else "")
