"""importers.http: safe fetching, against real local servers and mock transports."""

from __future__ import annotations

import gzip
import http.server
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from importers.base import FeedUnavailable
from importers.http import address_problem, build_http_client, fetch


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # silence the test output
        pass

    def send_body(
        self, body: bytes, *, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path.startswith("/feed"):
            self.send_body(b'{"ok": true}', headers={"Content-Type": "application/json"})
        elif self.path.startswith("/bomb"):
            self.send_body(
                gzip.compress(b"\0" * (30 * 1024 * 1024)), headers={"Content-Encoding": "gzip"}
            )
        elif self.path.startswith("/gzip"):
            self.send_body(gzip.compress(b'{"small": 1}'), headers={"Content-Encoding": "gzip"})
        elif self.path.startswith("/slow"):
            time.sleep(1.5)
            self.send_body(b"late")
        elif self.path.startswith("/loop"):
            self.send_body(b"", status=302, headers={"Location": "/loop"})
        elif self.path.startswith("/down"):
            self.send_body(b"maintenance", status=503)
        else:
            self.send_body(b"", status=404)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def local_client(**kwargs: object) -> httpx.Client:
    return build_http_client(allow_private_addresses=True, **kwargs)  # type: ignore[arg-type]


def test_fetch_returns_the_body_from_an_allowed_local_server(server: str) -> None:
    with local_client() as client:
        assert fetch(client, f"http://{server}/feed") == b'{"ok": true}'


def test_fetch_decodes_gzip(server: str) -> None:
    with local_client() as client:
        assert fetch(client, f"http://{server}/gzip") == b'{"small": 1}'


def test_loopback_address_is_refused_by_default(server: str) -> None:
    with (
        build_http_client() as client,
        pytest.raises(FeedUnavailable, match="address 127.0.0.1 is loopback and not allowed"),
    ):
        fetch(client, f"http://{server}/feed")


def test_hostname_resolving_to_loopback_is_refused_at_connect_time(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    with (
        build_http_client() as client,
        pytest.raises(FeedUnavailable, match="is loopback and not allowed"),
    ):
        fetch(client, f"http://localhost:{port}/feed")


def test_hostname_resolving_to_loopback_is_allowed_when_the_setting_allows(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    with local_client() as client:
        assert fetch(client, f"http://localhost:{port}/feed") == b'{"ok": true}'


def test_gzip_bomb_is_stopped_at_the_size_cap(server: str) -> None:
    with (
        local_client() as client,
        pytest.raises(FeedUnavailable, match="response larger than 1 MB"),
    ):
        fetch(client, f"http://{server}/bomb", max_bytes=1024 * 1024)


def test_redirect_loop_stops_after_five_redirects(server: str) -> None:
    with local_client() as client, pytest.raises(FeedUnavailable, match="more than 5 redirects"):
        fetch(client, f"http://{server}/loop")


def test_http_error_status_is_reported_with_the_url(server: str) -> None:
    with (
        local_client() as client,
        pytest.raises(FeedUnavailable, match=r"HTTP 503 from http://127\.0\.0\.1:\d+/down"),
    ):
        fetch(client, f"http://{server}/down")


def test_read_timeout_is_reported_in_seconds(server: str) -> None:
    with (
        local_client(read_timeout=0.3) as client,
        pytest.raises(FeedUnavailable, match=r"timed out after 0\.3 s"),
    ):
        fetch(client, f"http://{server}/slow")


def test_run_deadline_is_respected(server: str) -> None:
    with local_client() as client, pytest.raises(FeedUnavailable, match="deadline passed"):
        fetch(client, f"http://{server}/feed", deadline=time.monotonic() - 1)


def test_non_http_scheme_is_refused() -> None:
    with build_http_client() as client, pytest.raises(FeedUnavailable, match="only http and https"):
        fetch(client, "file:///etc/passwd")


def mock_client(handler: object, **kwargs: object) -> httpx.Client:
    return build_http_client(transport=httpx.MockTransport(handler), **kwargs)  # type: ignore[arg-type]


def test_redirect_to_a_private_address_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://10.0.0.5/internal"})

    with (
        mock_client(handler) as client,
        pytest.raises(FeedUnavailable, match="address 10.0.0.5 is private and not allowed"),
    ):
        fetch(client, "https://feeds.example.fi/ptv")


def test_redirect_to_cloud_metadata_is_refused_even_when_private_addresses_are_allowed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(301, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    with (
        mock_client(handler, allow_private_addresses=True) as client,
        pytest.raises(FeedUnavailable, match="cloud metadata"),
    ):
        fetch(client, "https://feeds.example.fi/ptv")


def test_redirect_to_another_scheme_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "ftp://feeds.example.fi/dump"})

    with (
        mock_client(handler) as client,
        pytest.raises(FeedUnavailable, match="only http and https"),
    ):
        fetch(client, "https://feeds.example.fi/ptv")


def test_redirects_are_followed_and_params_are_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(302, headers={"Location": "/new?page=2"})
        return httpx.Response(200, content=str(request.url).encode())

    with mock_client(handler) as client:
        assert (
            fetch(client, "https://feeds.example.fi/old", params={"page": 1})
            == b"https://feeds.example.fi/new?page=2"
        )


def test_a_query_written_into_the_url_is_sent_as_it_is() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=str(request.url).encode())

    with mock_client(handler) as client:
        assert (
            fetch(client, "https://feeds.example.fi/list?guids=a,b")
            == b"https://feeds.example.fi/list?guids=a,b"
        )


def test_size_cap_counts_the_decoded_body() -> None:
    class Drip(httpx.SyncByteStream):
        def __iter__(self) -> Iterator[bytes]:
            for _ in range(100):
                yield b"x" * 1024

    with (
        mock_client(lambda request: httpx.Response(200, stream=Drip())) as client,
        pytest.raises(FeedUnavailable, match="response larger than 50 kB"),
    ):
        fetch(client, "https://feeds.example.fi/big", max_bytes=50 * 1024)


def test_timeout_from_the_transport_becomes_feed_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    with (
        mock_client(handler, connect_timeout=2) as client,
        pytest.raises(FeedUnavailable, match="timed out after 2 s"),
    ):
        fetch(client, "https://feeds.example.fi/ptv")


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("10.0.0.5", "address 10.0.0.5 is private and not allowed"),
        ("127.0.0.1", "address 127.0.0.1 is loopback and not allowed"),
        ("169.254.10.1", "address 169.254.10.1 is link-local and not allowed"),
        ("169.254.169.254", "address 169.254.169.254 is a cloud metadata endpoint and not allowed"),
        ("fd00:ec2::254", "address fd00:ec2::254 is a cloud metadata endpoint and not allowed"),
        ("224.0.0.1", "address 224.0.0.1 is multicast and not allowed"),
        ("0.0.0.0", "address 0.0.0.0 is unspecified and not allowed"),  # noqa: S104
        ("::ffff:192.168.1.1", "address 192.168.1.1 is private and not allowed"),
        ("240.0.0.1", "address 240.0.0.1 is private and not allowed"),
        ("100.64.0.1", "address 100.64.0.1 is not a public address and not allowed"),
        ("193.166.3.2", None),
    ],
)
def test_address_policy(address: str, problem: str | None) -> None:
    assert address_problem(address, allow_private=False) == problem
