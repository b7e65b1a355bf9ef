"""XMRig and xmrig-proxy parsers on real captured bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from rigwatch.domain.models import DeviceKind
from rigwatch.protocols import xmrig
from rigwatch.protocols.errors import ProtocolError

XMRIG = Path(__file__).resolve().parents[2] / "fixtures" / "xmrig-http"
TS = datetime(2024, 1, 1, tzinfo=UTC)
I7_8750H = "Intel(R) Core(TM) i7-8750H CPU @ 2.20GHz"


def body(name: str) -> Any:
    return xmrig.decode_body((XMRIG / name).read_bytes())


def test_xmrig_5_11_cpu_summary_and_backends():
    facts, s = xmrig.parse_summary(
        body("foreman-5.11.1-cpu__1-summary.json"),
        ts=TS,
        backends=body("foreman-5.11.1-cpu__2-backends.json"),
    )
    assert facts.make == "XMRig"
    assert facts.software == "XMRig 5.11.1"
    assert facts.firmware == "5.11.1"
    assert facts.model == I7_8750H
    assert facts.worker == "LAPTOP-I9PPS5BU"
    assert facts.is_mining is True
    # total [445.81, null, null]: the 10 s window is the only one with data
    assert s.hashrate_hs == 445.81
    assert s.uptime_s == 18
    assert s.algorithm == "rx/0"
    assert s.pool_url == "donate.v2.xmrig.com:3333"
    assert (s.accepted, s.rejected) == (0, 0)
    (cpu,) = s.devices  # opencl and cuda backends are disabled
    assert cpu.kind is DeviceKind.CPU
    assert cpu.name == I7_8750H
    assert cpu.hashrate_hs == 1104.88


def test_xmrig_with_a_cuda_backend_has_a_gpu_device_with_health():
    facts, s = xmrig.parse_summary(
        body("foreman-new__1-summary.json"), ts=TS, backends=body("foreman-new__2-backends.json")
    )
    assert facts.software == "XMRig 5.5.3"
    assert facts.model == f"{I7_8750H} + GeForce GTX 1050 Ti"
    assert s.hashrate_hs == 899.09
    assert s.uptime_s == 71
    cpu, gpu = s.devices
    assert cpu.kind is DeviceKind.CPU
    assert cpu.hashrate_hs == 924.59
    assert gpu.kind is DeviceKind.GPU
    assert gpu.index == 0
    assert gpu.name == "GeForce GTX 1050 Ti"
    assert gpu.bus_id == "01:00.0"
    assert gpu.hashrate_hs == 161.95
    assert gpu.temp_c == 48.0
    assert gpu.power_w is None  # "power": 0
    assert gpu.core_clock_mhz == 1784.0
    assert gpu.mem_clock_mhz == 2504.0
    assert s.temp_c == 48.0


def test_xmrig_summary_alone_makes_one_cpu_device():
    facts, s = xmrig.parse_summary(body("foreman-new__1-summary.json"), ts=TS)
    (cpu,) = s.devices
    assert cpu.kind is DeviceKind.CPU
    assert cpu.hashrate_hs == 899.09
    assert facts.model == I7_8750H


def test_old_xmrig_nvidia_health_list_gives_one_device_per_gpu():
    facts, s = xmrig.parse_summary(body("foreman-old-nvidia__root.json"), ts=TS)
    assert facts.software == "XMRig 2.6.1"
    assert facts.model == "8x GeForce GTX 1070 Ti"
    assert facts.worker == "DESKTOP-P3EFAF7"
    assert s.hashrate_hs == 3522.59
    assert s.uptime_s is None  # 2.x has no miner uptime
    assert (s.accepted, s.rejected) == (4, 0)
    assert s.pool_url == "pool.supportxmr.com:7777"
    assert s.algorithm == "cryptonight"
    assert len(s.devices) == 8
    first = s.devices[0]
    assert first.hashrate_hs == 477.26  # threads[0], one thread per GPU
    assert first.temp_c == 54.0
    assert first.fan_pct == 53.0
    assert first.power_w == 93.0
    assert first.core_clock_mhz == 1961.0
    assert first.mem_clock_mhz == 4158.0
    assert s.power_w == 93 + 76 + 77 + 76 + 75 + 77 + 76 + 53
    assert s.temp_max_c == 54.0


def test_xmrig_2_6_doc_example_counts_shares():
    facts, s = xmrig.parse_summary(body("xmrig-doc__summary.json"), ts=TS)
    assert facts.software == "XMRig 2.6.0-beta3"
    assert facts.model == "Intel(R) Core(TM) i7-4770 CPU @ 3.40GHz"
    assert s.hashrate_hs == 296.24
    assert (s.accepted, s.rejected) == (30, 0)
    assert s.pool_url == "pool.monero.hashvault.pro:3333"


def test_xmrig_rates_are_hashes_per_second_and_null_windows_are_skipped():
    data = body("foreman-new__1-summary.json")
    data["hashrate"]["total"] = [None, 953.1, None]
    _, s = xmrig.parse_summary(data, ts=TS)
    assert s.hashrate_hs == 953.1
    data["hashrate"]["total"] = [None, None, None]
    _, s = xmrig.parse_summary(data, ts=TS)
    assert s.hashrate_hs is None


def test_paused_xmrig_says_so():
    data = body("foreman-new__1-summary.json")
    data["paused"] = True
    facts, s = xmrig.parse_summary(data, ts=TS)
    assert facts.is_mining is False
    assert s.errors == ("paused",)


def test_rejected_shares_are_total_minus_good():
    data = body("xmrig-doc__summary.json")
    data["results"]["shares_total"] = 33
    _, s = xmrig.parse_summary(data, ts=TS)
    assert (s.accepted, s.rejected) == (30, 3)


# NO REAL CAPTURE of an xmrig-proxy summary exists in shared/fixtures. This is the
# example on the xmrig-proxy wiki "API" page (xmrig-proxy 2.4.0-dev), as published.
PROXY_WIKI_EXAMPLE = {
    "id": "85ae231636d180c3",
    "worker_id": "proxy",
    "version": "2.4.0-dev",
    "kind": "proxy",
    "ua": "xmrig-proxy/2.4.0-dev (Windows NT 10.0; Win64; x64) libuv/1.13.1 gcc/7.1.0",
    "donate_level": 2,
    "donated": 0.0,
    "uptime": 274,
    "hashrate": {"total": [0.0, 0.0, 0.0, 0.0, 0.0]},
    "miners": {"now": 1, "max": 1},
    "upstreams": 1,
    "results": {
        "accepted": 9,
        "rejected": 0,
        "invalid": 0,
        "avg_time": 30,
        "latency": 86,
        "hashes_total": 18000,
        "hashes_donate": 0,
        "best": [62072, 16792, 8239, 7117, 3872, 2776, 2350, 2327, 2076, 0],
        "error_log": [],
    },
}


def test_xmrig_proxy_summary_is_recognised_and_read():
    facts, s = xmrig.parse_summary(PROXY_WIKI_EXAMPLE, ts=TS)
    assert facts.software == "xmrig-proxy 2.4.0-dev"
    assert facts.model == "xmrig-proxy"
    assert facts.worker == "proxy"
    assert s.hashrate_hs == 0.0
    assert (s.accepted, s.rejected) == (9, 0)
    assert s.uptime_s == 274
    assert s.devices == ()


def test_xmrig_proxy_rates_are_kilohashes():
    data = {**PROXY_WIKI_EXAMPLE, "hashrate": {"total": [12.34, 11.0, 0.0, 0.0, 0.0, 0.0]}}
    _, s = xmrig.parse_proxy_summary(data, ts=TS)
    assert s.hashrate_hs == pytest.approx(12340.0)


def test_a_json_array_is_not_a_summary():
    with pytest.raises(ProtocolError):
        xmrig.parse_summary(body("foreman-new__2-backends.json"), ts=TS)
    with pytest.raises(ProtocolError):
        xmrig.decode_body(b'{"id": ')
