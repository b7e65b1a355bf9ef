"""Simulated XMRig, T-Rex and lolMiner rigs over real loopback sockets.

Replies are compared key for key with the real captures in tests/fixtures/ (copied from
shared/fixtures/, provenance in SOURCES.md), so a poller written against the simulator
reads the real programs too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from rigwatch.sim import Fault, FaultKind, Fleet, FleetSpec, ManualClock
from rigwatch.sim.fleet import RigEndpoint, SimRig

FleetFactory = Callable[..., AbstractAsyncContextManager[Fleet]]

FIXTURES = Path(__file__).parents[2] / "fixtures"
TOKEN = "rig-secret-7"


def _real(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def assert_same_keys(sim: Any, real: Any, where: str = "$") -> None:
    """Every object in `sim` has exactly the keys of the object at the same place in `real`.

    Lists of objects are compared element by element against the real list's first one.
    """
    if isinstance(real, dict):
        assert isinstance(sim, dict), where
        assert set(sim) == set(real), f"{where}: {sorted(set(sim) ^ set(real))}"
        for key, value in real.items():
            assert_same_keys(sim[key], value, f"{where}.{key}")
    elif isinstance(real, list) and real and isinstance(real[0], dict):
        assert isinstance(sim, list) and sim, where
        for i, item in enumerate(sim):
            assert_same_keys(item, real[0], f"{where}[{i}]")


@pytest.fixture
async def farm(fleet_of: FleetFactory) -> AsyncIterator[Fleet]:
    """One Whatsminer, then an XMRig (with a token), a T-Rex and a lolMiner rig."""
    async with fleet_of(
        ("m50",), base="127.0.163.1", xmrig=1, gpu_rigs=2, xmrig_token=TOKEN, restart_s=0.1
    ) as fleet:
        yield fleet


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as client:
        yield client


def _rig(fleet: Fleet, software: str) -> SimRig:
    return next(r for r in fleet.rigs if r.software == software)


async def _get(http: httpx.AsyncClient, rig: SimRig, path: str) -> Any:
    headers = {"Authorization": f"Bearer {rig.token}"} if rig.token else {}
    response = await http.get(rig.url + path, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


# ---- where the rigs are ------------------------------------------------------------------


def test_rigs_follow_the_asics_on_their_softwares_ports(farm: Fleet) -> None:
    assert farm.ips == ["127.0.163.1"]
    assert farm.rig_endpoints == [
        RigEndpoint("xmrig", "http://127.0.163.2:18080", TOKEN),
        RigEndpoint("trex", "http://127.0.163.3:4067", None),
        RigEndpoint("lolminer", "http://127.0.163.4:4069", None),
    ]
    assert len(farm) == 1
    assert farm.miner(3) is farm.rigs[2]
    assert farm.miner("127.0.163.2") is farm.rigs[0]
    listed = {m["ip"]: m for m in farm.describe()}
    assert listed["127.0.163.3"]["software"] == "trex"
    assert listed["127.0.163.2"]["token_required"] is True
    assert listed["127.0.163.4"]["reports"]["hashrate_hs"] > 0


def test_fleet_spec_deals_rigs_after_the_asics_and_checks_counts() -> None:
    spec = FleetSpec.mix(2, xmrig=3, gpu_rigs=3)
    assert spec.rig_models == (
        "xmrig-3700x",
        "xmrig-5950x",
        "xmrig-3700x",
        "trex-1070ti-x6",
        "lolminer-1080ti-x4",
        "trex-1070ti-x6",
    )
    assert FleetSpec(models=("s19",)).rig_models == ()
    with pytest.raises(ValueError, match="negative"):
        FleetSpec(models=(), gpu_rigs=-1)
    with pytest.raises(ValueError, match="empty"):
        FleetSpec(models=(), xmrig=1, xmrig_token=" ")
    with pytest.raises(ValueError, match="unknown model"):
        FleetSpec(models=("xmrig-3700x",))


# ---- shapes of the real payloads ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/1/summary", "/2/summary"])
async def test_xmrig_summary_has_the_keys_of_the_real_5_11_1_summary(
    farm: Fleet, http: httpx.AsyncClient, path: str
) -> None:
    body = await _get(http, _rig(farm, "xmrig"), path)
    assert_same_keys(body, _real("xmrig-http/foreman-5.11.1-cpu__1-summary.json"))
    assert len(body["hashrate"]["total"]) == 3
    assert len(body["hashrate"]["threads"]) == body["cpu"]["threads"] == 16
    assert body["cpu"]["brand"] == "AMD Ryzen 7 3700X 8-Core Processor"
    assert body["algo"] == "rx/0"


async def test_xmrig_backends_have_the_keys_of_the_real_backends(
    farm: Fleet, http: httpx.AsyncClient
) -> None:
    body = await _get(http, _rig(farm, "xmrig"), "/2/backends")
    real = _real("xmrig-http/foreman-5.11.1-cpu__2-backends.json")
    assert [b["type"] for b in body] == [b["type"] for b in real] == ["cpu", "opencl", "cuda"]
    for sim_backend, real_backend in zip(body, real, strict=True):
        assert_same_keys(sim_backend, real_backend, sim_backend["type"])
    assert len(body[0]["threads"]) == 16


async def test_trex_summary_has_the_keys_of_the_real_api_3_0_summary(
    farm: Fleet, http: httpx.AsyncClient
) -> None:
    body = await _get(http, _rig(farm, "trex"), "/summary")
    real = _real("gpu-miners-http/trex/foreman-api3.0__summary.json")
    # Per GPU, fan and power as the real API 1.1 capture reports them.
    older_gpu = _real("gpu-miners-http/trex/foreman-api1.1__summary.json")["gpus"][0]
    real["gpus"][0].update(fan_speed=older_gpu["fan_speed"], power=older_gpu["power"])
    assert_same_keys(body, real)
    assert body["gpu_total"] == len(body["gpus"]) == 6
    assert [g["gpu_id"] for g in body["gpus"]] == list(range(6))
    assert all(isinstance(g["hashrate"], int) for g in body["gpus"])


async def test_lolminer_summary_has_the_keys_of_the_real_1_0_summary(
    farm: Fleet, http: httpx.AsyncClient
) -> None:
    body = await _get(http, _rig(farm, "lolminer"), "/summary")
    assert_same_keys(body, _real("gpu-miners-http/lolminer/foreman-1.0-summary__case1.json"))
    assert body["Session"]["Performance_Unit"] == "sol/s"
    assert body["Session"]["Active_GPUs"] == len(body["GPUs"]) == 4
    assert body["Session"]["Uptime"] == body["Session"]["Last_Update"] - body["Session"]["Startup"]


async def test_unknown_paths_are_not_found(farm: Fleet, http: httpx.AsyncClient) -> None:
    xmrig = _rig(farm, "xmrig")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert (await http.get(xmrig.url + "/2/nothing", headers=auth)).status_code == 404
    assert (await http.get(_rig(farm, "trex").url + "/stat")).status_code == 404
    assert (await http.post(_rig(farm, "lolminer").url + "/summary")).status_code == 405


# ---- XMRig access token ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        (f"Bearer {TOKEN}x", 403),
        ("Bearer wrong", 403),
        (f"Basic {TOKEN}", 403),
        (f"bearer {TOKEN}", 403),
        (f"Bearer {TOKEN}", 200),
    ],
)
async def test_xmrig_with_a_token_refuses_a_missing_header_with_401_and_a_wrong_one_with_403(
    farm: Fleet, http: httpx.AsyncClient, authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = await http.get(_rig(farm, "xmrig").url + "/2/summary", headers=headers)
    assert response.status_code == status
    assert response.headers["access-control-allow-origin"] == "*"
    if status != 200:
        reason = "Unauthorized" if status == 401 else "Forbidden"
        assert response.json() == {"status": status, "error": reason}


async def test_xmrig_without_a_token_is_open_but_refuses_a_token_it_does_not_expect(
    fleet_of: FleetFactory, http: httpx.AsyncClient
) -> None:
    async with fleet_of((), base="127.0.164.1", xmrig=1) as fleet:
        rig = fleet.rigs[0]
        assert rig.endpoint == RigEndpoint("xmrig", "http://127.0.164.1:18080", None)
        assert (await http.get(rig.url + "/1/summary")).status_code == 200
        sent = await http.get(rig.url + "/1/summary", headers={"Authorization": "Bearer x"})
        assert sent.status_code == 401
        assert sent.json() == {"status": 401, "error": "Unauthorized"}


async def test_xmrig_is_restricted_to_reading(farm: Fleet, http: httpx.AsyncClient) -> None:
    url = _rig(farm, "xmrig").url
    auth = {"Authorization": f"Bearer {TOKEN}"}
    rpc = {"method": "pause", "id": 1, "jsonrpc": "2.0"}
    assert (await http.post(url + "/json_rpc", json=rpc, headers=auth)).status_code == 403
    plain = await http.post(url + "/json_rpc", content=b"x", headers=auth)
    assert plain.status_code == 415
    assert (await http.get(url + "/1/config", headers=auth)).status_code == 403
    assert (await http.post(url + "/json_rpc", json=rpc)).status_code == 401


# ---- behaviour over time -----------------------------------------------------------------


async def test_hashrates_stay_near_each_models_nominal(
    farm: Fleet, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    for _ in range(12):
        clock.advance(7)
        xmrig = await _get(http, _rig(farm, "xmrig"), "/1/summary")
        trex = await _get(http, _rig(farm, "trex"), "/summary")
        lol = await _get(http, _rig(farm, "lolminer"), "/summary")
        assert xmrig["hashrate"]["total"][0] == pytest.approx(8_000, rel=0.08)
        assert sum(t[0] for t in xmrig["hashrate"]["threads"]) == pytest.approx(
            xmrig["hashrate"]["total"][0], abs=0.1
        )
        assert trex["hashrate"] == pytest.approx(6 * 19e6, rel=0.08)
        for gpu in trex["gpus"]:
            assert gpu["hashrate"] == pytest.approx(19e6, rel=0.1)
        assert lol["Session"]["Performance_Summary"] == pytest.approx(4 * 48, rel=0.08)
        assert sum(g["Performance"] for g in lol["GPUs"]) == pytest.approx(
            lol["Session"]["Performance_Summary"], abs=0.05
        )


async def test_share_counters_and_uptime_grow_while_the_rigs_mine(
    farm: Fleet, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    before = [await _get(http, rig, path) for rig, path in _paths(farm)]
    clock.advance(600)
    after = [await _get(http, rig, path) for rig, path in _paths(farm)]

    x0, x1 = before[0], after[0]
    assert x1["uptime"] == x0["uptime"] + 600
    # ~one share per 10 s at the nominal rate
    assert x1["results"]["shares_good"] - x0["results"]["shares_good"] == pytest.approx(60, rel=0.2)
    assert x1["results"]["shares_total"] > x0["results"]["shares_total"]
    assert x1["connection"]["accepted"] == x1["results"]["shares_good"]

    t0, t1 = before[1], after[1]
    assert t1["uptime"] == t0["uptime"] + 600
    assert t1["accepted_count"] - t0["accepted_count"] == pytest.approx(60, rel=0.2)
    assert t1["rejected_count"] >= t0["rejected_count"]

    l0, l1 = before[2], after[2]
    assert l1["Session"]["Uptime"] == l0["Session"]["Uptime"] + 600
    assert l1["Session"]["Accepted"] - l0["Session"]["Accepted"] == pytest.approx(60, rel=0.2)
    for g0, g1 in zip(l0["GPUs"], l1["GPUs"], strict=True):
        assert g1["Session_Accepted"] >= g0["Session_Accepted"]
        assert g1["Session_Submitted"] >= g1["Session_Accepted"]
    assert sum(g["Session_Accepted"] for g in l1["GPUs"]) == l1["Session"]["Accepted"]
    assert sum(g["Session_Submitted"] for g in l1["GPUs"]) == l1["Session"]["Submitted"]


def _paths(fleet: Fleet) -> list[tuple[SimRig, str]]:
    xmrig, trex, lolminer = fleet.rigs
    return [(xmrig, "/1/summary"), (trex, "/summary"), (lolminer, "/summary")]


async def test_a_restart_resets_uptime_and_counters_and_the_gpus_warm_up_again(
    farm: Fleet, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    trex, lolminer = _rig(farm, "trex"), _rig(farm, "lolminer")
    hot = await _get(http, trex, "/summary")
    for rig in farm.rigs:
        await rig.apply(Fault(FaultKind.RESTART))
    x = await _get(http, _rig(farm, "xmrig"), "/1/summary")
    assert x["uptime"] == 0 and x["results"]["shares_total"] == 0
    assert x["hashrate"]["total"] == [None, None, None] and x["hashrate"]["highest"] is None
    cold = await _get(http, trex, "/summary")
    assert cold["uptime"] == 0 and cold["accepted_count"] == 0
    assert max(g["temperature"] for g in cold["gpus"]) < min(g["temperature"] for g in hot["gpus"])
    lol = await _get(http, lolminer, "/summary")
    assert lol["Session"]["Uptime"] == 0 and lol["Session"]["Accepted"] == 0
    assert all(g["Session_Accepted"] == 0 for g in lol["GPUs"])

    clock.advance(300)
    warm = await _get(http, trex, "/summary")
    assert warm["accepted_count"] > 0 and warm["uptime"] == 300
    assert warm["hashrate"] == pytest.approx(6 * 19e6, rel=0.08)
    for before, now in zip(cold["gpus"], warm["gpus"], strict=True):
        assert now["temperature"] > before["temperature"] + 10
    x = await _get(http, _rig(farm, "xmrig"), "/1/summary")
    assert None not in x["hashrate"]["total"][:2]
    assert x["hashrate"]["total"][2] is None  # the 15-minute window is not full yet
    assert x["results"]["shares_good"] > 0


async def test_a_lost_gpu_stops_hashing_cools_down_and_draws_less(
    farm: Fleet, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    trex = _rig(farm, "trex")
    await farm.inject(trex.ip, "board_drop", board=2)
    clock.advance(600)
    body = await _get(http, trex, "/summary")
    lost, others = body["gpus"][2], body["gpus"][:2] + body["gpus"][3:]
    assert lost["hashrate"] == 0
    assert lost["temperature"] < min(g["temperature"] for g in others) - 15
    assert lost["power"] < min(g["power"] for g in others)
    assert body["hashrate"] == pytest.approx(5 * 19e6, rel=0.08)
