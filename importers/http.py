"""Safe fetching of feed documents.

Feed URLs are typed in by feed owners, so every fetch is treated as untrusted:
only http(s), at most five redirects (each hop checked again), connect and read
timeouts plus a deadline for the whole run, and a size cap counted on the
*decoded* body so a gzip bomb stops after the cap, not after the memory is gone.

Private, loopback, link-local and other non-public addresses are refused on the
address actually connected to: the transport resolves the host itself, checks
every address and connects to a checked address, so a DNS answer that changes
between check and connect (DNS rebinding) cannot reach the inside network.
Every failure is a `FeedUnavailable` with a message a feed owner can read.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from weakref import WeakKeyDictionary

import httpcore
import httpx

from importers.base import FeedUnavailable

MAX_REDIRECTS = 5
DEFAULT_MAX_BYTES = 50 * 1024 * 1024
USER_AGENT = "Pesa-feed-importer/1.0 (+https://github.com/pesa)"
# Cloud metadata endpoints: refused even when private addresses are allowed.
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
_DECODED_CHUNK = 64 * 1024

# Policy of the clients built here, so `fetch` can check IP-literal redirect
# targets before sending, also when a test injects a mock transport.
_ALLOW_PRIVATE: WeakKeyDictionary[httpx.Client, bool] = WeakKeyDictionary()


class AddressNotAllowed(FeedUnavailable):
    """The feed host resolves to an address we never connect to."""


def address_problem(address: str, *, allow_private: bool) -> str | None:
    """Why `address` may not be contacted, or None when it may."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"address {address} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        return f"address {ip} is a cloud metadata endpoint and not allowed"
    if allow_private:
        return None
    for attribute, label in (
        ("is_unspecified", "unspecified"),
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    ):
        if getattr(ip, attribute):
            return f"address {ip} is {label} and not allowed"
    if not ip.is_global:
        return f"address {ip} is not a public address and not allowed"
    return None


def _check_host_literal(host: str, *, allow_private: bool) -> None:
    """Refuses an IP-literal host before any request is sent."""
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    problem = address_problem(host.strip("[]"), allow_private=allow_private)
    if problem:
        raise AddressNotAllowed(problem)


class GuardedNetworkBackend(httpcore.SyncBackend):
    """Resolves the host, checks every address and connects to a checked one."""

    def __init__(self, *, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            raise FeedUnavailable(f"cannot resolve host {host}: {error}") from error
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            raise FeedUnavailable(f"host {host} has no addresses")
        # A host with any forbidden address is refused as a whole: mixed answers
        # are how rebinding attacks hide.
        for address in addresses:
            problem = address_problem(address, allow_private=self.allow_private)
            if problem:
                raise AddressNotAllowed(problem)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as error:
                last_error = error
        raise last_error or FeedUnavailable(f"cannot connect to {host}")


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with the guarded network backend (or a subclass of it) underneath.

    The one place that replaces httpx's pool: httpx builds it with httpcore's default
    backend and takes no backend of its own."""

    def __init__(
        self, *, allow_private: bool, network_backend: GuardedNetworkBackend | None = None
    ) -> None:
        super().__init__(trust_env=False, retries=0)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            retries=0,
            network_backend=network_backend or GuardedNetworkBackend(allow_private=allow_private),
        )


def build_http_client(
    *,
    allow_private_addresses: bool = False,
    connect_timeout: float = 5,
    read_timeout: float = 30,
    headers: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Client:
    """The client every importer fetches through. Tests pass a mock `transport`."""
    client = httpx.Client(
        transport=transport or GuardedTransport(allow_private=allow_private_addresses),
        timeout=httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=read_timeout, pool=connect_timeout
        ),
        headers={
            "User-Agent": USER_AGENT,
            "Accept": "application/json, text/csv;q=0.9, */*;q=0.5",
            # Only what `fetch` decodes itself, chunk by chunk under the cap.
            "Accept-Encoding": "gzip, deflate",
            **(headers or {}),
        },
        follow_redirects=False,
        trust_env=False,
    )
    _ALLOW_PRIVATE[client] = allow_private_addresses
    return client


def _size_label(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    if limit >= 1024:
        return f"{limit / 1024:g} kB"
    return f"{limit} bytes"


class _Decoder:
    """gzip/deflate decoding that never produces more than one small chunk at a time."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        if encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise ValueError(encoding)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self.encoding == "deflate" and not self._started and data:
            self._started = True
            # Some servers send raw deflate without the zlib header.
            if (data[0] & 0x0F) != 8:
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            chunk = self._zlib.decompress(data, _DECODED_CHUNK)
            while chunk:
                yield chunk
                if not self._zlib.unconsumed_tail:
                    break
                chunk = self._zlib.decompress(self._zlib.unconsumed_tail, _DECODED_CHUNK)
        except zlib.error as error:
            raise FeedUnavailable(f"cannot decode {self.encoding} response: {error}") from error

    def flush(self) -> bytes:
        try:
            return self._zlib.flush()
        except zlib.error as error:
            raise FeedUnavailable(f"cannot decode {self.encoding} response: {error}") from error


def _decoded_chunks(response: httpx.Response) -> Iterator[bytes]:
    if response.is_stream_consumed:
        # Built in memory (mock transports): httpx has decoded it already.
        content = response.content
        for start in range(0, len(content), _DECODED_CHUNK):
            yield content[start : start + _DECODED_CHUNK]
        return
    encodings = [
        part.strip().lower()
        for part in response.headers.get("content-encoding", "").split(",")
        if part.strip() and part.strip().lower() != "identity"
    ]
    if not encodings:
        yield from response.iter_raw()
        return
    if len(encodings) > 1 or encodings[0] not in ("gzip", "x-gzip", "deflate"):
        raise FeedUnavailable(f"unsupported Content-Encoding {', '.join(encodings)!r}")
    decoder = _Decoder(encodings[0])
    for raw in response.iter_raw():
        yield from decoder.feed(raw)
    tail = decoder.flush()
    if tail:
        yield tail


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else deadline - time.monotonic()


def fetch(
    http: httpx.Client,
    url: str,
    *,
    params: Mapping[str, Any] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    deadline: float | None = None,
) -> bytes:
    """GET `url` and return the decoded body, or raise `FeedUnavailable` saying why.

    `deadline` is an absolute `time.monotonic()` value for the whole run, so a
    feed that drips bytes slowly cannot keep a worker busy forever.
    """
    allow_private = _ALLOW_PRIVATE.get(http, False)
    try:
        # `params=None` would drop a query written into `url`.
        current = httpx.URL(url, params=dict(params)) if params else httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as error:
        raise FeedUnavailable(f"invalid URL {url!r}: {error}") from error
    for _hop in range(MAX_REDIRECTS + 1):
        if current.scheme not in ("http", "https"):
            raise FeedUnavailable(f"only http and https URLs can be fetched, not {str(current)!r}")
        if not current.host:
            raise FeedUnavailable(f"URL {str(current)!r} has no host")
        _check_host_literal(current.host, allow_private=allow_private)
        response = _send(http, current, deadline=deadline)
        try:
            if response.is_redirect:
                location = response.headers.get("location", "")
                try:
                    current = current.join(location)
                except (httpx.InvalidURL, ValueError) as error:
                    raise FeedUnavailable(f"bad redirect from {current}: {location!r}") from error
                continue
            if response.status_code >= 400:
                raise FeedUnavailable(f"HTTP {response.status_code} from {current}")
            if response.status_code >= 300:
                raise FeedUnavailable(
                    f"HTTP {response.status_code} from {current} without a usable Location"
                )
            return _read_body(response, url=current, max_bytes=max_bytes, deadline=deadline)
        finally:
            response.close()
    raise FeedUnavailable(f"more than {MAX_REDIRECTS} redirects starting from {url}")


def _send(http: httpx.Client, url: httpx.URL, *, deadline: float | None) -> httpx.Response:
    timeout = http.timeout
    remaining = _remaining(deadline)
    if remaining is not None:
        if remaining <= 0:
            raise FeedUnavailable(f"run deadline passed before fetching {url}")
        timeout = httpx.Timeout(
            connect=min(timeout.connect or remaining, remaining),
            read=min(timeout.read or remaining, remaining),
            write=min(timeout.write or remaining, remaining),
            pool=min(timeout.pool or remaining, remaining),
        )
    request = http.build_request("GET", url, timeout=timeout)
    try:
        return http.send(request, stream=True, follow_redirects=False)
    except FeedUnavailable:
        raise
    except httpx.ConnectTimeout as error:
        raise FeedUnavailable(
            f"timed out after {timeout.connect:g} s connecting to {url}"
        ) from error
    except httpx.TimeoutException as error:
        raise FeedUnavailable(f"timed out after {timeout.read:g} s fetching {url}") from error
    except httpx.HTTPError as error:
        raise FeedUnavailable(f"cannot fetch {url}: {error or type(error).__name__}") from error


def _read_body(
    response: httpx.Response, *, url: httpx.URL, max_bytes: int, deadline: float | None
) -> bytes:
    declared = response.headers.get("content-length", "")
    if (
        declared.isdigit()
        and not response.headers.get("content-encoding")
        and int(declared) > max_bytes
    ):
        raise FeedUnavailable(f"response larger than {_size_label(max_bytes)} from {url}")
    body = bytearray()
    try:
        for chunk in _decoded_chunks(response):
            body += chunk
            if len(body) > max_bytes:
                raise FeedUnavailable(f"response larger than {_size_label(max_bytes)} from {url}")
            remaining = _remaining(deadline)
            if remaining is not None and remaining <= 0:
                raise FeedUnavailable(f"run deadline passed while reading {url}")
    except FeedUnavailable:
        raise
    except httpx.TimeoutException as error:
        read = response.request.extensions.get("timeout", {}).get("read")
        label = f"{read:g} s" if isinstance(read, int | float) else "the read timeout"
        raise FeedUnavailable(f"timed out after {label} reading {url}") from error
    except httpx.HTTPError as error:
        raise FeedUnavailable(f"cannot read {url}: {error or type(error).__name__}") from error
    return bytes(body)
