"""Notifier plugins (group ``dais.notifiers``): ``email`` (SMTP) and ``webhook`` (signed JSON POST)."""

from dais.jobs.notify.notifiers.base import (
    DeliveryFailed,
    Message,
    NoSecrets,
    Notifier,
    notifiers,
)

__all__ = ["DeliveryFailed", "Message", "NoSecrets", "Notifier", "notifiers"]
