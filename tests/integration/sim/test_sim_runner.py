"""`run_sim` (behind `rigwatch sim`) prints where each miner listens and stops when cancelled."""

from __future__ import annotations

import asyncio
import io

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
