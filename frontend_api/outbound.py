"""Outbound HTTP with a whole-request deadline and the feeds' address policy (webhook
deliveries).

httpx's timeouts bound each connect, read and write on its own: a receiver that drips a
byte every few seconds never trips them and could hold a worker for hours. Here every
network operation of a request gets at most what is left of one total deadline. A
subscriber URL is checked like a feed URL (`importers.http.GuardedNetworkBackend`): no
loopback, private, link-local or metadata address unless private addresses are allowed.
"""

from __future__ import annotations

import time
import typing

import httpcore
import httpx

from importers.http import GuardedNetworkBackend, GuardedTransport


class DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, clock: DeadlineBackend) -> None:
        self.stream = stream
        self.clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.stream.read(max_bytes, self.clock.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.stream.write(buffer, self.clock.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self.stream.close()

    def start_tls(
        self,
        ssl_context: typing.Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = self.stream.start_tls(
            ssl_context, server_hostname, self.clock.left(timeout, httpcore.ConnectTimeout)
        )
        return DeadlineStream(tls, self.clock)

    def get_extra_info(self, info: str) -> typing.Any:
        return self.stream.get_extra_info(info)


class DeadlineBackend(GuardedNetworkBackend):
    """The guarded socket backend; `deadline` (a monotonic time) caps every operation."""

    deadline: float = float("inf")

    def left(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise error("the request's total deadline has passed")
        return remaining if timeout is None else min(timeout, remaining)

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Any = None,
    ) -> httpcore.NetworkStream:
        stream = super().connect_tcp(
            host,
            port,
            timeout=self.left(timeout, httpcore.ConnectTimeout),
            local_address=local_address,
            socket_options=socket_options,
        )
        return DeadlineStream(stream, self)


class DeadlineTransport(GuardedTransport):
    """A guarded transport whose every request, body included, ends within `total` seconds."""

    def __init__(self, *, total: float, allow_private: bool) -> None:
        self.total = total
        self.backend = DeadlineBackend(allow_private=allow_private)
        super().__init__(allow_private=allow_private, network_backend=self.backend)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.backend.deadline = time.monotonic() + self.total
        return super().handle_request(request)


def deadline_client(*, total: float, timeout: httpx.Timeout, allow_private: bool) -> httpx.Client:
    return httpx.Client(
        transport=DeadlineTransport(total=total, allow_private=allow_private),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )
