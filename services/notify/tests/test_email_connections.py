"""The e-mail channel's persistent SMTP connections, against a real SMTP server in the test's
event loop: several mails per connection, replacement of connections the server closed,
RSET after a refused transaction, idle connections closed."""
from __future__ import annotations

import asyncio
import uuid

import pytest
from aiosmtpd.smtp import SMTP as SMTPServer, AuthResult

from notify.adapters import EmailChannel, OutgoingMessage, SendFailure


class Server:
    """aiosmtpd on a free port; remembers each mail's connection and can misbehave on demand."""

    def __init__(self, authenticator=None) -> None:
        self.authenticator = authenticator
        self.protocols: list[SMTPServer] = []
        self.received: list[tuple[int, str]] = []  # (connection number, Message-ID)
        self.commands: list[str] = []
        self.mail_reply: str | None = None  # reply to the next MAIL instead of 250
        self.rcpt_reply: str | None = None
        self.server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> "Server":
        def protocol() -> SMTPServer:
            p = SMTPServer(self, hostname="test.local", auth_require_tls=False, authenticator=self.authenticator)
            self.protocols.append(p)
            return p
        self.server = await asyncio.get_running_loop().create_server(protocol, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def connection(self, session) -> int:
        return next(i for i, p in enumerate(self.protocols) if p.session is session)

    async def handle_MAIL(self, server, session, envelope, address, options):
        self.commands.append("MAIL")
        reply, self.mail_reply = self.mail_reply, None
        if reply:
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        reply, self.rcpt_reply = self.rcpt_reply, None
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_RSET(self, server, session, envelope):
        self.commands.append("RSET")
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        self.commands.append("QUIT")
        return "221 Bye"

    async def handle_DATA(self, server, session, envelope):
        message_id = next(line for line in envelope.content.decode().splitlines() if line.startswith("Message-ID"))
        self.received.append((self.connection(session), message_id.split(": ", 1)[1]))
        return "250 OK"

    def drop_connections(self) -> None:
        """What a server does at its idle timeout or restart: close every session."""
        for p in self.protocols:
            if p.transport is not None:
                p.transport.close()

    async def stop(self) -> None:
        self.drop_connections()
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def server():
    s = await Server().start()
    yield s
    await s.stop()


def channel(server: Server, **kw) -> EmailChannel:
    return EmailChannel(host="127.0.0.1", port=server.port, sender="市总工会 <noreply@unionops.local>",
                        timeout=5.0, **kw)


def message() -> OutgoingMessage:
    return OutgoingMessage(delivery_id=uuid.uuid4(), recipient_name="张伟", address="zhang.wei@example.cn",
                           subject="欢迎加入示例工会", body="张伟同志：欢迎。")


async def test_several_mails_go_over_one_connection(server):
    email = channel(server)
    sent = [message() for _ in range(5)]
    for m in sent:
        await email.send(m)
    assert [c for c, _ in server.received] == [0] * 5
    assert [mid for _, mid in server.received] == [f"<{m.delivery_id}@unionops.local>" for m in sent]
    assert email.connections_opened == 1
    await email.close()
    assert server.commands[-1] == "QUIT"


async def test_concurrent_sends_use_at_most_pool_size_connections(server):
    email = channel(server, pool_size=3)
    await asyncio.gather(*(email.send(message()) for _ in range(12)))
    assert len(server.received) == 12
    assert email.connections_opened <= 3 and len({c for c, _ in server.received}) <= 3
    await email.close()


@pytest.mark.parametrize("noticed", [True, False], ids=["noticed-while-idle", "found-on-use"])
async def test_a_connection_closed_by_the_server_is_replaced_transparently(server, noticed):
    email = channel(server)
    await email.send(message())
    server.drop_connections()
    if noticed:
        await asyncio.sleep(0.1)  # the client saw the EOF while idle
    again = message()
    await email.send(again)  # no failure: the message went on a new connection
    assert server.received[-1] == (1, f"<{again.delivery_id}@unionops.local>")
    assert len(server.received) == 2 and email.connections_opened == 2
    await email.close()


async def test_a_421_on_a_reused_connection_is_retried_on_a_fresh_one(server):
    email = channel(server)
    await email.send(message())
    server.mail_reply = "421 4.3.2 Service shutting down and closing transmission channel"
    await email.send(message())
    assert [c for c, _ in server.received] == [0, 1] and email.connections_opened == 2
    await email.close()


async def test_a_broken_connection_is_retried_only_once(server):
    email = channel(server)
    await email.send(message())
    await server.stop()  # nobody to reconnect to
    with pytest.raises(SendFailure) as failure:
        await email.send(message())
    assert failure.value.permanent is False and failure.value.reason == "connection"


async def test_a_421_on_a_fresh_connection_is_a_temporary_failure(server):
    email = channel(server)
    server.mail_reply = "421 4.3.2 Try again later"
    with pytest.raises(SendFailure) as failure:
        await email.send(message())
    assert failure.value.permanent is False and email.connections_opened == 1
    await email.close()


async def test_a_refused_transaction_is_reset_and_the_connection_kept(server):
    email = channel(server)
    await email.send(message())
    server.rcpt_reply = "550 5.1.1 No such user"
    with pytest.raises(SendFailure) as failure:
        await email.send(message())
    assert failure.value.permanent is True and failure.value.reason == "rejected"
    server.commands.clear()
    await email.send(message())
    assert server.commands[:2] == ["RSET", "MAIL"]  # checked clean before reuse
    assert [c for c, _ in server.received] == [0, 0] and email.connections_opened == 1
    await email.close()


async def test_idle_connections_are_closed(server):
    email = channel(server, idle_seconds=0.3)
    await email.send(message())
    await asyncio.sleep(0.8)
    assert "QUIT" in server.commands
    await email.send(message())
    assert [c for c, _ in server.received] == [0, 1]
    await email.close()


async def test_login_happens_once_per_connection():
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append(mechanism)
        return AuthResult(success=True)

    server = await Server(authenticator=authenticator).start()
    try:
        email = channel(server, username="notify", password="secret")
        for _ in range(3):
            await email.send(message())
        assert len(server.received) == 3 and len(logins) == 1
        await email.close()
    finally:
        await server.stop()
