"""E-mail over SMTP (stdlib smtplib): STARTTLS on the submission port by default (or TLS
from the first byte, port 465), then login, then one message to the listed addresses.

A password is never sent over a connection that is not encrypted: `security: none` takes
no login. Certificates are verified against the system's CAs, or against `ca_pem` (a PEM
certificate to trust, for a relay with a private or self-signed certificate).
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from rigwatch.commander.notify.base import DeliveryError, Message, SendContext

SECRETS = ("password",)
ADDRESS = r"^[^@\s<>,;\"]{1,64}@[A-Za-z0-9.-]{1,253}$"


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[A-Za-z0-9.:\[\]-]+$")]
    port: Annotated[int, Field(ge=1, le=65535)] = 587
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: Annotated[str | None, Field(min_length=1, max_length=200)] = None
    password: Annotated[str | None, Field(max_length=200)] = None
    from_addr: Annotated[str, Field(pattern=ADDRESS)]
    to: Annotated[list[Annotated[str, Field(pattern=ADDRESS)]], Field(min_length=1, max_length=20)]
    ca_pem: Annotated[str | None, Field(max_length=20_000)] = None

    @model_validator(mode="after")
    def _login_needs_encryption(self) -> Config:
        if self.username and self.security == "none":
            raise ValueError("login needs security 'starttls' or 'tls'")
        if self.password and not self.username:
            raise ValueError("a password needs a username")
        if self.ca_pem and "BEGIN CERTIFICATE" not in self.ca_pem:
            raise ValueError("ca_pem must be a PEM certificate")
        return self


def _one_line(text: str) -> str:
    return " ".join(text.split())


def email_of(config: Config, message: Message, ctx: SendContext) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = _one_line(message.title)
    mail["From"] = config.from_addr
    mail["To"] = ", ".join(config.to)
    mail["Date"] = format_datetime(ctx.now)
    mail["Message-ID"] = make_msgid(domain="rigwatch")
    mail["X-Rigwatch-Kind"] = message.kind.value
    mail["X-Rigwatch-Severity"] = message.severity.value
    mail.set_content(message.text)
    return mail


def _tls(config: Config) -> ssl.SSLContext:
    if config.ca_pem:
        return ssl.create_default_context(cadata=config.ca_pem)
    return ssl.create_default_context()


def send(config: Config, message: Message, ctx: SendContext) -> None:
    what = f"smtp {config.host}:{config.port}"
    mail = email_of(config, message, ctx)
    try:
        tls = _tls(config)
        server: smtplib.SMTP
        if config.security == "tls":
            server = smtplib.SMTP_SSL(config.host, config.port, timeout=ctx.timeout_s, context=tls)
        else:
            server = smtplib.SMTP(config.host, config.port, timeout=ctx.timeout_s)
        with server:
            server.ehlo()
            if config.security == "starttls":
                if not server.has_extn("starttls"):
                    raise DeliveryError(f"{what}: the server offers no STARTTLS")
                server.starttls(context=tls)
                server.ehlo()
            if config.username:
                server.login(config.username, config.password or "")
            server.send_message(mail)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(f"{what}: login refused ({exc.smtp_code})") from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"{what}: {type(exc).__name__}: {str(exc)[:200]}") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"{what}: TLS failed: {exc.reason or exc}") from None
    except TimeoutError:
        raise DeliveryError(f"{what}: timed out after {ctx.timeout_s:g} s") from None
    except OSError as exc:
        raise DeliveryError(f"{what}: {type(exc).__name__}: {exc.strerror or exc}") from None
