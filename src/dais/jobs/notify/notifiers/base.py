"""The notifier interface (group ``dais.notifiers``): send one message to one kind of destination.

A notifier declares two pydantic models: ``Config``, the channel's settings (stored as JSON and shown
to anyone who can read the channel), and ``Secrets``, its credentials (stored encrypted, never shown
or logged). :meth:`Notifier.send` delivers one :class:`Message` or raises :class:`DeliveryFailed`
with a message a person can act on; the caller retries with backoff. A send must finish within the
timeout its config names: it runs outside any database transaction, but a slow destination still
holds one of the delivery threads while it runs.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from dais.core.plugins import Registry, registry

BUILTIN_NOTIFIERS = {
    "email": "dais.jobs.notify.notifiers.email:EmailNotifier",
    "webhook": "dais.jobs.notify.notifiers.webhook:WebhookNotifier",
}


class NoSecrets(BaseModel):
    """For a notifier that needs no credentials."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Message:
    """What to send: a subject and text for people, and the event as JSON for machines."""

    event: str
    subject: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)
    delivery_id: str | None = None


class DeliveryFailed(Exception):
    """The destination did not take the message; ``str(error)`` says why (shown in the delivery log)."""


class Notifier(abc.ABC):
    """A kind of notification channel. Subclasses set ``name``, ``Config`` and ``Secrets``."""

    name: ClassVar[str]
    description: ClassVar[str] = ""
    Config: ClassVar[type[BaseModel]]
    Secrets: ClassVar[type[BaseModel]] = NoSecrets
    # What the destination gets, for people choosing a kind: e.g. {"text"}, {"json", "signed"}.
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def generate_secrets(self) -> dict[str, str]:
        """Secrets to create when a new channel leaves them out (shown once to its creator)."""
        return {}

    @abc.abstractmethod
    def send(self, message: Message, config: Any, secrets: Any) -> None:
        """Deliver ``message`` with this channel's validated ``config`` and ``secrets``.

        Raise :class:`DeliveryFailed` (never anything else on purpose) when the destination refuses
        the message, cannot be reached, or does not answer within the configured timeout.
        """


def notifiers() -> Registry[type[Notifier]]:
    """The registry of notifier kinds: the built-ins plus any ``dais.notifiers`` entry point."""
    return registry("dais.notifiers", builtins=BUILTIN_NOTIFIERS)
