"""A simulated Monero P2Pool node that writes a live log file (and, optionally, a data API).

The log is in P2Pool's `--log-file` form (PROTOCOLS.md 4.1): `NOTICE  ` / `WARNING `
prefix, UTC timestamps with 4 decimals, status blocks whose rows carry no prefix.
It holds what the tailer must cope with on a real node: mostly noise lines, a share
every few minutes, now and then a block found by the pool, payouts (some of 1 XMR or
more), status blocks with hashrates in `kH/s` or `KH/s`, and rotation (rename to `.1`,
start a new file). The wording of the noise lines is rigwatch's own; the event lines
follow the documented formats exactly, since those are what the parser is tested on.

`P2PoolLogSim` only makes lines (deterministic for a seed, so tests and the benchmark
can use it without files); `run_p2pool_log` writes them in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from rigwatch.domain.p2pool import ATOMIC_PER_XMR

BLOCK_TIME_S = 120.0
SIDECHAIN_BLOCK_TIME_S = 10.0
_TICK = timedelta(microseconds=100)


@dataclass(frozen=True, slots=True)
class P2PoolSimConfig:
    """Mean seconds between things, in simulated time; `speed` scales them to wall time."""

    share_interval_s: float = 180.0
    pool_block_interval_s: float = 1800.0
    status_interval_s: float = 300.0
    noise_interval_s: float = 1.5
    rotate_every_lines: int = 20_000
    big_payout_chance: float = 0.25
    own_block_chance: float = 0.2
    no_payout_chance: float = 0.15
    syncing_share_chance: float = 0.02
    workers: tuple[str, ...] = ("rig-01", "rig-02", "rig-03")
    wallet: str = (
        "4SIMULATEDwalletXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"
    )
    worker_hashrate_hs: float = 7_000.0


@dataclass(slots=True)
class SimTally:
    """What the simulator wrote, so tests can compare the parser's findings with it."""

    lines: int = 0
    shares: int = 0
    syncing_shares: int = 0
    blocks: list[int] = field(default_factory=list)
    payouts_atomic: list[int] = field(default_factory=list)
    hashrate_lines: int = 0


def _rate(hs: float, upper_k: bool) -> str:
    """Hashrate the way P2Pool prints it: 3 decimals, SI prefix, `kH/s` (or old `KH/s`)."""
    units = ["H/s", "KH/s" if upper_k else "kH/s", "MH/s", "GH/s", "TH/s"]
    i = 0
    while hs >= 1000 and i < len(units) - 1:
        hs /= 1000
        i += 1
    return f"{hs:.3f} {units[i]}" if i else f"{hs:.0f} {units[i]}"


def _xmr(atomic: int) -> str:
    return f"{atomic // ATOMIC_PER_XMR}.{atomic % ATOMIC_PER_XMR:012d}"


class P2PoolLogSim:
    """Makes the lines of a P2Pool log for a stretch of simulated time."""

    def __init__(
        self, *, seed: int, config: P2PoolSimConfig | None = None, start: datetime | None = None
    ) -> None:
        self.config = config or P2PoolSimConfig()
        self.rng = random.Random(seed)
        self.tally = SimTally()
        self.upper_k = self.rng.random() < 0.5
        self.t = 0.0
        self.start = start or datetime(2025, 1, 1, tzinfo=UTC)
        self._last_ts: datetime | None = None
        self.mainchain_height = 3_300_000 + self.rng.randrange(100_000)
        self.sidechain_height = 9_400_000 + self.rng.randrange(100_000)
        self.sidechain_diff = 140_000_000
        self.network_diff = 390_000_000_000
        self.shares_found = 0
        self.total_hashes = 0
        self.effort_hashes = 0.0
        self.last_share_t = 0.0
        self.blocks_found = 0
        c = self.config
        self._next = {
            "share": self._gap(c.share_interval_s),
            "pool_block": self._gap(c.pool_block_interval_s),
            "status": c.status_interval_s,
            "noise": self._gap(c.noise_interval_s),
            "tip": SIDECHAIN_BLOCK_TIME_S,
            "main": BLOCK_TIME_S,
        }

    # ---- the figures a data API would show ---------------------------------------

    @property
    def local_hashrate_hs(self) -> float:
        return self.config.worker_hashrate_hs * len(self.config.workers)

    @property
    def pool_hashrate_hs(self) -> float:
        return self.sidechain_diff / SIDECHAIN_BLOCK_TIME_S

    @property
    def network_hashrate_hs(self) -> float:
        return self.network_diff / BLOCK_TIME_S

    # ---- line making -------------------------------------------------------------

    def _gap(self, mean: float) -> float:
        return self.rng.expovariate(1.0 / mean) if mean > 0 else float("inf")

    def _stamp(self, wall: datetime | None) -> str:
        base = wall if wall is not None else self.start + timedelta(seconds=self.t)
        if self._last_ts is not None and base <= self._last_ts:
            base = self._last_ts + _TICK
        self._last_ts = base
        return f"{base:%Y-%m-%d %H:%M:%S}.{base.microsecond // 100:04d}"

    def _line(
        self, out: list[str], wall: datetime | None, text: str, sev: str = "NOTICE  "
    ) -> None:
        out.append(f"{sev}{self._stamp(wall)} {text}")

    def advance(self, seconds: float, *, wall: datetime | None = None) -> list[str]:
        """Lines for the next `seconds` of simulated time, in order, without newlines.

        Timestamps come from the simulated clock, or from `wall` (kept strictly
        increasing) when a live file is written.
        """
        out: list[str] = []
        end = self.t + seconds
        while True:
            what, at = min(self._next.items(), key=lambda kv: kv[1])
            if at > end:
                break
            self.t = at
            getattr(self, f"_on_{what}")(out, wall)
        self.t = end
        self.total_hashes += int(self.local_hashrate_hs * seconds)
        self.effort_hashes += self.local_hashrate_hs * seconds
        self.tally.lines += len(out)
        return out

    def _on_tip(self, out: list[str], wall: datetime | None) -> None:
        self._next["tip"] = self.t + self._gap(SIDECHAIN_BLOCK_TIME_S)
        self.sidechain_height += 1
        self.sidechain_diff = max(1, int(self.sidechain_diff * self.rng.uniform(0.995, 1.005)))
        self._line(
            out,
            wall,
            f"SideChain new chain tip: next height = {self.sidechain_height + 1}, "
            f"next difficulty = {self.sidechain_diff}, main chain height = {self.mainchain_height}",
        )
        clients = len(self.config.workers)
        self._line(out, wall, f"StratumServer sent new job to {clients}/{clients} clients")

    def _on_main(self, out: list[str], wall: datetime | None) -> None:
        self._next["main"] = self.t + self._gap(BLOCK_TIME_S)
        self.mainchain_height += 1
        self._line(
            out,
            wall,
            f"P2Pool main chain moved to height {self.mainchain_height} "
            f"(difficulty {self.network_diff})",
        )

    def _on_noise(self, out: list[str], wall: datetime | None) -> None:
        self._next["noise"] = self.t + self._gap(self.config.noise_interval_s)
        rng = self.rng
        # Loopback addresses even in text: the simulation names no real host.
        peer = f"127.0.250.{rng.randrange(1, 255)}:{rng.choice((37889, 37888))}"
        choice = rng.random()
        if choice < 0.35:
            self._line(out, wall, f"P2PServer connected to peer {peer}")
        elif choice < 0.65:
            self._line(out, wall, f"P2PServer peer {peer} disconnected")
        elif choice < 0.85:
            self._line(out, wall, f"ZMQReader got {rng.randrange(1, 40)} new transactions")
        elif choice < 0.97:
            self._line(out, wall, f"P2PServer sending peer list to {peer}")
        else:
            self._line(out, wall, f"P2PServer peer {peer} sent a bad message", "WARNING ")

    def _on_share(self, out: list[str], wall: datetime | None) -> None:
        c = self.config
        self._next["share"] = self.t + self._gap(c.share_interval_s)
        rng = self.rng
        index = rng.randrange(len(c.workers))
        client = f"127.0.0.{index + 2}:{40000 + index}"
        if rng.random() < c.syncing_share_chance:
            self.tally.syncing_shares += 1
            diff = 100_000
        else:
            self.tally.shares += 1
            self.shares_found += 1
            diff = int(self.sidechain_diff * rng.uniform(1.0, 3.0))
        # Effort is hashes since the last share over the share's expected hashes: with
        # shares at the configured mean interval, that is time since it over the mean.
        effort = 100.0 * (self.t - self.last_share_t) / c.share_interval_s
        if diff != 100_000:
            self.last_share_t = self.t
            self.effort_hashes = 0.0
        self._line(
            out,
            wall,
            f"StratumServer SHARE FOUND: mainchain height {self.mainchain_height}, "
            f"sidechain height {self.sidechain_height}, diff {diff}, client {client}, "
            f"user {c.workers[index]}, effort {effort:.3f}%",
        )

    def _on_pool_block(self, out: list[str], wall: datetime | None) -> None:
        c = self.config
        self._next["pool_block"] = self.t + self._gap(c.pool_block_interval_s)
        rng = self.rng
        self.mainchain_height += 1
        self._next["main"] = self.t + self._gap(BLOCK_TIME_S)
        height = self.mainchain_height
        self.blocks_found += 1
        self.tally.blocks.append(height)
        mine = rng.random() < c.own_block_chance
        if mine:
            self._line(
                out,
                wall,
                f"P2Pool submit_block: BLOCK ACCEPTED at height {height} "
                f"and difficulty = {self.network_diff}",
            )
        by = "you" if mine else "someone else in this p2pool"
        self._line(
            out, wall, f"P2Pool BLOCK FOUND: main chain block at height {height} was mined by {by}"
        )
        # The real banner is ASCII art on unprefixed lines; this one is rigwatch's own.
        out.extend(["#" * 40, f"#  Monero block {height}".ljust(39) + "#", "#" * 40])
        if rng.random() < c.no_payout_chance:
            self._line(
                out,
                wall,
                f"P2Pool Your wallet {c.wallet} didn't get a payout in block {height} "
                "because you had no shares in PPLNS window",
            )
            return
        if rng.random() < c.big_payout_chance:
            atomic = rng.randrange(ATOMIC_PER_XMR, 4 * ATOMIC_PER_XMR)
        else:
            atomic = rng.randrange(100_000_000, 10_000_000_000)
        self.tally.payouts_atomic.append(atomic)
        self._line(
            out,
            wall,
            f"P2Pool Your wallet {c.wallet} got a payout of {_xmr(atomic)} XMR in block {height}",
        )

    def _on_status(self, out: list[str], wall: datetime | None) -> None:
        c = self.config
        self._next["status"] = self.t + c.status_interval_s
        k = self.upper_k
        local = self.local_hashrate_hs * self.rng.uniform(0.9, 1.1)
        rows_side = [
            ("Main chain height", str(self.mainchain_height)),
            ("Main chain hashrate", _rate(self.network_hashrate_hs, k)),
            ("Side chain ID", "mini"),
            ("Side chain height", str(self.sidechain_height + 1)),
            ("Side chain hashrate", _rate(self.pool_hashrate_hs, k)),
            ("Your hashrate (pool-side)", _rate(local, k)),
            ("PPLNS window", "2160 blocks (+64 uncles, 0 orphans)"),
            ("Your wallet address", c.wallet),
            ("Your shares", f"{min(self.shares_found, 99)} blocks (+0 uncles, 0 orphans)"),
        ]
        rows_stratum = [
            ("Hashrate (15m est)", _rate(local * self.rng.uniform(0.95, 1.05), k)),
            ("Hashrate (1h  est)", _rate(local, k)),
            ("Hashrate (24h est)", _rate(self.local_hashrate_hs, k)),
            ("Total hashes", str(self.total_hashes)),
            ("Shares found", str(self.shares_found)),
            ("Connections", f"{len(c.workers)} ({len(c.workers)} incoming)"),
        ]
        self._line(out, wall, "SideChain status")
        out.extend(f"{label:<26}= {value}" for label, value in rows_side)
        self._line(out, wall, "StratumServer status")
        out.extend(f"{label:<21}= {value}" for label, value in rows_stratum)
        self.tally.hashrate_lines += 6

    # ---- data API ----------------------------------------------------------------

    def data_api_files(self, now: datetime) -> dict[str, bytes]:
        """The `--data-api` files in p2pool's shapes (compact JSON, no trailing newline)."""
        c = self.config
        unix = int(now.timestamp())
        local = self.local_hashrate_hs
        dump = orjson.dumps
        workers = [
            f"127.0.0.{i + 2}:{40000 + i},{int(self.t)},{self.sidechain_diff // 300},"
            f"{int(c.worker_hashrate_hs)},{name}"
            for i, name in enumerate(c.workers)
        ]
        return {
            "local/stratum": dump(
                {
                    "hashrate_15m": int(local),
                    "hashrate_1h": int(local),
                    "hashrate_24h": int(local),
                    "total_hashes": self.total_hashes,
                    "shares_found": self.shares_found,
                    "shares_failed": 0,
                    "average_effort": 100.0,
                    "current_effort": round(100 * self.effort_hashes / self.sidechain_diff, 3),
                    "connections": len(c.workers),
                    "incoming_connections": len(c.workers),
                    "block_reward_share_percent": 0.27,
                    "workers": workers,
                }
            ),
            "local/p2p": dump(
                {
                    "connections": 12,
                    "incoming_connections": 4,
                    "peer_list_size": 800,
                    "peers": [],
                    "uptime": int(self.t),
                }
            ),
            "pool/stats": dump(
                {
                    "pool_list": ["pplns"],
                    "pool_statistics": {
                        "hashRate": int(self.pool_hashrate_hs),
                        "miners": 1400,
                        "totalHashes": self.total_hashes * 1000,
                        "lastBlockFoundTime": unix,
                        "lastBlockFound": self.tally.blocks[-1] if self.tally.blocks else 0,
                        "totalBlocksFound": self.blocks_found,
                        "pplnsWeight": self.sidechain_diff * 2160,
                        "pplnsWindowSize": 2160,
                        "sidechainDifficulty": self.sidechain_diff,
                        "sidechainHeight": self.sidechain_height,
                    },
                }
            ),
            "network/stats": dump(
                {
                    "difficulty": self.network_diff,
                    "hash": "00" * 32,
                    "height": self.mainchain_height,
                    "reward": 600_000_000_000,
                    "timestamp": unix,
                }
            ),
            "stats_mod": dump(
                {
                    "config": {
                        "ports": [{"port": 3333, "tls": False}],
                        "fee": 0,
                        "minPaymentThreshold": 300_000_000,
                    },
                    "network": {"height": self.mainchain_height},
                    "pool": {
                        "stats": {"lastBlockFound": str(unix * 1000)},
                        "blocks": [],
                        "miners": 1400,
                        "hashrate": int(self.pool_hashrate_hs),
                        "roundHashes": int(self.effort_hashes),
                    },
                }
            ),
        }


class P2PoolLogWriter:
    """Appends lines to a log file and rotates it (rename to `.1`) every N lines."""

    def __init__(self, path: Path, rotate_every_lines: int) -> None:
        self.path = Path(path)
        self.rotate_every_lines = rotate_every_lines
        self.rotations = 0
        self._written = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._f = self.path.open("a", encoding="utf-8")

    def write(self, lines: list[str]) -> None:
        for line in lines:
            self._f.write(line + "\n")
            self._written += 1
            if self.rotate_every_lines and self._written >= self.rotate_every_lines:
                self.rotate()
        self._f.flush()

    def rotate(self) -> None:
        self._f.close()
        os.replace(self.path, self.path.with_name(self.path.name + ".1"))
        self._f = self.path.open("a", encoding="utf-8")
        self._written = 0
        self.rotations += 1

    def close(self) -> None:
        self._f.close()


def write_data_api(directory: Path, files: dict[str, bytes]) -> None:
    """Each file replaced atomically, so a reader never sees half of one."""
    for name, body in files.items():
        target = Path(directory) / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(body)
        os.replace(tmp, target)


async def run_p2pool_log(
    path: Path,
    *,
    seed: int,
    speed: float,
    stop: asyncio.Event,
    data_api_dir: Path | None = None,
    config: P2PoolSimConfig | None = None,
    tick_s: float = 1.0,
) -> SimTally:
    """Write a live simulated P2Pool log at `path` until `stop` is set.

    `speed` multiplies simulated time (60: a minute of node activity per second), so
    tests and the demo see shares and blocks without waiting. With `data_api_dir`, the
    data-api files are rewritten there every tick. Returns what was written.
    """
    sim = P2PoolLogSim(seed=seed, config=config)
    writer = await asyncio.to_thread(P2PoolLogWriter, path, sim.config.rotate_every_lines)
    try:
        while not stop.is_set():
            now = datetime.now(UTC)
            lines = sim.advance(tick_s * speed, wall=now)
            await asyncio.to_thread(writer.write, lines)
            if data_api_dir is not None:
                await asyncio.to_thread(write_data_api, data_api_dir, sim.data_api_files(now))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=tick_s)
    finally:
        await asyncio.to_thread(writer.close)
    return sim.tally
