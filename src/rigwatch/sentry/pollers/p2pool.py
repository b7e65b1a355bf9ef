"""A Monero P2Pool node, read from its files: the log (tailed) and the `--data-api` directory.

The tailer hands on each event of the log exactly once across rotations, truncations
and sentry restarts, as long as the caller commits only what it has handed on:

    chunk = tailer.read_new()     # events/readings since the last read
    ...hand chunk.events on (spool, uplink)...
    tailer.commit(chunk)          # now the state file moves past them

Its state ({inode, dev, offset, head}) is a small JSON file written atomically by
`commit`; a restart resumes from the last committed chunk, so what was read but not
committed is read again (the commander stores each event key once). The file is
identified by inode and device, and by its first bytes (`head`) in case a deleted
file's inode is reused. Both readers do blocking file I/O: call them from the agent
through `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import orjson

from rigwatch.domain.models import Event
from rigwatch.domain.p2pool import P2PoolStats
from rigwatch.protocols import p2pool_api
from rigwatch.protocols.errors import ProtocolError
from rigwatch.protocols.p2pool_log import HashrateReading, LineCounts, LogBatch, P2PoolLogParser

HEAD_BYTES = 64
DEFAULT_MAX_BYTES = 4 * 1024 * 1024
# Rotated copies that are compressed are not the file we were reading.
_COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".lz4", ".zip")


@dataclass(frozen=True, slots=True)
class TailPosition:
    """Where reading resumes: byte `offset` (always just after a newline) in one file."""

    inode: int
    dev: int
    offset: int
    head: bytes = b""


@dataclass(frozen=True, slots=True)
class TailChunk:
    """What one `read_new` found. Commit it once its events are handed on.

    `more`: complete lines are still waiting (the read hit `max_bytes`); call again now.
    `rotated`: the log was replaced and the old file finished. `truncated`: the file
    shrank or was rewritten under us, so lines written since the last read are lost.
    `lost`: the file the saved state points at was gone at start-up.
    """

    seq: int
    position: TailPosition | None
    events: tuple[Event, ...] = ()
    readings: tuple[HashrateReading, ...] = ()
    counts: LineCounts = field(default_factory=LineCounts)
    more: bool = False
    rotated: bool = False
    truncated: bool = False
    lost: bool = False


class P2PoolLogTailer:
    """Tails one P2Pool log file; state lives in `state_dir` under a name per log path.

    Committing a chunk commits every chunk read before it, so a caller may hand on
    several chunks and commit only the last.
    """

    def __init__(
        self,
        path: Path,
        state_dir: Path,
        *,
        name: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max(max_bytes, 1024)
        key = name or hashlib.blake2b(str(self.path.absolute()).encode(), digest_size=8).hexdigest()
        self.state_path = Path(state_dir) / f"p2pool-tail-{key}.json"
        self.counts = LineCounts()
        self._parser = P2PoolLogParser()
        # One buffer for every read: no fresh allocation (and page faults) per chunk.
        self._buf = bytearray(self.max_bytes)
        self._f: io.FileIO | None = None
        self._ino = 0
        self._dev = 0
        self._offset = 0
        self._head = b""
        self._old_size: int | None = None
        # Files finished in this process, so a rotation sequence never loops back.
        self._done: list[tuple[int, int]] = []
        self._seq = 0
        self._committed = self._load_state()
        self._committed_seq = 0

    # ---- public API -------------------------------------------------------------

    def read_new(self) -> TailChunk:
        """Events and readings from the complete lines written since the last read."""
        self._seq += 1
        lost = truncated = rotated = False
        if self._f is None:
            lost, truncated = self._open_initial()
            if self._f is None:
                return TailChunk(seq=self._seq, position=None, lost=lost)
        batches: list[LogBatch] = []
        truncated = self._check_truncated() or truncated
        cut, more = self._read_lines()
        if cut:
            batches.append(self._parser.feed(self._buf, cut))
        elif self._rotation_done():
            fragment = self._read_rest()
            if fragment:
                batches.append(self._parser.feed(fragment))
            self._open_next()
            rotated = True
            cut, more = self._read_lines()
            if cut:
                batches.append(self._parser.feed(self._buf, cut))
        return self._chunk(batches, more=more, rotated=rotated, truncated=truncated, lost=lost)

    def commit(self, chunk: TailChunk) -> None:
        """Persist `chunk.position` (atomically); older or already committed chunks are ignored."""
        if chunk.position is None or chunk.seq <= self._committed_seq:
            return
        state = {
            "path": str(self.path),
            "inode": chunk.position.inode,
            "dev": chunk.position.dev,
            "offset": chunk.position.offset,
            "head": chunk.position.head.hex(),
        }
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        with tmp.open("wb") as f:
            f.write(orjson.dumps(state))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.state_path)
        with contextlib.suppress(OSError, AttributeError):
            dir_fd = os.open(self.state_path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        self._committed = chunk.position
        self._committed_seq = chunk.seq

    def rewind(self) -> None:
        """Forget what was read since the last commit (a hand-off failed): read it again."""
        self.close()
        self._parser = P2PoolLogParser()

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        self._old_size = None

    @property
    def committed(self) -> TailPosition | None:
        return self._committed

    # ---- internals --------------------------------------------------------------

    def _file(self) -> io.FileIO:
        if self._f is None:
            raise RuntimeError("no log file is open")
        return self._f

    def _pread(self, size: int, offset: int) -> bytes:
        f = self._file()
        f.seek(offset)
        return f.read(size) or b""

    def _load_state(self) -> TailPosition | None:
        """The saved position; an unreadable state file means starting from the top."""
        try:
            doc = orjson.loads(self.state_path.read_bytes())
            return TailPosition(
                inode=int(doc["inode"]),
                dev=int(doc["dev"]),
                offset=max(int(doc["offset"]), 0),
                head=bytes.fromhex(str(doc.get("head", ""))),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _open(self, path: Path) -> bool:
        try:
            f = io.FileIO(path, "rb")
        except OSError:
            return False
        st = os.fstat(f.fileno())
        self._f, self._ino, self._dev = f, st.st_ino, st.st_dev
        self._offset, self._head, self._old_size = 0, b"", None
        return True

    def _matches(self, pos: TailPosition) -> bool:
        """The open file is the one `pos` was taken in (same inode, same first bytes)."""
        if (self._ino, self._dev) != (pos.inode, pos.dev):
            return False
        return not pos.head or self._pread(len(pos.head), 0) == pos.head

    def _open_initial(self) -> tuple[bool, bool]:
        """Open where the saved state says; returns (lost, truncated)."""
        pos = self._committed
        if pos is None:
            self._open(self.path)
            return False, False
        if self._open(self.path) and self._matches(pos):
            self._offset, self._head = pos.offset, pos.head
            return False, self._check_truncated()
        # Rotated while we were down: finish the old file first if it is still here.
        for sibling in self._siblings():
            self.close()
            if self._open(sibling) and self._matches(pos):
                self._offset, self._head = pos.offset, pos.head
                return False, self._check_truncated()
        self.close()
        self._open(self.path)
        return True, False

    def _siblings(self) -> list[Path]:
        """Rotated copies beside the log (`p2pool.log.1`, `p2pool.log-20250101`, ...)."""
        try:
            entries = list(os.scandir(self.path.parent))
        except OSError:
            return []
        return sorted(
            Path(e.path)
            for e in entries
            if e.name.startswith(self.path.name)
            and e.name != self.path.name
            and not e.name.endswith(_COMPRESSED)
        )

    def _check_truncated(self) -> bool:
        """Start over when the file shrank below our offset or its first bytes changed."""
        size = os.fstat(self._file().fileno()).st_size
        head_changed = bool(self._head) and self._pread(len(self._head), 0) != self._head
        if size < self._offset or head_changed:
            self._offset, self._head = 0, b""
            return True
        return False

    def _read_lines(self) -> tuple[int, bool]:
        """Read from the offset into the buffer: (bytes of complete lines, buffer was filled)."""
        f = self._file()
        f.seek(self._offset)
        got = f.readinto(self._buf) or 0
        full = got == len(self._buf)
        cut = self._buf.rfind(b"\n", 0, got) + 1
        if cut == 0 and full:
            # A partial last line waits for its newline, unless it is longer than the
            # whole buffer: such a line is garbage and is taken as it is.
            cut = got
        self._offset += cut
        return cut, full

    def _read_rest(self) -> bytes:
        """Whatever is left after the offset (an old file's unterminated last line)."""
        rest = self._pread(self.max_bytes, self._offset)
        self._offset += len(rest)
        return rest

    def _open_next(self) -> None:
        """Move on from a finished rotated file to the one written after it.

        That is not always the log itself: when the log rotated more than once since this
        file was current (a sentry down for a while), the copies in between come first.
        Of the copies and the log, it is the least recently modified one not modified
        before the finished file (the writer moves on only after its last write there).
        """
        finished = os.fstat(self._file().fileno()).st_mtime_ns
        self._done = [*self._done[-63:], (self._ino, self._dev)]
        self.close()
        for _attempt in range(3):
            best: tuple[tuple[int, bool], Path, tuple[int, int]] | None = None
            for candidate in [*self._siblings(), self.path]:
                try:
                    st = os.stat(candidate)
                except OSError:
                    continue
                ident = (st.st_ino, st.st_dev)
                if ident in self._done or st.st_mtime_ns < finished:
                    continue
                rank = (st.st_mtime_ns, candidate == self.path)
                if best is None or rank < best[0]:
                    best = (rank, candidate, ident)
            if best is None:
                break
            # Names can shift under us (`.1` becomes `.2`): keep it only if it is the same file.
            if self._open(best[1]) and (self._ino, self._dev) == best[2]:
                return
            self.close()
        self._open(self.path)

    def _rotation_done(self) -> bool:
        """True when the path names another file and the old one has been quiet for a read.

        The writer may still append to the renamed file for a moment, so the switch waits
        until its size did not change between two reads.
        """
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        if (st.st_ino, st.st_dev) == (self._ino, self._dev):
            return False
        size = os.fstat(self._file().fileno()).st_size
        if self._old_size != size:
            self._old_size = size
            return False
        return True

    def _position(self) -> TailPosition | None:
        if self._f is None:
            return None
        want = min(HEAD_BYTES, self._offset)
        if len(self._head) < want:
            self._head = self._pread(want, 0)
        return TailPosition(self._ino, self._dev, self._offset, self._head)

    def _chunk(
        self, batches: list[LogBatch], *, more: bool, rotated: bool, truncated: bool, lost: bool
    ) -> TailChunk:
        counts = LineCounts()
        events: list[Event] = []
        readings: list[HashrateReading] = []
        now: datetime | None = None
        for batch in batches:
            counts.add(batch.counts)
            events.extend(batch.events)
            for r in batch.readings:
                if r.ts is None:
                    now = now or datetime.now(UTC)
                    r = dataclasses.replace(r, ts=now)
                readings.append(r)
        self.counts.add(counts)
        return TailChunk(
            seq=self._seq,
            position=self._position(),
            events=tuple(events),
            readings=tuple(readings),
            counts=counts,
            more=more,
            rotated=rotated,
            truncated=truncated,
            lost=lost,
        )


@dataclass(frozen=True, slots=True)
class DataApiRead:
    """One read of a data-api directory: the stats, and what could not be read (path: why)."""

    stats: P2PoolStats
    errors: tuple[str, ...] = ()


class P2PoolDataApiReader:
    """Reads a `--data-api` directory. Missing files leave their fields None; a garbled
    or unreadable file is counted in `errors` and costs only its own fields."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.errors = 0

    def read(self, *, ts: datetime | None = None) -> DataApiRead:
        updates: list[p2pool_api.StatsUpdate] = []
        problems: list[str] = []
        for name in p2pool_api.FILES:
            path = self.directory / name
            try:
                with path.open("rb") as f:
                    raw = f.read(p2pool_api.MAX_FILE_BYTES + 1)
                updates.append(p2pool_api.parse_file(name, raw))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except ProtocolError as exc:
                problems.append(str(exc))  # names the file already
            except OSError as exc:
                problems.append(f"{name}: {exc}")
        self.errors += len(problems)
        stats = p2pool_api.merge(updates, ts=ts or datetime.now(UTC))
        return DataApiRead(stats=stats, errors=tuple(problems))
