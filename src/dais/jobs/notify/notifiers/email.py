"""``email``: send notifications over SMTP (plain, STARTTLS or implicit TLS), with optional login."""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from dais.jobs.notify.notifiers.base import DeliveryFailed, Message, Notifier

_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


def _check_address(value: str) -> str:
    value = value.strip()
    if not _ADDRESS.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


class EmailConfig(BaseModel):
    """Where and how to send: the SMTP server, the sender and the recipients."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(min_length=1, max_length=255, description="SMTP server host name.")
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = Field(
        default="starttls", description="starttls (port 587), ssl (implicit TLS, port 465) or none."
    )
    username: str | None = Field(default=None, max_length=255, description="Login name, if any.")
    from_address: str = Field(max_length=255, description="The sender address.")
    to: list[str] = Field(min_length=1, max_length=50, description="Recipient addresses.")
    subject_prefix: str = Field(default="[Dais]", max_length=64)
    timeout_s: float = Field(default=10.0, gt=0, le=60, description="Timeout of each SMTP step.")

    @field_validator("from_address")
    @classmethod
    def _sender(cls, value: str) -> str:
        return _check_address(value)

    @field_validator("to", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):  # "a@x.org, b@x.org" is accepted too
            return [v for v in (p.strip() for p in value.split(",")) if v]
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        return [_check_address(v) for v in value]


class EmailSecrets(BaseModel):
    """The SMTP password (only with a ``username``)."""

    model_config = ConfigDict(extra="forbid")

    password: SecretStr | None = Field(default=None, max_length=1024)


class EmailNotifier(Notifier):
    """Send each notification as a plain-text e-mail over SMTP."""

    name = "email"
    description = "E-mail over SMTP (plain, STARTTLS or TLS), with optional login."
    Config = EmailConfig
    Secrets = EmailSecrets
    capabilities: ClassVar[frozenset[str]] = frozenset({"text"})

    def send(self, message: Message, config: Any, secrets: Any) -> None:
        """Send ``message`` to every recipient of ``config`` in one SMTP transaction."""
        cfg: EmailConfig = config
        sec: EmailSecrets = secrets
        mail = EmailMessage()
        mail["Subject"] = f"{cfg.subject_prefix} {message.subject}".strip()
        mail["From"] = cfg.from_address
        mail["To"] = ", ".join(cfg.to)
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain="dais.local")
        if message.delivery_id:
            mail["X-Dais-Delivery"] = message.delivery_id
        mail["X-Dais-Event"] = message.event
        mail.set_content(message.text)
        try:
            smtp: smtplib.SMTP
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(
                    cfg.host, cfg.port, timeout=cfg.timeout_s, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with smtp:
                smtp.ehlo()
                if cfg.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                if cfg.username:
                    password = sec.password.get_secret_value() if sec.password else ""
                    smtp.login(cfg.username, password)
                # Recipients refused one by one are left out; retrying would repeat it to the rest.
                smtp.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(
                f"The SMTP server {cfg.host}:{cfg.port} refused the login of {cfg.username!r} "
                f"({exc.smtp_code}): check the username and password."
            ) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryFailed(
                f"The SMTP server {cfg.host}:{cfg.port} does not support this ({exc}): "
                "check the security setting (starttls, ssl or none)."
            ) from exc
        except smtplib.SMTPResponseException as exc:
            text = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else exc.smtp_error
            )
            raise DeliveryFailed(
                f"The SMTP server {cfg.host}:{cfg.port} answered {exc.smtp_code} {text}"
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryFailed(
                f"The SMTP server refused every recipient: {', '.join(exc.recipients)}"
            ) from exc
        except TimeoutError as exc:
            raise DeliveryFailed(
                f"The SMTP server {cfg.host}:{cfg.port} did not answer within {cfg.timeout_s:g} s."
            ) from exc
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryFailed(
                f"Cannot send through the SMTP server {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}"
            ) from exc
