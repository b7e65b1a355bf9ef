"""The P2Pool log tailer and data-api reader on real files: append, partial lines, rotation,
truncation, restarts; every event once, none skipped."""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from rigwatch.protocols.p2pool_log import P2PoolLogParser
from rigwatch.sentry.pollers.p2pool import P2PoolDataApiReader, P2PoolLogTailer, TailChunk
from rigwatch.sim.p2pool_log import P2PoolLogSim, P2PoolSimConfig

FIXTURES = Path(__file__).parents[2] / "fixtures" / "p2pool"
FAST = P2PoolSimConfig(
    share_interval_s=5.0,
    pool_block_interval_s=40.0,
    status_interval_s=30.0,
    noise_interval_s=2.0,
    rotate_every_lines=0,
)


@pytest.fixture(autouse=True)
def _close_every_tailer(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests make tailers freely; each is closed at the end, so no file handle leaks."""
    made: list[P2PoolLogTailer] = []
    original = P2PoolLogTailer.__init__

    def init(self: P2PoolLogTailer, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(P2PoolLogTailer, "__init__", init)
    yield
    for tailer in made:
        tailer.close()


def share(n: int, prefix: str = "NOTICE  ") -> str:
    return (
        f"{prefix}2025-01-01 00:00:{n // 10000:02d}.{n % 10000:04d} StratumServer SHARE FOUND: "
        f"mainchain height 3300000, sidechain height {9_000_000 + n}, diff 150000000, "
        f"client 127.0.0.2:4000, user rig, effort 50.000%\n"
    )


def append(path: Path, text: str | bytes) -> None:
    with path.open("ab") as f:
        f.write(text.encode() if isinstance(text, str) else text)


def heights(chunk: TailChunk) -> list[object]:
    return [e.data["sidechain_height"] for e in chunk.events]


def drain(tailer: P2PoolLogTailer, reads: int = 4) -> list[TailChunk]:
    """Read (and commit) until `reads` reads in a row brought nothing."""
    chunks: list[TailChunk] = []
    quiet = 0
    while quiet < reads:
        chunk = tailer.read_new()
        tailer.commit(chunk)
        chunks.append(chunk)
        quiet = 0 if (chunk.counts.lines or chunk.more or chunk.rotated) else quiet + 1
    return chunks


def keys(chunks: list[TailChunk]) -> list[str]:
    return [e.key for c in chunks for e in c.events]


# ---- appends and partial lines --------------------------------------------------------


def test_appended_lines_are_reported_once_each(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, share(1) + share(2))
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    first = tailer.read_new()
    assert heights(first) == [9_000_001, 9_000_002]
    assert first.position is not None and first.position.offset == log.stat().st_size
    assert tailer.read_new().events == ()
    append(log, share(3))
    assert heights(tailer.read_new()) == [9_000_003]
    assert tailer.read_new().events == ()


def test_a_partial_last_line_waits_for_its_newline(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    line = share(1)
    append(log, line[:70])
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    chunk = tailer.read_new()
    assert chunk.events == () and chunk.counts.lines == 0
    assert chunk.position is not None and chunk.position.offset == 0
    append(log, line[70:-1])
    assert tailer.read_new().events == ()
    append(log, "\n")
    (e,) = tailer.read_new().events
    assert e.data["effort_pct"] == 50.0  # parsed from the whole line, not a piece


def test_a_log_that_does_not_exist_yet_is_picked_up_when_it_appears(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    empty = tailer.read_new()
    assert empty.position is None and empty.events == ()
    tailer.commit(empty)  # nothing to save
    assert not tailer.state_path.exists()
    append(log, share(1))
    assert heights(tailer.read_new()) == [9_000_001]


def test_status_rows_read_before_any_timestamp_get_the_time_of_reading(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, "Side chain hashrate       = 12.291 MH/s\n")
    before = datetime.now(UTC)
    (r,) = P2PoolLogTailer(log, tmp_path / "state").read_new().readings
    assert r.ts is not None and r.ts >= before
    assert r.hashrate_hs == 12.291e6


def test_a_line_longer_than_the_buffer_does_not_stall_the_tailer(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, "x" * 5000 + "\n" + share(1))
    tailer = P2PoolLogTailer(log, tmp_path / "state", max_bytes=1024)
    chunks = drain(tailer)
    assert [h for c in chunks for h in heights(c)] == [9_000_001]


# ---- rotation -----------------------------------------------------------------------------


def test_rotation_finishes_the_old_file_then_reads_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    assert heights(tailer.read_new()) == [9_000_001]
    append(log, share(2))
    os.replace(log, tmp_path / "p2pool.log.1")
    append(log, share(3))
    chunks = drain(tailer)
    assert [h for c in chunks for h in heights(c)] == [9_000_002, 9_000_003]
    assert any(c.rotated for c in chunks)


def test_lines_the_writer_adds_to_the_renamed_file_are_not_lost(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    writer = log.open("a")
    writer.write(share(1))
    writer.flush()
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    assert heights(tailer.read_new()) == [9_000_001]
    os.replace(log, tmp_path / "p2pool.log.1")
    append(log, share(4))
    # The writer has not reopened yet: it still writes to the renamed file.
    assert tailer.read_new().events == ()  # noticed the rotation, waits for quiet
    writer.write(share(2) + share(3))
    writer.close()
    got = [h for c in drain(tailer) for h in heights(c)]
    assert got == [9_000_002, 9_000_003, 9_000_004]


def test_an_unterminated_last_line_of_a_rotated_file_is_read_at_the_switch(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, share(1) + share(2).rstrip("\n"))
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    assert heights(tailer.read_new()) == [9_000_001]
    os.replace(log, tmp_path / "p2pool.log.1")
    append(log, share(3))
    assert [h for c in drain(tailer) for h in heights(c)] == [9_000_002, 9_000_003]


def test_a_rotated_file_deleted_while_open_is_still_finished(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    tailer.read_new()
    append(log, share(2))
    os.unlink(log)
    append(log, share(3))
    assert [h for c in drain(tailer) for h in heights(c)] == [9_000_002, 9_000_003]


# ---- truncation -----------------------------------------------------------------------------


def test_a_truncated_file_is_read_again_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, share(1) + share(2))
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    tailer.read_new()
    os.truncate(log, 0)  # copytruncate
    append(log, share(3))
    chunk = tailer.read_new()
    assert chunk.truncated
    assert heights(chunk) == [9_000_003]


def test_a_file_rewritten_past_the_old_offset_is_seen_by_its_first_bytes(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, tmp_path / "state")
    tailer.read_new()
    with log.open("r+b") as f:  # same inode, new content longer than before
        f.write((share(5) + share(6)).encode())
    chunk = tailer.read_new()
    assert chunk.truncated
    assert heights(chunk) == [9_000_005, 9_000_006]


# ---- restarts ----------------------------------------------------------------------------------


def test_a_restart_resumes_after_the_last_committed_chunk(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    tailer.commit(tailer.read_new())
    append(log, share(2))
    uncommitted = tailer.read_new()
    assert heights(uncommitted) == [9_000_002]
    tailer.close()  # the sentry stops before handing share 2 on

    again = P2PoolLogTailer(log, state)
    chunk = again.read_new()
    assert [e.key for e in chunk.events] == [e.key for e in uncommitted.events]
    again.commit(chunk)
    append(log, share(3))
    latest = again.read_new()
    assert heights(latest) == [9_000_003]
    again.commit(latest)
    again.close()
    assert P2PoolLogTailer(log, state).read_new().events == ()


def test_the_state_file_is_small_json_written_without_a_temporary_left(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    tailer.commit(tailer.read_new())
    assert [p.name for p in state.iterdir()] == [tailer.state_path.name]
    saved = orjson.loads(tailer.state_path.read_bytes())
    assert saved["inode"] == log.stat().st_ino
    assert saved["offset"] == log.stat().st_size
    assert bytes.fromhex(saved["head"]) == log.read_bytes()[:64]


def test_committing_an_older_chunk_after_a_newer_one_changes_nothing(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    older = tailer.read_new()
    append(log, share(2))
    newer = tailer.read_new()
    tailer.commit(newer)
    tailer.commit(older)
    assert tailer.committed == newer.position


def test_rewind_reads_the_uncommitted_lines_again(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    tailer.commit(tailer.read_new())
    append(log, share(2))
    assert heights(tailer.read_new()) == [9_000_002]
    tailer.rewind()  # the hand-off failed
    assert heights(tailer.read_new()) == [9_000_002]


def test_a_restart_after_a_rotation_finishes_the_rotated_file_first(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    tailer.commit(tailer.read_new())
    tailer.close()
    # While the sentry is down: more lines, a rotation, a new file.
    append(log, share(2))
    os.replace(log, tmp_path / "p2pool.log.1")
    append(log, share(3))
    chunks = drain(P2PoolLogTailer(log, state))
    assert [h for c in chunks for h in heights(c)] == [9_000_002, 9_000_003]
    assert not any(c.lost for c in chunks)


def test_a_restart_whose_file_is_gone_reads_the_new_log_and_says_so(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    tailer.commit(tailer.read_new())
    tailer.close()
    log.unlink()
    append(log, share(3))
    chunk = P2PoolLogTailer(log, state).read_new()
    assert chunk.lost
    assert heights(chunk) == [9_000_003]


def test_a_garbled_state_file_means_reading_from_the_top(tmp_path: Path) -> None:
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    append(log, share(1))
    tailer = P2PoolLogTailer(log, state)
    tailer.commit(tailer.read_new())
    tailer.state_path.write_bytes(b"{not json")
    assert heights(P2PoolLogTailer(log, state).read_new()) == [9_000_001]


# ---- same keys, no duplicates, no gaps -------------------------------------------------------


def test_reading_a_log_again_from_the_start_gives_the_same_keys(tmp_path: Path) -> None:
    log = tmp_path / "p2pool.log"
    sim = P2PoolLogSim(seed=3, config=FAST)
    append(log, "\n".join(sim.advance(2000.0)) + "\n")
    first = keys(drain(P2PoolLogTailer(log, tmp_path / "a")))
    second = keys(drain(P2PoolLogTailer(log, tmp_path / "b", max_bytes=4096)))
    assert first == second
    assert len(first) > 50


@pytest.mark.parametrize("seed", [11, 102, 109])
def test_every_event_exactly_once_through_writes_rotations_and_restarts(
    tmp_path: Path, seed: int
) -> None:
    """A writer that flushes at any byte, rotates (rename, keeps writing to the renamed
    file until it reopens at a line end) and a sentry that restarts at random moments."""
    rng = random.Random(seed)
    log, state = tmp_path / "p2pool.log", tmp_path / "state"
    sim = P2PoolLogSim(seed=seed, config=FAST)
    stream = ("\n".join(sim.advance(3000.0)) + "\n").encode()
    writer = log.open("ab")
    tailer = P2PoolLogTailer(log, state, max_bytes=2048)
    got: list[str] = []
    pos = rotations = restarts = 0

    def read() -> TailChunk:
        chunk = tailer.read_new()
        got.extend(e.key for e in chunk.events)
        tailer.commit(chunk)
        return chunk

    # The sentry has seen the log once (a state exists) before the games begin; a first
    # start with no state reads the current log only, not older rotated copies.
    pos = stream.find(b"\n") + 1
    writer.write(stream[:pos])
    writer.flush()
    read()
    while pos < len(stream):
        step = rng.random()
        if step < 0.6:
            n = rng.randint(1, 2000)
            writer.write(stream[pos : pos + n])
            writer.flush()
            pos += n
        elif step < 0.7:
            rotations += 1
            os.replace(log, tmp_path / f"p2pool.log.{rotations}")
            if rng.random() < 0.5:
                read()  # the tailer looks while the writer is still on the renamed file
            end = stream.find(b"\n", pos) + 1 or len(stream)
            writer.write(stream[pos:end])
            writer.close()
            pos = end
            writer = log.open("ab")
        elif step < 0.75:
            restarts += 1
            tailer.close()
            tailer = P2PoolLogTailer(log, state, max_bytes=2048)
        else:
            read()
    writer.close()
    quiet = 0
    while quiet < 4:  # rotated copies still queued take a couple of reads each
        chunk = read()
        quiet = 0 if (chunk.counts.lines or chunk.rotated or chunk.more) else quiet + 1
    expected = [e.key for e in P2PoolLogParser().feed(stream).events]
    assert rotations > 5 and restarts > 5
    assert got == expected


# ---- the data-api reader ------------------------------------------------------------------


def data_api(tmp_path: Path, source: str) -> Path:
    root = tmp_path / "api"
    for fixture in (FIXTURES / "data-api").glob(f"{source}__*.json"):
        name = fixture.name.split("__", 1)[1].removesuffix(".json")
        if name.startswith(("local_", "pool_", "network_")):
            name = name.replace("_", "/", 1)
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(fixture, target)
    return root


def test_the_reader_reads_a_whole_data_api_directory(tmp_path: Path) -> None:
    root = data_api(tmp_path, "oieieio-2024-12")
    assert (root / "local" / "stratum").exists() and (root / "stats_mod").exists()
    reader = P2PoolDataApiReader(root)
    read = reader.read()
    assert read.errors == ()
    assert read.stats.hashrate_15m_hs == 21209.0
    assert read.stats.peers == 83
    assert read.stats.pool_blocks_found == 51
    assert read.stats.network_height == 3305366
    assert read.stats.ts.tzinfo is UTC


def test_missing_files_leave_their_fields_none(tmp_path: Path) -> None:
    root = data_api(tmp_path, "hreikin-2025-02")
    shutil.rmtree(root / "local")
    read = P2PoolDataApiReader(root).read()
    assert read.errors == ()
    assert read.stats.hashrate_15m_hs is None and read.stats.peers is None
    assert read.stats.pool_miners == 1587
    assert P2PoolDataApiReader(tmp_path / "nowhere").read().stats.pool_miners is None


def test_a_garbled_file_is_counted_and_costs_only_its_own_fields(tmp_path: Path) -> None:
    root = data_api(tmp_path, "oieieio-2024-12")
    (root / "pool" / "stats").write_bytes(b'{"pool_statistics": {"hashRate": 1')  # half-written
    reader = P2PoolDataApiReader(root)
    read = reader.read()
    assert len(read.errors) == 1 and read.errors[0].startswith("pool/stats")
    assert reader.errors == 1
    assert read.stats.pool_blocks_found is None
    assert read.stats.pool_miners == 1407  # stats_mod still says it
    assert read.stats.hashrate_15m_hs == 21209.0
