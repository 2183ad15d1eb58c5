"""A real SMTP server on loopback (aiosmtpd) that keeps what it accepts, parsed, and can be told to answer 451 or
550, to be slow, or to signal when a message arrives (the fixtures that use it are in the tests/test_mail_* files)."""
from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Receiver:
    """The handler: `messages` holds what was accepted (recorded just before the 250 answer is sent)."""

    temporary_refusals: int = 0  # answer the next N RCPTs with 451
    refuse: set[str] = field(default_factory=set)  # recipients answered with 550
    delay: float = 0.0  # seconds the server holds each message before accepting it
    messages: list[Received] = field(default_factory=list)
    data_started: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    accepted: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(0))
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        with self.lock:
            if self.temporary_refusals > 0:
                self.temporary_refusals -= 1
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started.release()
        if self.delay:
            await asyncio.sleep(self.delay)  # a slow server: the client waits for the answer
        parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        with self.lock:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), parsed,
                                          envelope.original_content))
        self.accepted.release()
        return "250 OK accepted"

    def message_ids(self) -> Counter:
        with self.lock:
            return Counter(r.message["Message-ID"] for r in self.messages)


class SmtpServer:
    """`with SmtpServer() as server:` an SMTP server on 127.0.0.1:`server.port` handled by `server.receiver`."""

    def __init__(self, receiver: Receiver | None = None) -> None:
        self.receiver = receiver or Receiver()
        self.port = free_port()
        self.controller = Controller(self.receiver, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> "SmtpServer":
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()
