"""Bitaxe Gamma 601 on AxeOS v2.12 (ESP-Miner): plain HTTP on port 80, no auth.

`/api/system/info` and `/api/system/asic` keep the shape of the real v2.12.2 Gamma 601
samples in data/; PATCH and restart follow ESP-Miner's http_server.c as summarised in
shared/PROTOCOLS.md §2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rigwatch.sim.http11 import HttpRequest, HttpResponse
from rigwatch.sim.models import BITAXE_SMALL_CORES
from rigwatch.sim.persona import Persona, dumps
from rigwatch.sim.state import MinerState, Report
from rigwatch.sim.templates import template

INDEX_HTML = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>AxeOS</title>'
    b"</head><body><app-root>rigwatch simulated Bitaxe (AxeOS)</app-root></body></html>"
)

# PATCH /api/system settings the simulator understands, with their JSON types.
_SETTINGS: dict[str, type | tuple[type, ...]] = {
    "stratumURL": str,
    "stratumPort": int,
    "stratumUser": str,
    "stratumPassword": str,
    "fallbackStratumURL": str,
    "fallbackStratumPort": int,
    "fallbackStratumUser": str,
    "fallbackStratumPassword": str,
    "hostname": str,
    "frequency": (int, float),
    "coreVoltage": int,
    "autofanspeed": int,
    "fanspeed": (int, float),
    "temptarget": int,
    "displayTimeout": int,
    "statsFrequency": int,
    "overclockEnabled": int,
}


class BitaxePersona(Persona):
    def __init__(self, state: MinerState, restart: Callable[[], None]) -> None:
        super().__init__(state, restart)
        self._info = template("bitaxe_system_info.json")
        self._asic = template("bitaxe_system_asic.json")
        self._info.update({"ssid": "rigwatch-sim", "ipv6": "", "hashrateMonitor": {"asics": []}})
        self._info["stratumURL"] = "127.0.0.1"
        self._info["stratumPort"] = 3333
        self._info["stratumUser"] = state.pools[0].user
        self._info["fallbackStratumURL"] = "127.0.0.1"
        self._info["fallbackStratumPort"] = 3334
        self._info["fallbackStratumUser"] = state.pools[0].user
        self._info["frequency"] = state.frequency_mhz
        self._info_cache: tuple[int, bytes] = (-1, b"")

    def system_info(self, report: Report) -> dict[str, Any]:
        info = dict(self._info)
        board = report.boards[0]
        rate = board.hashrate_ghs
        identity = self.state.identity
        info.update(
            {
                "power": report.power_w,
                "temp": board.chip_temp_c,
                "vrTemp": board.pcb_temp_c,
                "hashRate": rate,
                "hashRate_1m": rate,
                "hashRate_10m": report.average_ghs,
                "hashRate_1h": report.average_ghs,
                "expectedHashrate": round(BITAXE_SMALL_CORES * self.state.frequency_mhz / 1000),
                "frequency": self.state.frequency_mhz,
                "macAddr": identity.mac,
                "hostname": identity.hostname,
                "ipv4": identity.ip,
                "sharesAccepted": report.accepted,
                "sharesRejected": report.rejected,
                "sharesRejectedReasons": [{"message": "Stale", "count": report.rejected}]
                if report.rejected
                else [],
                "uptimeSeconds": report.uptime_s,
                "smallCoreCount": BITAXE_SMALL_CORES,
                "ASICModel": self.state.profile.type_string,
                "poolDifficulty": int(report.pool_difficulty),
                "fanrpm": report.fans_rpm[0],
                "fanspeed": report.fan_pct,
                "overheat_mode": 1 if report.chip_temp_max_c >= 70 else 0,
            }
        )
        if self.state.fan_override_pct is not None:
            info["autofanspeed"] = 0
            info["fanspeed"] = round(self.state.fan_override_pct * 100)
            info["manualFanSpeed"] = info["fanspeed"]
        else:
            info["autofanspeed"] = 1
        return info

    def _patch(self, body: bytes) -> HttpResponse:
        try:
            changes = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            return HttpResponse.text(400, "Invalid JSON")
        if not isinstance(changes, dict):
            return HttpResponse.text(400, "Invalid JSON")
        for key, value in changes.items():
            wanted = _SETTINGS.get(key)
            if wanted is None:
                continue
            if isinstance(value, bool) or not isinstance(value, wanted):
                return HttpResponse.text(400, "Wrong API input")
        if "frequency" in changes and not 100 <= changes["frequency"] <= 1000:
            return HttpResponse.text(400, "Wrong API input")
        if "fanspeed" in changes and not 0 <= changes["fanspeed"] <= 100:
            return HttpResponse.text(400, "Wrong API input")
        if "hostname" in changes and not 0 < len(changes["hostname"]) <= 32:
            return HttpResponse.text(400, "Wrong API input")
        self._apply(changes)
        if "hostname" in changes:
            name = changes["hostname"]
            redirect = {
                "status": "success",
                "redirect": {
                    "url": f"http://{name}.local",
                    "delay": 2000,
                    "message": "Hostname changed, redirecting to the new address (simulated)",
                },
            }
            return HttpResponse(200, dumps(redirect))
        return HttpResponse(200)

    def _apply(self, changes: dict[str, Any]) -> None:
        state = self.state
        state.invalidate()
        for key in (
            "stratumURL",
            "stratumPort",
            "stratumUser",
            "fallbackStratumURL",
            "fallbackStratumPort",
            "fallbackStratumUser",
            "coreVoltage",
            "temptarget",
            "displayTimeout",
            "statsFrequency",
            "overclockEnabled",
        ):
            if key in changes:
                self._info[key] = changes[key]
        if "stratumPassword" in changes:
            state.pools[0].password = changes["stratumPassword"]
        if "stratumURL" in changes or "stratumPort" in changes:
            state.pools[
                0
            ].url = f"stratum+tcp://{self._info['stratumURL']}:{self._info['stratumPort']}"
        if "stratumUser" in changes:
            state.pools[0].user = changes["stratumUser"]
        if "hostname" in changes:
            state.identity.hostname = changes["hostname"]
        if "frequency" in changes:
            state.frequency_mhz = int(changes["frequency"])
        if changes.get("autofanspeed") == 1:
            state.fan_override_pct = None
        elif changes.get("autofanspeed") == 0 or "fanspeed" in changes:
            pct = changes.get("fanspeed", self._info.get("manualFanSpeed", 100))
            state.fan_override_pct = max(0.0, min(1.0, float(pct) / 100.0))

    def http(self, request: HttpRequest) -> HttpResponse:
        path, method = request.path, request.method
        if path == "/api/system/info" and method == "GET":
            report = self.state.report()
            version, body = self._info_cache
            if version != report.version:
                body = dumps(self.system_info(report))
                self._info_cache = (report.version, body)
            return HttpResponse(200, body)
        if path == "/api/system/asic" and method == "GET":
            return HttpResponse(200, dumps(self._asic))
        if path == "/api/system" and method == "PATCH":
            response = self._patch(request.body)
            self._info_cache = (-1, b"")
            return response
        if path == "/api/system/restart" and method == "POST":
            return HttpResponse(
                200, dumps({"message": "System will restart shortly."}), after=self.restart
            )
        if method == "GET" and (path == "/" or path == "/index.html"):
            return HttpResponse(200, INDEX_HTML, "text/html")
        if path.startswith("/api/"):
            return HttpResponse.text(404, "Not Found")
        # AxeOS is a single-page app: unknown paths serve the app itself.
        return (
            HttpResponse(200, INDEX_HTML, "text/html")
            if method == "GET"
            else (HttpResponse.text(405, "Method Not Allowed"))
        )
