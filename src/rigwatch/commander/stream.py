"""Live updates for browsers: server-sent events with ids, a replay buffer and a client cap.

Ids start from the wall clock in milliseconds, so they keep increasing across commander
restarts: a browser that reconnects with an id from before a restart is told to resync
instead of silently missing what happened in between.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import orjson

CLIENT_QUEUE = 2000


@dataclass(frozen=True, slots=True)
class StreamEvent:
    id: int
    event: str
    data: bytes

    def encode(self) -> bytes:
        return b"id: %d\nevent: %s\ndata: %s\n\n" % (self.id, self.event.encode(), self.data)


def _control(event: str, payload: object) -> bytes:
    """An id-less event: it does not move the browser's Last-Event-ID."""
    return b"event: %s\ndata: %s\n\n" % (event.encode(), orjson.dumps(payload))


class TooManyClients(RuntimeError):
    pass


class _Client:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[StreamEvent | None] = asyncio.Queue(maxsize=CLIENT_QUEUE)
        self.lagging = False

    def cut_off(self) -> None:
        """Drop what is queued and end the stream; the browser resumes with Last-Event-ID."""
        self.lagging = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class StreamHub:
    """Fan-out of stored updates to every connected browser. Lives on the event loop."""

    def __init__(self, *, replay: int, max_clients: int, heartbeat_s: float) -> None:
        self._buffer: deque[StreamEvent] = deque(maxlen=replay)
        self._next_id = int(time.time() * 1000)
        self._clients: set[_Client] = set()
        self._max_clients = max_clients
        self.heartbeat_s = heartbeat_s
        self.published = 0

    @property
    def clients(self) -> int:
        return len(self._clients)

    @property
    def last_id(self) -> int:
        return self._next_id - 1

    def publish(self, event: str, payload: object) -> int:
        item = StreamEvent(self._next_id, event, orjson.dumps(payload))
        self._next_id += 1
        self._buffer.append(item)
        self.published += 1
        for client in self._clients:
            if client.lagging:
                continue
            try:
                client.queue.put_nowait(item)
            except asyncio.QueueFull:
                # A client that cannot keep up is disconnected; it resumes with Last-Event-ID.
                client.cut_off()
        return item.id

    def _missed(self, last_id: int) -> list[StreamEvent] | None:
        """Events after last_id, or None when they are no longer all in the buffer."""
        if last_id == self.last_id:
            return []
        if last_id > self.last_id or not self._buffer or last_id < self._buffer[0].id - 1:
            return None
        return [e for e in self._buffer if e.id > last_id]

    def subscribe(self, last_event_id: str | None) -> AsyncGenerator[bytes, None]:
        """The byte stream of one SSE connection; raises TooManyClients before the first byte.

        What the client missed is taken in the same step as it joins the fan-out, so no
        update is sent twice or lost in between.
        """
        if len(self._clients) >= self._max_clients:
            raise TooManyClients(f"at most {self._max_clients} live-stream connections")
        prefix = [b"retry: 3000\n\n"]
        if last_event_id is not None:
            try:
                missed = self._missed(int(last_event_id))
            except ValueError:
                missed = None
            if missed is None:
                prefix.append(_control("resync", {"last_id": self.last_id}))
            else:
                prefix.extend(item.encode() for item in missed)
        prefix.append(_control("hello", {"last_id": self.last_id}))
        client = _Client()
        self._clients.add(client)
        return self._serve(client, prefix)

    async def _serve(self, client: _Client, prefix: list[bytes]) -> AsyncGenerator[bytes, None]:
        try:
            for chunk in prefix:
                yield chunk
            while True:
                try:
                    item = await asyncio.wait_for(client.queue.get(), timeout=self.heartbeat_s)
                except TimeoutError:
                    yield _control("heartbeat", {"ts": time.time()})
                    continue
                if item is None:
                    return
                yield item.encode()
        finally:
            self._clients.discard(client)

    def close_all(self) -> None:
        for client in self._clients:
            client.cut_off()
