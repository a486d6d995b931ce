"""The e-mail channel against a real SMTP server that demands STARTTLS and a login (aiosmtpd), with a
test certificate for 127.0.0.1 (tests/system/test_notifier_tls.pem, valid for a century)."""
from __future__ import annotations

import email
import email.policy
import socket
import ssl
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from services.notifier.channels import ChannelError, Outgoing
from services.notifier.channels.smtp_email import SmtpEmail

PEM = str(Path(__file__).with_name("test_notifier_tls.pem"))


class Inbox:
    def __init__(self):
        self.mail = []

    async def handle_DATA(self, server, session, envelope):
        self.mail.append((session.authenticated, envelope.rcpt_tos,
                          email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


def check_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"griddesk" and auth_data.password == b"s3cret")


@pytest.fixture(scope="module")
def server():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(PEM)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True,
                            authenticator=check_login, auth_require_tls=True)
    controller.start()
    yield inbox, port
    controller.stop()


MESSAGE = Outgoing(notification_id="n-1", recipient={"id": "x", "name": "王芳", "email": "wf@example.org"},
                   subject="案件GD-1已超时", text="请立即处理", urgent=True, case_id="GD-1")


def test_starttls_and_login_deliver_the_message(server):
    inbox, port = server
    SmtpEmail("127.0.0.1", port, "griddesk@example.org", security="starttls", username="griddesk",
              password="s3cret", ca_file=PEM).send(MESSAGE)
    [(authenticated, to, mail)] = inbox.mail
    assert authenticated and to == ["wf@example.org"]
    assert mail["Subject"] == "[紧急] 案件GD-1已超时" and mail.get_content().strip() == "请立即处理"


def test_a_wrong_password_or_an_untrusted_certificate_is_a_channel_error(server):
    _, port = server
    with pytest.raises(ChannelError):
        # (smtplib then tries AUTH LOGIN, which aiosmtpd leaves unanswered: the timeout ends it)
        SmtpEmail("127.0.0.1", port, "g@example.org", username="griddesk", password="wrong", ca_file=PEM,
                  timeout_s=2).send(MESSAGE)
    with pytest.raises(ChannelError):  # the system trust store does not know the test certificate
        SmtpEmail("127.0.0.1", port, "g@example.org", username="griddesk", password="s3cret").send(MESSAGE)
