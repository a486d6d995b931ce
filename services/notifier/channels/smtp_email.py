"""E-mail over SMTP with the standard library: plain, implicit TLS (``ssl``) or STARTTLS, optional login."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from services.notifier.channels import ChannelError, Outgoing


class SmtpEmail:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, *, security: str = "starttls", username: str = "",
                 password: str = "", ca_file: str = "", timeout_s: float = 30.0):
        if security not in ("none", "starttls", "ssl"):
            raise ValueError(f"SMTP security must be none, starttls or ssl, got {security!r}")
        self._host, self._port, self._sender, self._security = host, port, sender, security
        self._username, self._password, self._timeout_s = username, password, timeout_s
        self._ca_file = ca_file or None  # a private CA's certificate; the system's trust store otherwise

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self._ca_file)

    def can_reach(self, recipient: dict) -> bool:
        return bool(recipient.get("email"))

    def send(self, message: Outgoing) -> None:
        email = EmailMessage()
        email["From"], email["To"] = self._sender, message.recipient["email"]
        email["Subject"] = ("[紧急] " if message.urgent else "") + message.subject
        email["X-Griddesk-Notification"] = message.notification_id
        email.set_content(message.text)
        client = None
        try:
            if self._security == "ssl":
                client = smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout_s, context=self._tls())
            else:
                client = smtplib.SMTP(self._host, self._port, timeout=self._timeout_s)
            if self._security == "starttls":
                client.starttls(context=self._tls())
            if self._username:
                client.login(self._username, self._password)
            client.send_message(email)
            client.quit()
        except (smtplib.SMTPException, OSError) as error:
            if client is not None:
                client.close()  # no QUIT: after a failed handshake it would wait for the timeout
            raise ChannelError(f"SMTP {self._host}:{self._port}: {type(error).__name__}: {error}") from error
