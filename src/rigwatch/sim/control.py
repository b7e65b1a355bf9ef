"""The fleet's control endpoint: list the simulated miners and inject faults over HTTP.

    GET  /miners                  every miner: ip, kind, model, faults, what it reports
    GET  /miners/{ip}             one miner
    POST /miners/{ip}/fault       {"fault": "board_drop|dark|hung|restart|hot|clear", "board": 1}

It binds a loopback address only and uses the same small HTTP server as the miners.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from rigwatch.sim.faults import Fault, FaultKind
from rigwatch.sim.http11 import HttpProtocol, HttpRequest, HttpResponse
from rigwatch.sim.listener import Listener
from rigwatch.sim.persona import dumps
from rigwatch.sim.state import Availability

if TYPE_CHECKING:
    from rigwatch.sim.fleet import Fleet


def _error(status: int, message: str) -> HttpResponse:
    return HttpResponse(status, dumps({"error": message}))


class ControlServer:
    def __init__(self, fleet: Fleet, host: str, port: int) -> None:
        self.fleet = fleet
        self._listener = Listener(
            host, port, lambda lst: HttpProtocol(lst, self.handle), lambda: Availability.ONLINE
        )

    @property
    def port(self) -> int:
        return self._listener.port

    async def start(self) -> None:
        await self._listener.open()

    async def stop(self) -> None:
        await self._listener.close()

    def handle(self, request: HttpRequest) -> HttpResponse:
        parts = [p for p in request.path.split("/") if p]
        if not parts or parts[0] != "miners" or len(parts) > 3:
            return _error(404, "not found; try GET /miners")
        if len(parts) == 1:
            if request.method != "GET":
                return _error(405, "use GET")
            return HttpResponse(200, dumps(self.fleet.describe()))
        try:
            miner = self.fleet.miner(parts[1])
        except KeyError as exc:
            return _error(404, str(exc.args[0]))
        if len(parts) == 2:
            if request.method != "GET":
                return _error(405, "use GET")
            return HttpResponse(200, dumps(miner.describe()))
        if parts[2] != "fault":
            return _error(404, "not found")
        if request.method != "POST":
            return _error(405, "use POST")
        fault = self._parse_fault(request.body)
        if isinstance(fault, str):
            return _error(400, fault)
        try:
            miner.inject(fault)
        except ValueError as exc:
            return _error(400, str(exc))
        return HttpResponse(200, dumps(miner.describe()))

    @staticmethod
    def _parse_fault(body: bytes) -> Fault | str:
        try:
            data: Any = json.loads(body or b"{}")
        except (UnicodeDecodeError, ValueError):
            return "body must be JSON"
        if not isinstance(data, dict):
            return "body must be a JSON object"
        kinds = [k.value for k in FaultKind]
        try:
            kind = FaultKind(str(data.get("fault")))
        except ValueError:
            return f"fault must be one of {kinds}"
        board = data.get("board", 0)
        if isinstance(board, bool) or not isinstance(board, int) or board < 0:
            return "board must be a non-negative integer (0-based slot)"
        return Fault(kind, board)
