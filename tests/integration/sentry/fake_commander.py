"""A stand-in commander on a loopback port: records ingest seqs, answers what a test
asks for, and can be stopped and started again on the same port."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

HOST = "127.0.40.1"
GOOD_TOKEN = "rwe_good"
CREDENTIAL = "rws_secret"


def free_port(host: str = HOST) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class FakeCommander:
    port: int = field(default_factory=free_port)
    stored: list[int] = field(default_factory=list)
    attempts: list[int] = field(default_factory=list)
    bodies: dict[int, dict[str, Any]] = field(default_factory=dict)
    status: int = 200
    reject: dict[int, int] = field(default_factory=dict)
    tokens_used: set[str] = field(default_factory=set)
    _server: uvicorn.Server | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    async def _ingest(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {CREDENTIAL}":
            return JSONResponse({"detail": "bad credential"}, status_code=401)
        body = orjson.loads(await request.body())
        seq = int(body["seq"])
        self.attempts.append(seq)
        if self.status != 200:
            return JSONResponse({"detail": "on demand"}, status_code=self.status)
        if seq in self.reject:
            return JSONResponse({"detail": f"seq {seq} refused"}, status_code=self.reject[seq])
        stored = seq not in self.stored
        if stored:
            self.stored.append(seq)
            self.bodies[seq] = body
        return JSONResponse(
            {
                "seq": seq,
                "stored": stored,
                "samples": len(body["samples"]),
                "events": len(body["events"]),
            }
        )

    async def _enroll(self, request: Request) -> Response:
        token = (await request.json()).get("token")
        if token != GOOD_TOKEN or token in self.tokens_used:
            return JSONResponse({"detail": "bad token"}, status_code=401)
        self.tokens_used.add(token)
        return JSONResponse({"credential": CREDENTIAL, "sentry_id": 1, "name": "test-sentry"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/v1/ingest", self._ingest, methods=["POST"]),
                Route("/api/v1/sentries/enroll", self._enroll, methods=["POST"]),
            ]
        )

    async def start(self) -> None:
        config = uvicorn.Config(
            self.app(),
            host=HOST,
            port=self.port,
            log_level="warning",
            lifespan="off",
            ws="none",
            http="h11",
        )
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        await self._task
        self._server = None
        self._task = None


async def eventually(cond: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Wait until `cond()` holds, polling; fail after `limit_s`."""
    for _ in range(int(limit_s / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {limit_s} s")
