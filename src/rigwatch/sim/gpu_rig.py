"""GPU mining rigs: T-Rex (NVIDIA) and lolMiner, each on its HTTP `GET /summary`.

Each rig is one `MinerState` whose `boards` are its GPUs: per-GPU hashrate noise, GPU
temperature relaxing towards ambient + load-driven rise, fans following the hottest
GPU, cumulative shares and uptime that a restart resets all come from the shared model
in state.py. Only the rendering differs:

- T-Rex, port 4067 (its default `--api-bind-http`): the shape of the real API 3.0
  capture (shared/fixtures/gpu-miners-http/trex/foreman-api3.0__summary.json), with
  the per-GPU `fan_speed` and `power` that the real API 1.1 capture carries, so that
  a poller sees fans and power as on a current T-Rex.
- lolMiner, port 4069 (`--apiport` has no default): the lolMiner 1.0 foreman summary
  (gpu-miners-http/lolminer/foreman-1.0-summary__case1.json) with its unit-bearing
  key names and `Performance_Unit`.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Callable
from typing import Any

from rigwatch.sim.http11 import HttpRequest, HttpResponse
from rigwatch.sim.persona import Persona
from rigwatch.sim.state import MinerState, Report

TREX_VERSION = "0.9.1"
"""The T-Rex release of the real API 3.0 capture whose shape the simulator keeps."""
TREX_NETWORK_DIFFICULTY = 51151.705016436
LOLMINER_SOFTWARE = "lolMiner 1.0"

LOLMINER_UNITS: dict[str, tuple[str, float, str]] = {
    "ZelHash": ("sol/s", 1.0, "ZEL"),
    "Etchash": ("mh/s", 1e6, "ETC"),
}
"""Algorithm -> (Performance_Unit, H/s per unit, coin) as lolMiner reports them."""


def split_counter(total: int, parts: int, index: int) -> int:
    """Share `total` out round-robin: each part never decreases and the parts sum to it."""
    return (total - index + parts - 1) // parts if total > index else 0


def gpu_power_w(report: Report, index: int) -> float:
    """The rig's power split over its GPUs by the work each does (idle GPUs share evenly)."""
    rates = [b.hashrate_ghs for b in report.boards]
    total = sum(rates)
    share = rates[index] / total if total > 0 else 1.0 / len(rates)
    return report.power_w * share


def gpu_fan_pct(report: Report, fan_max_rpm: int, index: int) -> int:
    return round(100 * report.fans_rpm[index] / fan_max_rpm)


class _SummaryPersona(Persona, abc.ABC):
    """A rig whose API is one JSON document at `GET /summary`, rendered once per report;
    each program's subclass says what the document holds."""

    def __init__(self, state: MinerState, restart: Callable[[], None]) -> None:
        super().__init__(state, restart)
        self.renderers = {"summary": self.summary}

    @abc.abstractmethod
    def summary(self, report: Report) -> dict[str, Any]: ...

    def http(self, request: HttpRequest) -> HttpResponse:
        if request.path != "/summary":
            return HttpResponse.text(404, "Not Found")
        if request.method != "GET":
            return HttpResponse.text(405, "Method Not Allowed")
        return HttpResponse(200, self.reply_for("summary", self.state.report()))


class TrexPersona(_SummaryPersona):
    """T-Rex's `/summary`: hashrates in H/s (integers), one entry per GPU."""

    description = f"T-Rex {TREX_VERSION}"

    def summary(self, report: Report) -> dict[str, Any]:
        state, profile = self.state, self.state.profile
        uptime = report.uptime_s
        current = profile.to_hs(report.hashrate_ghs)
        average = profile.to_hs(report.average_ghs)
        scale = average / current if current else 0.0
        gpus = []
        for i, board in enumerate(report.boards):
            rate = profile.to_hs(board.hashrate_ghs)
            gpus.append(
                {
                    "device_id": i,
                    "fan_speed": gpu_fan_pct(report, profile.fan_max_rpm, i),
                    "gpu_id": i,
                    "hashrate": round(rate),
                    "hashrate_day": round(rate * scale) if uptime >= 86_400 else 0,
                    "hashrate_hour": round(rate * scale) if uptime >= 3_600 else 0,
                    "hashrate_instant": round(rate),
                    "hashrate_minute": round(rate) if uptime >= 60 else 0,
                    "intensity": 20,
                    "name": profile.type_string,
                    "power": round(gpu_power_w(report, i)),
                    "temperature": round(board.pcb_temp_c),
                    "vendor": profile.vendor,
                }
            )
        minutes = uptime / 60.0
        nominal = profile.to_hs(profile.nominal_ghs)
        diff1_shares = profile.to_hs(report.pool_difficulty / 1e9)  # in units of 2^32 hashes
        shares_per_min = 60.0 * nominal / (diff1_shares * 2**32)
        return {
            "accepted_count": report.accepted,
            "active_pool": {
                "difficulty": round(diff1_shares, 4),
                "ping": 35,
                "retries": 0,
                "url": state.pools[0].url,
                "user": state.pools[0].user,
            },
            "algorithm": profile.algorithm,
            "api": "3.0",
            "cuda": "9.20",
            "description": "T-Rex NVIDIA GPU miner",
            "difficulty": TREX_NETWORK_DIFFICULTY,
            "gpu_total": len(gpus),
            "gpus": gpus,
            "hashrate": round(current),
            "hashrate_day": round(average) if uptime >= 86_400 else 0,
            "hashrate_hour": round(average) if uptime >= 3_600 else 0,
            "hashrate_minute": round(current) if uptime >= 60 else 0,
            "name": "t-rex",
            "os": "linux",
            "rejected_count": report.rejected,
            "sharerate": round(shares_per_min * current / nominal, 3) if nominal else 0.0,
            "sharerate_average": round(report.accepted / minutes, 3) if minutes else 0.0,
            "solved_count": 0,
            "success": 1,
            "ts": int(report.at),
            "uptime": uptime,
            "version": TREX_VERSION,
        }


class LolminerPersona(_SummaryPersona):
    """lolMiner 1.0's `/summary`: performance in `Performance_Unit`, keys with units."""

    description = LOLMINER_SOFTWARE

    def summary(self, report: Report) -> dict[str, Any]:
        state, profile = self.state, self.state.profile
        unit, per_unit, coin = LOLMINER_UNITS.get(profile.algorithm, ("h/s", 1.0, ""))
        startup = int(report.at) - report.uptime_s
        count = len(report.boards)
        submitted = report.accepted + report.rejected
        gpus = [
            {
                "Index": i,
                "Name": profile.type_string,
                "Performance": round(profile.to_hs(board.hashrate_ghs) / per_unit, 2),
                "Consumption (W)": round(gpu_power_w(report, i), 1),
                "Fan Speed (%)": gpu_fan_pct(report, profile.fan_max_rpm, i),
                "Temps (deg C)": round(board.pcb_temp_c),
                "Session_Accepted": split_counter(report.accepted, count, i),
                "Session_Submitted": split_counter(submitted, count, i),
                "PCIE_Address": f"{i + 1}:0",
            }
            for i, board in enumerate(report.boards)
        ]
        return {
            "Software": LOLMINER_SOFTWARE,
            "Mining": {"Coin": coin, "Algorithm": profile.algorithm},
            "Stratum": {
                "Current_Pool": state.pools[0].url.split("//", 1)[-1],
                "Current_User": state.pools[0].user,
                "Average_Latency": 21.4,
            },
            "Session": {
                "Startup": startup,
                "Startup_String": time.strftime("%Y-%m-%d_%H-%M-%S", time.gmtime(startup)),
                "Uptime": report.uptime_s,
                "Last_Update": int(report.at),
                "Active_GPUs": sum(1 for b in report.boards if b.present),
                "Performance_Summary": round(profile.to_hs(report.hashrate_ghs) / per_unit, 2),
                "Performance_Unit": unit,
                "Accepted": report.accepted,
                "Submitted": submitted,
                "TotalPower": round(report.power_w),
            },
            "GPUs": gpus,
        }
