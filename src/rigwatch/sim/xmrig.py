"""XMRig (CPU, RandomX) on its HTTP API: `/1/summary`, `/2/summary`, `/2/backends`.

Bodies keep the field names and shapes of the real XMRig 5.11.1 replies captured in
shared/fixtures/xmrig-http/ (hashrates in H/s, `null` while a window has too little
data). Access follows shared/PROTOCOLS.md §3.1: `Authorization: Bearer <token>` only;
with a token configured a missing header is 401 and a wrong one 403, a header sent
to a miner without a token is 401; the API is restricted (read-only), so anything but
GET is refused. XMRig has no default HTTP port; the simulator uses 18080.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from rigwatch.sim.http11 import HttpRequest, HttpResponse
from rigwatch.sim.persona import Persona, dumps
from rigwatch.sim.state import MinerState, Report

VERSION = "5.11.1"
"""The release whose reply shape the simulator keeps (the real capture in fixtures)."""

WINDOWS_S = (10, 60, 900)
"""XMRig's hashrate windows: 10 s, 60 s and 15 min."""

ALGORITHMS = ("rx/0", "rx/wow", "rx/arq", "rx/sfx", "rx/keva", "cn/r", "cn/half", "cn-pico")
FEATURES = ("api", "asm", "http", "hwloc", "tls")
RANDOMX_DATASET_PAGES = 1168
"""2 MiB huge pages the RandomX dataset takes; each mining thread adds one scratchpad page."""
PAGE = 2 * 1024 * 1024
MEMORY_TOTAL = 32 * 1024**3

_CORS = [
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, PUT, POST, DELETE"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type"),
]
_SUMMARY_PATHS = frozenset({"/1/summary", "/2/summary", "/api.json"})
_CONFIG_PATHS = frozenset({"/1/config", "/2/config"})
_KNOWN_METHODS = frozenset({"DELETE", "GET", "HEAD", "POST", "PUT"})


def error_response(status: int) -> HttpResponse:
    """XMRig's error body: the status code and its HTTP reason phrase."""
    body = dumps({"status": status, "error": HTTPStatus(status).phrase})
    return HttpResponse(status, body, headers=list(_CORS))


def windows(current: float, average: float, uptime_s: int) -> list[float | None]:
    """[10s, 60s, 15m]: the current rate, then the session average; None until a window fills."""
    values = (current, average, average)
    return [round(v, 2) if uptime_s >= w else None for v, w in zip(values, WINDOWS_S, strict=True)]


class XmrigPersona(Persona):
    """XMRig's restricted HTTP API over one simulated CPU miner (`boards` are its threads)."""

    description = f"XMRig {VERSION}"

    def __init__(
        self, state: MinerState, restart: Callable[[], None], token: str | None = None
    ) -> None:
        super().__init__(state, restart)
        self.token = token
        self._bodies: dict[str, bytes] = {}
        self._bodies_version = -1
        self._highest: float | None = None
        self._last_uptime = -1

    # ---- auth (Httpd::auth as described in PROTOCOLS.md §3.1) ----------------------------

    def auth_status(self, header: str | None) -> int:
        """200 when the request may proceed, else 401 or 403."""
        if header is None:
            return 401 if self.token is not None else 200
        if self.token is None:
            return 401
        scheme, _, given = header.partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(given.encode(), self.token.encode()):
            return 403
        return 200

    # ---- rendering -----------------------------------------------------------------------

    def _rates(self, report: Report) -> tuple[list[float], float, float]:
        """Per-thread H/s now, total H/s now, session-average H/s."""
        to_hs = self.state.profile.to_hs
        threads = [to_hs(b.hashrate_ghs) for b in report.boards]
        return threads, sum(threads), to_hs(report.average_ghs)

    def _thread_windows(self, report: Report) -> list[list[float | None]]:
        threads, total, average = self._rates(report)
        scale = average / total if total else 0.0
        return [windows(rate, rate * scale, report.uptime_s) for rate in threads]

    def _share_difficulty(self, report: Report) -> int:
        """Hashes per share: the state counts shares at pool_difficulty x 2^32 of its units."""
        return round(self.state.profile.to_hs(report.pool_difficulty * 2**32 / 1e9))

    def summary(self, report: Report) -> dict[str, Any]:
        state, profile = self.state, self.state.profile
        _, total, average = self._rates(report)
        if report.uptime_s < self._last_uptime:
            self._highest = None  # restarted: XMRig forgets its best rate
        self._last_uptime = report.uptime_s
        if report.uptime_s >= WINDOWS_S[0]:
            self._highest = max(self._highest or 0.0, round(total, 2))
        diff = self._share_difficulty(report)
        good, total_shares = report.accepted, report.accepted + report.rejected
        avg_time = report.uptime_s // good if good else 0
        best = [diff * total_shares // k if k <= total_shares else 0 for k in range(1, 11)]
        threads = profile.boards
        pool = state.pools[0]
        results = {
            "diff_current": diff,
            "shares_good": good,
            "shares_total": total_shares,
            "avg_time": avg_time,
            "hashes_total": good * diff,
            "best": best,
            "error_log": [],
        }
        load = round(threads * (0.98 if report.hashrate_ghs > 0 else 0.05), 2)
        rss = RANDOMX_DATASET_PAGES * PAGE + threads * PAGE + 48 * 1024 * 1024
        return {
            "id": state.identity.miner_id,
            "worker_id": state.identity.hostname,
            "uptime": report.uptime_s,
            "restricted": True,
            "resources": {
                "memory": {
                    "free": MEMORY_TOTAL - rss - 3 * 1024**3,
                    "total": MEMORY_TOTAL,
                    "resident_set_memory": rss,
                },
                "load_average": [load, load, round(load * 0.97, 2)],
                "hardware_concurrency": threads,
            },
            "features": list(FEATURES),
            "results": results,
            "algo": profile.algorithm,
            "connection": {
                "pool": pool.url.split("//", 1)[-1],
                "ip": "127.0.0.1",
                "uptime": max(0, report.uptime_s - 2),
                "ping": 12,
                "failures": 0,
                "tls": None,
                "tls-fingerprint": None,
                "algo": profile.algorithm,
                "diff": diff,
                "accepted": good,
                "rejected": report.rejected,
                "avg_time": avg_time,
                "hashes_total": good * diff,
                "error_log": [],
            },
            "version": VERSION,
            "kind": "miner",
            "ua": f"XMRig/{VERSION} (Linux x86_64) libuv/1.38.0 gcc/9.3.0",
            "cpu": {
                "brand": profile.type_string,
                "aes": True,
                "avx2": True,
                "x64": True,
                "l2": threads // 2 * 512 * 1024,
                "l3": threads * PAGE,
                "cores": threads // 2,
                "threads": threads,
                "packages": 1,
                "nodes": 1,
                "backend": "hwloc/2.2.0",
                "assembly": "ryzen",
            },
            "donate_level": 1,
            "paused": False,
            "algorithms": list(ALGORITHMS),
            "hashrate": {
                "total": windows(total, average, report.uptime_s),
                "highest": self._highest,
                "threads": self._thread_windows(report),
            },
            "hugepages": True,
        }

    def backends(self, report: Report) -> list[dict[str, Any]]:
        profile = self.state.profile
        _, total, average = self._rates(report)
        threads = profile.boards
        pages = RANDOMX_DATASET_PAGES + threads
        cpu = {
            "type": "cpu",
            "enabled": True,
            "algo": profile.algorithm,
            "profile": profile.algorithm.split("/", 1)[0],
            "hw-aes": True,
            "priority": -1,
            "asm": "ryzen",
            "argon2-impl": None,
            "astrobwt-max-size": 550,
            "hugepages": [pages, pages],
            "memory": threads * PAGE,
            "hashrate": windows(total, average, report.uptime_s),
            "threads": [
                {"intensity": 1, "affinity": i, "av": 1, "hashrate": rates}
                for i, rates in enumerate(self._thread_windows(report))
            ],
        }
        opencl = {
            "type": "opencl",
            "enabled": False,
            "algo": None,
            "profile": None,
            "platform": None,
        }
        cuda = {"type": "cuda", "enabled": False, "algo": None, "profile": None}
        return [cpu, opencl, cuda]

    def body(self, name: str, report: Report) -> bytes:
        """`summary` or `backends` as sent, rendered once per report (pollers share it)."""
        if report.version != self._bodies_version:
            self._bodies.clear()
            self._bodies_version = report.version
        body = self._bodies.get(name)
        if body is None:
            body = dumps(self.summary(report) if name == "summary" else self.backends(report))
            self._bodies[name] = body
        return body

    # ---- HTTP ----------------------------------------------------------------------------

    def http(self, request: HttpRequest) -> HttpResponse:
        method = request.method
        if method == "OPTIONS":
            return HttpResponse(200, headers=list(_CORS))  # CORS preflight, before auth
        if method not in _KNOWN_METHODS:
            return error_response(405)
        status = self.auth_status(request.headers.get("authorization"))
        if status != 200:
            return error_response(status)
        if method != "GET":
            if request.headers.get("content-type") != "application/json":
                return error_response(415)
            return error_response(403)  # restricted: read-only
        path = request.path
        if path in _SUMMARY_PATHS:
            command = "summary"
        elif path == "/2/backends":
            command = "backends"
        elif path in _CONFIG_PATHS:
            return error_response(403)
        else:
            return error_response(404)
        body = self.body(command, self.state.report())
        return HttpResponse(200, body, headers=list(_CORS))
