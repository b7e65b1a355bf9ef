"""Stock Bitmain firmware (bmminer, S19 / S19 Pro / S21 class): RPC on 4028, CGI web on 80.

Shapes follow the real S19 captures in data/ where they exist; the web CGI replies that
have no real sample use the shapes pyasic 0.79.0 reads (shared/PYASIC-CLIENT.md §2).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rigwatch.sim.digest import DigestRealm
from rigwatch.sim.http11 import HttpRequest, HttpResponse
from rigwatch.sim.persona import Persona, cg_status, dumps, pools_reply
from rigwatch.sim.state import BoardReading, MinerState, Report
from rigwatch.sim.templates import template

REALM = "antMiner Configuration"
WEB_USER = "root"
WEB_PASSWORD = "root"  # noqa: S105 - the documented factory default
_ROOT_PAGE = (
    b"<!DOCTYPE html><html><head><title>Antminer (simulated)</title></head>"
    b"<body>rigwatch simulated Antminer</body></html>"
)


def _dash(values: list[int]) -> str:
    """bmminer's `a-b-c-d` sensor strings (negative values give `--`, as on real firmware)."""
    return "-".join(str(v) for v in values)


def pcb_sensors(board: BoardReading) -> list[int]:
    """Four PCB sensors whose non-zero mean is exactly the board temperature reported."""
    if not board.present:
        return [0, 0, 0, 0]
    t = int(board.pcb_temp_c)
    return [t - 1, t, t, t + 1]


def chip_sensors(board: BoardReading) -> list[int]:
    if not board.present:
        return [0, 0, 0, 0]
    t = int(board.chip_temp_c)
    return [t - 2, t - 1, t + 1, t + 2]


def _chip_status(chips: int) -> str:
    groups = [" " + "o" * min(3, chips - i) for i in range(0, chips, 3)]
    return "".join(groups)


class AntminerPersona(Persona):
    description = "cgminer 1.0.0"

    def __init__(self, state: MinerState, restart: Callable[[], None]) -> None:
        super().__init__(state, restart)
        self._realm = DigestRealm(REALM, WEB_USER, WEB_PASSWORD)
        self._version = template("antminer_version.json")
        self._stats = template("antminer_stats.json")
        self._pools = template("antminer_pools.json")
        self._conf = template("antminer_miner_conf.json")
        self._sysinfo = template("antminer_system_info.json")
        self.renderers = {
            "version": self.version,
            "summary": self.summary,
            "stats": self.stats,
            "estats": self.stats,
            "pools": self.pools,
            "devs": self.devs,
            "devdetails": self.devdetails,
        }
        self._web: dict[str, Callable[[Report], dict[str, Any]]] = {
            "/cgi-bin/get_system_info.cgi": self.web_system_info,
            "/cgi-bin/stats.cgi": self.web_stats,
            "/cgi-bin/summary.cgi": self.web_summary,
            "/cgi-bin/get_miner_conf.cgi": self.web_miner_conf,
            "/cgi-bin/get_blink_status.cgi": self.web_blink_status,
        }

    # ---- RPC -----------------------------------------------------------------------------

    def _version_block(self) -> dict[str, Any]:
        block = dict(self._version["VERSION"][0])
        block["Type"] = self.state.profile.type_string
        return block

    def version(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        return {
            "STATUS": cg_status(22, "CGMiner versions", self.description, when),
            "VERSION": [self._version_block()],
            "id": 1,
        }

    def summary(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        shares = report.accepted + report.rejected
        minutes = max(report.uptime_s / 60.0, 1 / 60)
        return {
            "STATUS": cg_status(11, "Summary", self.description, when),
            "SUMMARY": [
                {
                    "Elapsed": report.uptime_s,
                    "GHS 5s": round(report.hashrate_ghs, 2),
                    "GHS av": report.average_ghs,
                    "GHS 30m": report.average_ghs,
                    "Found Blocks": 0,
                    "Accepted": report.accepted,
                    "Rejected": report.rejected,
                    "Hardware Errors": report.hw_errors,
                    "Utility": round(report.accepted / minutes, 2),
                    "Discarded": 0,
                    "Stale": 0,
                    "Get Failures": 0,
                    "Remote Failures": 0,
                    "Total MH": round(report.average_ghs * 1000 * report.uptime_s, 0),
                    "Difficulty Accepted": float(report.accepted * report.pool_difficulty),
                    "Difficulty Rejected": float(report.rejected * report.pool_difficulty),
                    "Difficulty Stale": 0.0,
                    "Last Share Difficulty": report.pool_difficulty,
                    "Device Rejected%": round(100.0 * report.rejected / shares, 4)
                    if shares
                    else 0.0,
                    "Pool Rejected%": round(100.0 * report.rejected / shares, 4) if shares else 0.0,
                    "Pool Stale%": 0.0,
                    "Last getwork": when,
                }
            ],
            "id": 1,
        }

    def stats(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        profile = self.state.profile
        status = dict(self._stats["STATUS"][0])
        status["When"] = when
        block0 = dict(self._stats["STATS"][0])
        block0["Type"] = profile.type_string
        s = dict(self._stats["STATS"][1])
        present = report.present_boards
        s.update(
            {
                "Elapsed": report.uptime_s,
                "GHS 5s": round(report.hashrate_ghs, 2),
                "GHS av": report.average_ghs,
                "rate_30m": report.average_ghs,
                "miner_count": len(present),
                "frequency": self.state.frequency_mhz,
                "fan_num": profile.fans,
                "temp_num": len(present),
                "total_rateideal": report.expected_ghs,
                "rate_unit": "GH",
                "total_freqavg": self.state.frequency_mhz,
                "total_acn": sum(b.chips for b in report.boards),
                "total rate": round(report.hashrate_ghs, 2),
                "temp_max": int(report.chip_temp_max_c),
                "miner_id": self.state.identity.miner_id,
            }
        )
        for i, rpm in enumerate(report.fans_rpm, start=1):
            s[f"fan{i}"] = rpm
        for board in report.boards:
            n = board.slot + 1
            pcb, chip = pcb_sensors(board), chip_sensors(board)
            s[f"temp{n}"] = int(board.pcb_temp_c) if board.present else 0
            s[f"temp2_{n}"] = int(board.chip_temp_c) if board.present else 0
            s[f"temp_pcb{n}"] = _dash(pcb)
            s[f"temp_chip{n}"] = _dash(chip)
            s[f"temp_pic{n}"] = _dash([v - 10 if v else 0 for v in pcb])
            s[f"chain_acn{n}"] = board.chips
            s[f"chain_acs{n}"] = _chip_status(board.chips)
            s[f"chain_hw{n}"] = board.hw_errors if board.present else 0
            s[f"chain_rate{n}"] = f"{board.hashrate_ghs:.2f}" if board.present else ""
            s[f"freq{n}"] = self.state.frequency_mhz if board.present else 0
        return {"STATUS": [status], "STATS": [block0, s], "id": 1}

    def pools(self, report: Report) -> dict[str, Any]:
        def bmminer(active: bool) -> dict[str, Any]:
            return {
                "Diff": f"{report.pool_difficulty / 1000:.1f}K" if active else "",
                "Last Share Time": time.strftime("%H:%M:%S", time.gmtime(report.at))
                if active
                else "0",
            }

        return pools_reply(self._pools, self.state.pools, report, bmminer)

    def devs(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        rows = [
            {
                "ASC": i,
                "Name": "BTM_SOC0",
                "ID": board.slot,
                "Enabled": "Y",
                "Status": "Alive",
                "Temperature": board.pcb_temp_c,
                "MHS 5s": round(board.hashrate_ghs * 1000, 2),
                "Hardware Errors": board.hw_errors,
                "Device Elapsed": report.uptime_s,
            }
            for i, board in enumerate(report.present_boards)
        ]
        return {
            "STATUS": cg_status(9, f"{len(rows)} ASC(s)", self.description, when),
            "DEVS": rows,
            "id": 1,
        }

    def devdetails(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        rows = [
            {
                "DEVDETAILS": i,
                "Name": "BTM_SOC0",
                "ID": board.slot,
                "Driver": "bitmain_soc",
                "Kernel": "",
                "Model": self.state.profile.type_string,
                "Device Path": "",
            }
            for i, board in enumerate(report.present_boards)
        ]
        return {
            "STATUS": cg_status(69, "Device Details", self.description, when),
            "DEVDETAILS": rows,
            "id": 1,
        }

    # ---- web -----------------------------------------------------------------------------

    def _web_status(self, report: Report, message: str) -> dict[str, Any]:
        return {"STATUS": "S", "when": int(report.at), "Msg": message, "api_version": "1.0.0"}

    def _web_info(self) -> dict[str, Any]:
        block = self._version_block()
        return {
            "miner_version": block.get("Miner", ""),
            "CompileTime": block.get("CompileTime", ""),
            "type": block["Type"],
        }

    def web_system_info(self, report: Report) -> dict[str, Any]:
        info = dict(self._sysinfo)
        identity = self.state.identity
        info.update(
            {
                "minertype": self.state.profile.type_string,
                "macaddr": identity.mac,
                "hostname": identity.hostname,
                "ipaddress": identity.ip,
                "netmask": "255.0.0.0",
                "serinum": identity.serial,
                "curtime": time.strftime("%H:%M:%S", time.gmtime(report.at)),
                "uptime": str(report.uptime_s),
            }
        )
        return info

    def web_stats(self, report: Report) -> dict[str, Any]:
        chains = [
            {
                "index": board.slot,
                "freq_avg": self.state.frequency_mhz,
                "rate_ideal": round(self.state.profile.board_nominal_ghs, 2),
                "rate_real": board.hashrate_ghs,
                "asic_num": board.chips,
                "temp_pic": [v - 10 for v in pcb_sensors(board)],
                "temp_pcb": pcb_sensors(board),
                "temp_chip": chip_sensors(board),
                "hw": board.hw_errors,
                "eeprom_loaded": True,
                "sn": board.serial,
                "hwp": 0.0,
            }
            for board in report.present_boards
        ]
        return {
            "STATUS": self._web_status(report, "stats"),
            "INFO": self._web_info(),
            "STATS": [
                {
                    "elapsed": report.uptime_s,
                    "rate_5s": round(report.hashrate_ghs, 2),
                    "rate_30m": report.average_ghs,
                    "rate_avg": report.average_ghs,
                    "rate_ideal": report.expected_ghs,
                    "rate_unit": "GH/s",
                    "chain_num": len(chains),
                    "fan_num": len(report.fans_rpm),
                    "fan": list(report.fans_rpm),
                    "hwp_total": 0.0,
                    "miner-mode": 0,
                    "freq-level": 100,
                    "chain": chains,
                }
            ],
        }

    def web_summary(self, report: Report) -> dict[str, Any]:
        boards_ok = all(b.present for b in report.boards)
        missing = ", ".join(str(b.slot) for b in report.boards if not b.present)
        hot = report.chip_temp_max_c >= 90
        checks = [
            ("rate", boards_ok, f"chain {missing} missing (simulated)"),
            ("network", True, ""),
            ("fans", True, ""),
            ("temp", not hot, f"temperature {report.chip_temp_max_c:.0f} C too high (simulated)"),
        ]
        return {
            "STATUS": self._web_status(report, "summary"),
            "INFO": self._web_info(),
            "SUMMARY": [
                {
                    "elapsed": report.uptime_s,
                    "rate_5s": round(report.hashrate_ghs, 2),
                    "rate_30m": report.average_ghs,
                    "rate_avg": report.average_ghs,
                    "rate_ideal": report.expected_ghs,
                    "rate_unit": "GH/s",
                    "hw_all": report.hw_errors,
                    "bestshare": 0,
                    "status": [
                        {
                            "type": kind,
                            "status": "s" if ok else "e",
                            "code": 0 if ok else 1,
                            "msg": "" if ok else message,
                        }
                        for kind, ok, message in checks
                    ],
                }
            ],
        }

    def web_miner_conf(self, report: Report) -> dict[str, Any]:
        conf = dict(self._conf)
        conf["pools"] = [
            {"url": p.url, "user": p.user, "pass": p.password} for p in self.state.pools
        ]
        conf["bitmain-freq"] = str(self.state.frequency_mhz)
        return conf

    def web_blink_status(self, report: Report) -> dict[str, Any]:
        return {"blink": self.state.blink}

    def http(self, request: HttpRequest) -> HttpResponse:
        if not self._realm.verify(request.method, request.headers.get("authorization")):
            return HttpResponse(
                401,
                b"401 - Unauthorized",
                "text/html",
                headers=[("WWW-Authenticate", self._realm.challenge())],
            )
        if request.method != "GET":
            return HttpResponse.text(405, "Method Not Allowed")
        if request.path in ("/", "/index.html"):
            return HttpResponse(200, _ROOT_PAGE, "text/html")
        renderer = self._web.get(request.path)
        if renderer is None:
            return HttpResponse(404, b"<html><body>404 - Not Found</body></html>", "text/html")
        return HttpResponse(200, dumps(renderer(self.state.report())))
