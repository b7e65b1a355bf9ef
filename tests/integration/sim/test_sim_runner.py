"""`run_sim` (behind `rigwatch sim`) prints where each miner listens and stops when cancelled."""

from __future__ import annotations

import asyncio
import io

import httpx
from rich.console import Console

from rigwatch.sim import cgminer_request, parse_fault, run_sim


async def test_run_sim_serves_until_cancelled_and_then_releases_every_address() -> None:
    out = io.StringIO()
    task = asyncio.create_task(
        run_sim(
            3,
            1,
            base="127.0.213.1",
            control_port=18992,
            seed=3,
            faults=[parse_fault("1:hot")],
            console=Console(file=out, width=200),
        )
    )
    for _ in range(100):
        if "Ctrl-C" in out.getvalue():
            break
        await asyncio.sleep(0.02)
    text = out.getvalue()
    assert "127.0.213.4" in text
    assert "hot" in text
    assert (await cgminer_request("127.0.213.1", "version"))["VERSION"][0]["Type"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    try:
        await cgminer_request("127.0.213.1", "version", timeout_s=1)
    except ConnectionRefusedError:
        pass
    else:
        raise AssertionError("the simulator still listens after cancellation")


async def test_run_sim_starts_rigs_and_a_p2pool_log_and_stops_them(tmp_path) -> None:
    out = io.StringIO()
    log = tmp_path / "p2pool.log"
    task = asyncio.create_task(
        run_sim(
            1,
            0,
            base="127.0.214.1",
            control_port=None,
            xmrig=1,
            gpu_rigs=2,
            p2pool_log=log,
            p2pool_speed=600.0,
            console=Console(file=out, width=200),
        )
    )
    for _ in range(200):
        if "Ctrl-C" in out.getvalue() and log.exists() and "SHARE FOUND" in log.read_text():
            break
        await asyncio.sleep(0.05)
    text = out.getvalue()
    assert "xmrig=http://127.0.214.2:18080" in text
    assert "trex=http://127.0.214.3:4067" in text
    assert "lolminer=http://127.0.214.4:4069" in text
    assert "NOTICE  " in log.read_text() and "SHARE FOUND" in log.read_text()
    async with httpx.AsyncClient() as client:
        reply = await client.get("http://127.0.214.3:4067/summary")
    assert reply.json()["gpus"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    size = log.stat().st_size
    await asyncio.sleep(1.5)
    assert log.stat().st_size == size, "the P2Pool log writer still runs after cancellation"
