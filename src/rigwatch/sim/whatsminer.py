"""MicroBT Whatsminer on btminer API v2 (M30S+ / M50 class): plaintext RPC on 4028 only.

cgminer-shaped `summary`/`devs`/`pools` come from the real M31S captures in data/; the
btminer-only commands answer the flat `{"STATUS":"S","Code":131,"Msg":{...}}` shape of
the real `status` capture. `get_version` reports a firmware dated before 2024-11 so
pyasic picks its API v2 class (shared/PYASIC-CLIENT.md §3.1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rigwatch.sim.cgminer import error_reply
from rigwatch.sim.persona import Persona, cg_status, pools_reply
from rigwatch.sim.state import MinerState, Report
from rigwatch.sim.templates import template

FIRMWARE = "20230911.12.Rel"
API_VERSION = "2.0.5"
BTMINER_DESCRIPTION = "whatsminer v1.3"

_DROP_FROM_SUMMARY = (
    "Error Code",
    "Error ",
    "Factory Error Code",
)


class WhatsminerPersona(Persona):
    description = "btminer"

    def __init__(self, state: MinerState, restart: Callable[[], None]) -> None:
        super().__init__(state, restart)
        summary = template("whatsminer_summary.json")
        row = summary["SUMMARY"][0]
        # The capture came from a miner with errors; a healthy simulated one has none.
        self._summary_row = {k: v for k, v in row.items() if not k.startswith(_DROP_FROM_SUMMARY)}
        self._summary_status = summary["STATUS"][0]
        self._devs = template("whatsminer_edevs.json")
        self._pools = template("whatsminer_pools.json")
        self._status = template("whatsminer_status.json")
        self.renderers = {
            "summary": self.summary,
            "devs": self.devs,
            "edevs": self.devs,
            "pools": self.pools,
            "devdetails": self.devdetails,
            "get_version": self.get_version,
            "status": self.status,
            "get_miner_info": self.get_miner_info,
            "get_psu": self.get_psu,
            "get_error_code": self.get_error_code,
        }

    def unknown_command(self, command: str, when: int) -> bytes:
        if command == "version":
            return b'{"STATUS":"E","When":%d,"Code":14,"Msg":"invalid cmd","Description":"%s"}' % (
                when,
                BTMINER_DESCRIPTION.encode(),
            )
        return error_reply(14, "invalid cmd", self.description, when)

    def _flat(self, report: Report, msg: dict[str, Any]) -> dict[str, Any]:
        reply = dict(self._status)
        reply.update({"STATUS": "S", "When": int(report.at), "Code": 131, "Msg": msg})
        return reply

    def summary(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        mhs = round(report.hashrate_ghs * 1000, 2)
        avg = round(report.average_ghs * 1000, 2)
        fans = report.fans_rpm
        row = dict(self._summary_row)
        row.update(
            {
                "Elapsed": report.uptime_s,
                "MHS av": avg,
                "MHS 5s": mhs,
                "MHS 1m": mhs,
                "MHS 5m": mhs,
                "MHS 15m": avg,
                "HS RT": mhs,
                "Accepted": report.accepted,
                "Rejected": report.rejected,
                "Total MH": round(avg * report.uptime_s, 4),
                "Difficulty Accepted": float(report.accepted * report.pool_difficulty),
                "Difficulty Rejected": float(report.rejected * report.pool_difficulty),
                "Temperature": report.temperature_avg_c,
                "freq_avg": self.state.frequency_mhz,
                "Fan Speed In": fans[0],
                "Fan Speed Out": fans[1],
                "Power": int(report.power_w),
                "Power_RT": int(report.power_w),
                "Uptime": report.uptime_s,
                "Error Code Count": 0,
                "Factory Error Code Count": 0,
                "Target Freq": self.state.frequency_mhz,
                "Target MHS": int(report.expected_ghs * 1000),
                "Env Temp": report.ambient_c,
                "Firmware Version": f"'{FIRMWARE}'",
                "MAC": self.state.identity.mac,
                "Factory GHS": int(report.expected_ghs),
                "Power Limit": int(self.state.profile.power_w * 1.1),
                "Chip Temp Min": min((b.chip_temp_c - 8 for b in report.present_boards), default=0),
                "Chip Temp Max": report.chip_temp_max_c + 10 if report.present_boards else 0,
                "Chip Temp Avg": report.chip_temp_max_c,
            }
        )
        status = dict(self._summary_status)
        status["When"] = when
        return {"STATUS": [status], "SUMMARY": [row], "id": 1}

    def devs(self, report: Report) -> dict[str, Any]:
        when = int(report.at)
        template_rows = self._devs["DEVS"]
        rows = []
        for n, board in enumerate(report.present_boards):
            row = dict(template_rows[min(board.slot, len(template_rows) - 1)])
            mhs = round(board.hashrate_ghs * 1000, 2)
            row.update(
                {
                    "ASC": board.slot,
                    "ID": n,
                    "Slot": board.slot,
                    "Temperature": board.pcb_temp_c,
                    "Chip Frequency": self.state.frequency_mhz,
                    "Fan Speed In": report.fans_rpm[0],
                    "Fan Speed Out": report.fans_rpm[1],
                    "MHS av": mhs,
                    "MHS 5s": mhs,
                    "MHS 1m": mhs,
                    "MHS 5m": mhs,
                    "MHS 15m": mhs,
                    "Accepted": report.accepted // len(report.present_boards),
                    "Rejected": report.rejected // len(report.present_boards),
                    "Hardware Errors": board.hw_errors,
                    "Last Share Time": when,
                    "Last Valid Work": when,
                    "Device Elapsed": report.uptime_s,
                    "Effective Chips": board.chips,
                    "PCB SN": board.serial,
                    "Chip Temp Min": board.chip_temp_c - 8,
                    "Chip Temp Max": board.chip_temp_c + 10,
                    "Chip Temp Avg": board.chip_temp_c,
                }
            )
            rows.append(row)
        return {
            "STATUS": cg_status(9, f"{len(rows)} ASC(s)", self.description, when),
            "DEVS": rows,
            "id": 1,
        }

    def pools(self, report: Report) -> dict[str, Any]:
        def btminer(active: bool) -> dict[str, Any]:
            return {
                "Stratum Difficulty": report.pool_difficulty if active else 0.0,
                "Last Share Time": int(report.at) if active else 0,
            }

        return pools_reply(self._pools, self.state.pools, report, btminer)

    def devdetails(self, report: Report) -> dict[str, Any]:
        rows = [
            {
                "DEVDETAILS": n,
                "Name": "SM",
                "ID": n,
                "Driver": "bitmicro",
                "Kernel": "",
                "Model": self.state.profile.type_string,
            }
            for n in range(self.state.profile.boards)
        ]
        return {
            "STATUS": cg_status(69, "Device Details", self.description, int(report.at)),
            "DEVDETAILS": rows,
            "id": 1,
        }

    def get_version(self, report: Report) -> dict[str, Any]:
        return self._flat(
            report,
            {"api_ver": API_VERSION, "fw_ver": FIRMWARE, "platform": "H6OS", "chip": "K210"},
        )

    def status(self, report: Report) -> dict[str, Any]:
        return self._flat(report, {"mineroff": "false", "FirmwareVersion": f"'{FIRMWARE}'"})

    def get_miner_info(self, report: Report) -> dict[str, Any]:
        identity = self.state.identity
        return self._flat(
            report,
            {
                "ip": identity.ip,
                "proto": "dhcp",
                "netmask": "255.0.0.0",
                "dns": "127.0.0.1",
                "mac": identity.mac,
                "ledstat": "manual" if self.state.blink else "auto",
                "gateway": "127.0.0.1",
                "hostname": identity.hostname,
                "minersn": identity.serial,
                "pcbsn": identity.board_serials[0],
            },
        )

    def get_psu(self, report: Report) -> dict[str, Any]:
        return self._flat(
            report,
            {
                "name": "P221B",
                "vin": "22950",
                "pin": str(int(report.power_w)),
                "fan_speed": str(int(report.fans_rpm[0] * 1.3)),
            },
        )

    def get_error_code(self, report: Report) -> dict[str, Any]:
        return self._flat(report, {"error_code": []})
