"""E-mail over SMTP (stdlib ``smtplib``): STARTTLS, SSL or plain, optional login
with a password read from the environment at send time."""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from cmtool.notify import DeliveryError, Message


class SmtpChannel:
    def __init__(
        self,
        host: str,
        port: int,
        security: str,
        sender: str,
        username: str | None = None,
        password_env: str | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port, self.security, self.sender = host, port, security, sender
        self.username, self.password_env, self.timeout = username, password_env, timeout

    def send(self, message: Message) -> None:
        mail = EmailMessage()
        mail["From"] = self.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        mail.set_content(message.body)
        password = os.environ.get(self.password_env) if self.password_env else None
        if self.password_env and password is None:
            raise DeliveryError(f"the SMTP password variable {self.password_env} is not set")
        try:
            with self._connect() as server:
                if self.username and password is not None:
                    server.login(self.username, password)
                server.send_message(mail)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: {exc}") from None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        server = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == "starttls":
            try:
                server.starttls(context=context)
            except BaseException:
                server.close()
                raise
        return server
