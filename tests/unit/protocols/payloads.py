"""Loading the real captures under tests/fixtures (see tests/fixtures/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rigwatch.protocols.cgminer import decode_reply, sections

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
ANTMINER = FIXTURES / "cgminer-rpc" / "antminer"
WHATSMINER = FIXTURES / "cgminer-rpc" / "whatsminer"
BITAXE = FIXTURES / "bitaxe-http"


def raw(folder: Path, case: str, command: str) -> bytes | None:
    for suffix in (".json", ".txt"):
        path = folder / f"{case}__{command}{suffix}"
        if path.exists():
            return path.read_bytes()
    return None


def replies(folder: Path, case: str, commands: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Each captured reply of `case`, decoded and STATUS-checked as the poller does."""
    found: dict[str, dict[str, Any]] = {}
    for command in commands:
        data = raw(folder, case, command)
        if data is not None:
            found.update(sections(decode_reply(data), [command]))
    return found


def cases(folder: Path) -> list[str]:
    return sorted({p.name.split("__")[0] + "__" + p.name.split("__")[1] for p in folder.iterdir()})


JSON_BYTES = (b"{", b"}", b"[", b",", b'"', b":", b"\\")


def mutate(raw: bytes, data: Any, inserts: tuple[bytes, ...] = JSON_BYTES) -> bytes:
    """A real payload damaged by 1-8 random byte flips, cuts, insertions and deletions
    (`data` is hypothesis' `st.data()`): what a flaky link or a broken firmware sends."""
    from hypothesis import strategies as st

    mutated = bytearray(raw)
    for _ in range(data.draw(st.integers(min_value=1, max_value=8))):
        if not mutated:
            break
        action = data.draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = data.draw(st.integers(min_value=0, max_value=len(mutated) - 1))
        if action == "flip":
            mutated[at] = data.draw(st.integers(min_value=0, max_value=255))
        elif action == "cut":
            del mutated[at:]
        elif action == "insert":
            mutated[at:at] = data.draw(st.sampled_from(inserts))
        else:
            del mutated[at]
    return bytes(mutated)
