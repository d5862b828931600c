"""The HTTP server's defence against slow clients (slowloris and friends).

uvicorn waits for a request's headers for as long as the client likes, so a few hundred
connections that send a byte every few seconds would hold sockets and file descriptors
until others are refused. This protocol (uvicorn's httptools protocol with two additions)
gives every request a deadline for its headers, and caps the connections that are still
waiting for their headers: when the cap is reached the oldest such connection is dropped,
so clients that send a request at normal speed are always served. Slow *bodies* are
limited where the body is read (``api.multipart``: idle timeout and minimum rate).
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mailroom.config import Settings

log = logging.getLogger(__name__)


class _Limits:
    header_timeout_s = 10.0
    max_pending = 256
    loaded = False

    @classmethod
    def load(cls) -> None:
        """Read the limits once per process (also in uvicorn's spawned worker processes)."""
        if not cls.loaded:
            settings = Settings()
            cls.header_timeout_s = settings.http_header_timeout_s
            cls.max_pending = settings.http_max_pending_connections
            cls.loaded = True


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    # Connections still waiting for their request headers, oldest first (per process).
    _awaiting_headers: ClassVar[OrderedDict[GuardedHttpToolsProtocol, asyncio.TimerHandle]] = (
        OrderedDict()
    )
    dropped = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._await_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._await_headers()  # the next request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._headers_arrived()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def _await_headers(self) -> None:
        if self in self._awaiting_headers:
            return
        _Limits.load()
        timer = self.loop.call_later(_Limits.header_timeout_s, self._drop, "header timeout")
        self._awaiting_headers[self] = timer
        while len(self._awaiting_headers) > _Limits.max_pending:
            oldest = next(iter(self._awaiting_headers))
            oldest._drop("too many connections waiting for their headers")

    def _headers_arrived(self) -> None:
        timer = self._awaiting_headers.pop(self, None)
        if timer is not None:
            timer.cancel()

    def _drop(self, why: str) -> None:
        self._headers_arrived()
        GuardedHttpToolsProtocol.dropped += 1
        if GuardedHttpToolsProtocol.dropped % 100 == 1:
            log.warning("dropping slow connections (%s; %d so far)", why, self.dropped)
        if not self.transport.is_closing():
            self.transport.close()


def raise_open_file_limit() -> None:
    """Allow as many open sockets as the system lets this process have."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            log.info("could not raise the open-file limit from %s", soft)


def uvicorn_options() -> dict[str, Any]:
    """Server options every ``mailroom serve`` uses."""
    return {
        "http": "mailroom.api.server:GuardedHttpToolsProtocol",
        "timeout_keep_alive": 5,
        "backlog": 2048,
        # request.client is the peer: X-Forwarded-For is read (from MAILROOM_TRUSTED_PROXIES
        # only) by mailroom.api.client_address, not by uvicorn (which trusts 127.0.0.1).
        "proxy_headers": False,
        "server_header": False,  # no banner naming the server software
    }
