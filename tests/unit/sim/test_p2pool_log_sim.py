"""The simulated P2Pool log parses into the events the simulator says it wrote."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from rigwatch.domain.models import EventKind
from rigwatch.domain.p2pool import ATOMIC_PER_XMR
from rigwatch.protocols import p2pool_api
from rigwatch.protocols.p2pool_log import P2PoolLogParser, line_ts
from rigwatch.sim.p2pool_log import P2PoolLogSim, P2PoolSimConfig, run_p2pool_log

BUSY = P2PoolSimConfig(share_interval_s=20.0, pool_block_interval_s=120.0, status_interval_s=60.0)


def test_the_lines_parse_into_exactly_what_the_simulator_wrote() -> None:
    sim = P2PoolLogSim(seed=1, config=BUSY)
    lines = sim.advance(6 * 3600.0)
    batch = P2PoolLogParser().feed(("\n".join(lines) + "\n").encode())
    by_kind = {kind: [e for e in batch.events if e.kind is kind] for kind in EventKind}
    tally = sim.tally

    assert batch.counts.malformed == 0
    assert batch.counts.lines == tally.lines == len(lines)
    assert len(by_kind[EventKind.SHARE_FOUND]) == tally.shares > 100
    assert batch.counts.syncing == tally.syncing_shares
    found = {e.data["block_height"] for e in by_kind[EventKind.BLOCK_FOUND]}
    assert found == set(tally.blocks) and tally.blocks
    payouts = [e.data["amount_atomic"] for e in by_kind[EventKind.PAYOUT]]
    assert payouts == tally.payouts_atomic
    assert any(isinstance(a, int) and a >= ATOMIC_PER_XMR for a in payouts)  # 1 XMR and more
    assert any(isinstance(a, int) and a < ATOMIC_PER_XMR for a in payouts)
    assert len(batch.readings) == tally.hashrate_lines
    assert {r.source for r in batch.readings} == {
        "main_chain",
        "side_chain",
        "pool_side",
        "local_15m",
        "local_1h",
        "local_24h",
    }
    assert batch.counts.unknown > len(batch.events)  # mostly noise, as on a real node


def test_lines_are_in_the_log_file_format_with_increasing_utc_times() -> None:
    lines = P2PoolLogSim(seed=2, config=BUSY).advance(3600.0)
    stamped = [line for line in lines if line_ts(line) is not None]
    assert all(line.startswith(("NOTICE  ", "WARNING ")) for line in stamped)
    times = [t for line in stamped if (t := line_ts(line)) is not None]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    # Status rows and the banner continue without prefix, right after a stamped line.
    assert lines[0] in stamped
    assert any(line.startswith("Hashrate (1h  est)") for line in lines)


def test_the_same_seed_makes_the_same_log() -> None:
    a = P2PoolLogSim(seed=3).advance(7200.0)
    b = P2PoolLogSim(seed=3).advance(7200.0)
    assert a == b
    assert a != P2PoolLogSim(seed=4).advance(7200.0)


def test_both_spellings_of_kilo_occur_across_seeds() -> None:
    spellings = set()
    for seed in range(8):
        text = "\n".join(P2PoolLogSim(seed=seed, config=BUSY).advance(120.0))
        spellings |= {unit for unit in ("kH/s", "KH/s") if unit in text}
    assert spellings == {"kH/s", "KH/s"}


def test_the_data_api_files_have_p2pools_shapes() -> None:
    sim = P2PoolLogSim(seed=5, config=BUSY)
    sim.advance(3600.0)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    files = sim.data_api_files(now)
    assert all(not body.endswith(b"\n") for body in files.values())
    stats = p2pool_api.parse_data_api(files, ts=now)
    assert stats.network_height == sim.mainchain_height
    assert stats.sidechain_height == sim.sidechain_height
    assert stats.shares_found == sim.shares_found
    assert stats.hashrate_15m_hs == sim.local_hashrate_hs
    assert [w.name for w in stats.workers] == list(sim.config.workers)
    assert stats.pool_blocks_found == len(sim.tally.blocks)


async def test_the_live_writer_rotates_and_everything_it_wrote_parses(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    api = tmp_path / "api"
    stop = asyncio.Event()
    config = P2PoolSimConfig(
        share_interval_s=20.0,
        pool_block_interval_s=200.0,
        status_interval_s=60.0,
        rotate_every_lines=150,
    )
    task = asyncio.create_task(
        run_p2pool_log(
            log, seed=6, speed=600.0, stop=stop, data_api_dir=api, config=config, tick_s=0.05
        )
    )
    rotated = log.with_name("p2pool.log.1")

    for _ in range(1500):  # up to 30 s on a slow machine; a rotation comes in well under 1 s
        if rotated.exists():
            break
        await asyncio.sleep(0.02)
    stop.set()
    tally = await asyncio.wait_for(task, timeout=10)

    assert log.exists()
    assert len(rotated.read_text().splitlines()) == 150
    parser = P2PoolLogParser()
    parser.feed(rotated.read_bytes())
    parser.feed(log.read_bytes())
    assert parser.counts.malformed == 0
    assert parser.counts.events > 0
    assert tally.lines >= parser.counts.lines  # older rotated copies were replaced
    assert (api / "local" / "stratum").exists() and (api / "stats_mod").exists()
    stats = p2pool_api.parse_data_api(
        {name: (api / name).read_bytes() for name in p2pool_api.FILES if (api / name).exists()},
        ts=datetime.now(UTC),
    )
    assert stats.network_height is not None and stats.peers == 12
