"""The live-stream hub on its own: ids, replay window, resync, slow clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from rigwatch.commander.stream import CLIENT_QUEUE, StreamHub, TooManyClients


async def take(stream: AsyncIterator[bytes], n: int) -> list[bytes]:
    return [await anext(stream) for _ in range(n)]


async def test_a_reconnect_inside_the_window_replays_exactly_what_was_missed() -> None:
    hub = StreamHub(replay=10, max_clients=5, heartbeat_s=5)
    first = hub.publish("miners", {"n": 1})
    hub.publish("miners", {"n": 2})
    hub.publish("miners", {"n": 3})
    stream = hub.subscribe(str(first))
    chunks = await take(stream, 4)
    assert chunks[0].startswith(b"retry:")
    assert b'{"n":2}' in chunks[1] and b'{"n":3}' in chunks[2]
    assert chunks[3].startswith(b"event: hello")
    await stream.aclose()
    assert hub.clients == 0


async def test_a_reconnect_outside_the_window_gets_resync() -> None:
    hub = StreamHub(replay=2, max_clients=5, heartbeat_s=5)
    first = hub.publish("miners", {})
    for _ in range(5):
        hub.publish("miners", {})
    stream = hub.subscribe(str(first))
    chunks = await take(stream, 2)
    assert chunks[1].startswith(b"event: resync")
    await stream.aclose()


async def test_ids_keep_increasing_across_a_restart() -> None:
    old = StreamHub(replay=2, max_clients=1, heartbeat_s=5)
    last = old.publish("miners", {})
    await asyncio.sleep(0.01)
    new = StreamHub(replay=2, max_clients=1, heartbeat_s=5)
    assert new.publish("miners", {}) > last


async def test_the_client_cap_refuses_before_the_first_byte() -> None:
    hub = StreamHub(replay=2, max_clients=1, heartbeat_s=5)
    stream = hub.subscribe(None)
    with pytest.raises(TooManyClients):
        hub.subscribe(None)
    await stream.aclose()


async def test_a_client_that_cannot_keep_up_is_cut_off_to_resume_later() -> None:
    hub = StreamHub(replay=CLIENT_QUEUE * 2, max_clients=2, heartbeat_s=5)
    stream = hub.subscribe(None)
    await take(stream, 2)
    for i in range(CLIENT_QUEUE + 5):
        hub.publish("miners", {"i": i})
    with pytest.raises(StopAsyncIteration):
        await anext(stream)
    assert hub.clients == 0
