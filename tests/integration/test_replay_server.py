"""The replay server the connector tests use: routes, sequences, failures, loopback only."""

from __future__ import annotations

import httpx
import pytest

from tests.replay import ReplayServer, Reply


def test_it_serves_bodies_fixtures_and_404s_and_counts_requests() -> None:
    with ReplayServer() as server:
        server.route("/api/blocks/tip/height", body="870000", content_type="text/plain")
        server.route("/status", fixture="p2pool/data-api/oieieio-2024-12__network_stats.json")
        server.route("/q", body="plain")
        server.route("/q?page=2", body="second")
        with httpx.Client(base_url=server.url) as client:
            assert client.get("/api/blocks/tip/height").text == "870000"
            assert client.get("/status").text.startswith("{")
            assert client.get("/missing").status_code == 404
            assert client.get("/q").text == "plain"
            assert client.get("/q", params={"page": 2}).text == "second"
            client.get("/api/blocks/tip/height", headers={"X-Test": "1"})
        assert server.hits("/api/blocks/tip/height") == 2
        assert server.requests[-1].headers["x-test"] == "1"


def test_sequences_delays_and_cut_connections() -> None:
    with ReplayServer() as server:
        server.sequence("/flaky", [Reply(503, b"busy"), Reply(200, b"{}")])
        server.route("/slow", body="{}", delay_s=1.0)
        server.route("/cut", body='{"a": "' + "x" * 100 + '"}', cut_after=10)
        with httpx.Client(base_url=server.url) as client:
            assert [client.get("/flaky").status_code for _ in range(3)] == [503, 200, 200]
            with pytest.raises(httpx.ReadTimeout):
                client.get("/slow", timeout=0.2)
            with pytest.raises(httpx.RemoteProtocolError):
                client.get("/cut")


def test_it_refuses_a_non_loopback_address() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ReplayServer("192.0.2.1")
