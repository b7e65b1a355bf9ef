"""Pollers for CPU/GPU mining programs: XMRig, xmrig-proxy, T-Rex, lolMiner, SRBMiner,
GMiner, NBMiner (HTTP JSON) and TeamRedMiner (cgminer API over TCP).

A rig is named on the command line as `SOFTWARE=URL[#TOKEN]` (`parse_rig_arg`) and
polled by the object `make_rig_poller` returns. Every poll runs under one deadline and
fails with a typed error: a 401/403 (or a refused T-Rex login) is AuthFailed, never
"offline". TeamRedMiner reuses the cgminer transport of `pollers/cgminer.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from rigwatch.domain.models import MinerIdentity, MinerKind, Sample
from rigwatch.protocols import fields, gpu_miners, teamredminer, xmrig
from rigwatch.protocols.cgminer import encode_request
from rigwatch.protocols.device_facts import DeviceFacts
from rigwatch.protocols.errors import ProtocolError
from rigwatch.sentry.pollers.base import (
    AuthFailed,
    BadReply,
    MinerRefused,
    MinerTimeout,
    Poller,
    PollError,
    PollResult,
)
from rigwatch.sentry.pollers.cgminer import CgminerPoller

Auth = Literal["bearer", "trex-login"]
Transport = Literal["http", "cgminer"]
Parse = Callable[..., tuple[DeviceFacts, Sample]]


@dataclass(frozen=True, slots=True)
class RigSpec:
    """What rigwatch knows about one mining program's API.

    `port` is the program's default API port, None when it has none (XMRig's is chosen
    by the user, GMiner and lolMiner only listen when given one); `auth` says how an
    access token is sent, None when the program has no API password.
    """

    key: str
    name: str
    kind: MinerKind
    port: int | None
    transport: Transport = "http"
    path: str | None = None
    auth: Auth | None = None


RIG_SOFTWARE: Mapping[str, RigSpec] = MappingProxyType(
    {
        spec.key: spec
        for spec in (
            RigSpec("xmrig", "XMRig", MinerKind.CPU, None, auth="bearer"),
            RigSpec("xmrig-proxy", "xmrig-proxy", MinerKind.CPU, None, auth="bearer"),
            RigSpec(
                "trex", "T-Rex", MinerKind.GPU, 4067, path=gpu_miners.TREX_PATH, auth="trex-login"
            ),
            RigSpec("lolminer", "lolMiner", MinerKind.GPU, None, path=gpu_miners.LOLMINER_PATH),
            RigSpec("srbminer", "SRBMiner", MinerKind.GPU, 21550, path=gpu_miners.SRBMINER_PATH),
            RigSpec("gminer", "GMiner", MinerKind.GPU, None, path=gpu_miners.GMINER_PATH),
            RigSpec("nbminer", "NBMiner", MinerKind.GPU, 22333, path=gpu_miners.NBMINER_PATH),
            RigSpec("teamredminer", "TeamRedMiner", MinerKind.GPU, 4028, transport="cgminer"),
        )
    }
)

_PARSERS: Mapping[str, Parse] = MappingProxyType(
    {
        "lolminer": gpu_miners.parse_lolminer,
        "srbminer": gpu_miners.parse_srbminer,
        "gminer": gpu_miners.parse_gminer,
        "nbminer": gpu_miners.parse_nbminer,
    }
)


@dataclass(frozen=True, slots=True)
class RigTarget:
    """One rig to poll; the token never appears in the repr (it ends up in logs)."""

    software: str
    host: str
    port: int
    scheme: str = "http"
    base_path: str = ""
    token: str | None = field(default=None, repr=False)

    @property
    def spec(self) -> RigSpec:
        return RIG_SOFTWARE[self.software]

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.base_path}"

    @property
    def key(self) -> str:
        """Stable miner key, e.g. `xmrig@127.0.0.1:18080`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.software}@{host}:{self.port}"


def parse_rig_arg(text: str) -> RigTarget:
    """`SOFTWARE=URL[#TOKEN]`, e.g. `xmrig=http://127.0.0.1:18080#secret` or
    `teamredminer=127.0.0.1` (the program's default port is used when URL has none)."""
    software, sep, rest = text.strip().partition("=")
    software = software.strip().lower()
    if not sep or not software or not rest.strip():
        raise ValueError(f"expected SOFTWARE=URL[#TOKEN], got {text!r}")
    spec = RIG_SOFTWARE.get(software)
    if spec is None:
        known = ", ".join(sorted(RIG_SOFTWARE))
        raise ValueError(f"unknown mining software {software!r}; known: {known}")
    location, _, token = rest.strip().partition("#")
    if "://" not in location:
        location = ("tcp://" if spec.transport == "cgminer" else "http://") + location
    try:
        parts = urlsplit(location)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{software}: bad URL {location!r}: {exc}") from None
    allowed = ("tcp",) if spec.transport == "cgminer" else ("http", "https")
    if parts.scheme not in allowed:
        raise ValueError(
            f"{software}: URL scheme must be {' or '.join(allowed)}, not {parts.scheme!r}"
        )
    if not parts.hostname:
        raise ValueError(f"{software}: URL {location!r} has no host")
    if parts.query or parts.username or parts.password:
        raise ValueError(f"{software}: URL must not carry a query or user; put a token after #")
    if port is None:
        port = spec.port
    if port is None:
        raise ValueError(
            f"{software} has no default API port; give one, e.g. {software}=http://HOST:PORT"
        )
    if token and spec.auth is None:
        raise ValueError(f"{software} has no API password; drop the #TOKEN part")
    base_path = parts.path.rstrip("/")
    if base_path and spec.transport == "cgminer":
        raise ValueError(f"{software}: a TCP address takes no path")
    return RigTarget(
        software=software,
        host=parts.hostname,
        port=port,
        scheme=parts.scheme,
        base_path=base_path,
        token=token or None,
    )


def make_rig_poller(target: RigTarget, *, client: httpx.AsyncClient, timeout_s: float) -> Poller:
    """The poller for `target`; `client` is shared by all HTTP pollers of a sentry."""
    spec = target.spec
    identity = MinerIdentity(key=target.key, kind=spec.kind, ip=target.host, make=spec.name)
    if spec.transport == "cgminer":
        return TeamRedMinerPoller(identity, target.host, port=target.port, timeout_s=timeout_s)
    if target.software in ("xmrig", "xmrig-proxy"):
        return XmrigPoller(identity, target, client=client, timeout_s=timeout_s)
    if target.software == "trex":
        return TrexPoller(identity, target, client=client, timeout_s=timeout_s)
    return JsonRigPoller(identity, target, client=client, timeout_s=timeout_s)


class TeamRedMinerPoller(CgminerPoller):
    """TeamRedMiner over the cgminer transport: `summary+devs+pools`, summary optional."""

    def __init__(
        self, identity: MinerIdentity, ip: str, *, port: int = 4028, timeout_s: float = 5.0
    ) -> None:
        super().__init__(identity, ip, variant="antminer", port=port, timeout_s=timeout_s)
        # Same framing and fallbacks as the ASIC variants; only the plan differs.
        self._commands = teamredminer.COMMANDS
        self._optional = teamredminer.OPTIONAL
        self._parse = teamredminer.parse
        self._request = encode_request(self._commands)


class JsonRigPoller:
    """One `GET` of a JSON status document per poll (lolMiner, SRBMiner, GMiner, NBMiner)."""

    def __init__(
        self,
        identity: MinerIdentity,
        target: RigTarget,
        *,
        client: httpx.AsyncClient,
        timeout_s: float = 5.0,
    ) -> None:
        self._identity = identity
        self._target = target
        self._client = client
        self._timeout_s = timeout_s
        self._base = target.base_url

    @property
    def identity(self) -> MinerIdentity:
        return self._identity

    async def poll(self) -> PollResult:
        """One sample, or MinerTimeout / MinerRefused / AuthFailed / BadReply."""
        try:
            async with asyncio.timeout(self._timeout_s):
                facts, sample = await self._read(datetime.now(UTC))
        except TimeoutError:
            raise MinerTimeout(f"{self._base}: no reply in {self._timeout_s} s") from None
        except gpu_miners.ApiRefused as exc:
            raise AuthFailed(f"{self._base}: {exc}") from None
        except ProtocolError as exc:
            raise BadReply(f"{self._base}: {exc}") from None
        self._identity = facts.apply(self._identity)
        return PollResult(identity=self._identity, sample=sample)

    async def _read(self, ts: datetime) -> tuple[DeviceFacts, Sample]:
        spec = self._target.spec
        body = await self._get(spec.path or "/")
        return _PARSERS[spec.key](body, ts=ts)

    def _headers(self) -> dict[str, str]:
        return {"Accept": "application/json"}

    async def _get(
        self, path: str, *, missing_ok: bool = False, params: Mapping[str, str] | None = None
    ) -> Any:
        """The decoded JSON body of `GET path`, None for a 404 when `missing_ok`."""
        where = f"{self._base}{path}"
        try:
            response = await self._client.get(
                self._base + path,
                headers=self._headers(),
                params=dict(params) if params else None,
                timeout=self._timeout_s,
            )
        except httpx.TimeoutException:
            raise MinerTimeout(f"{where}: timed out") from None
        except httpx.ConnectError as exc:
            raise MinerRefused(f"{where}: {exc}") from None
        except (httpx.ReadError, httpx.WriteError) as exc:
            raise MinerRefused(f"{where}: connection reset: {exc}") from None
        except httpx.TransportError as exc:
            raise BadReply(f"{where}: {type(exc).__name__}: {exc}") from None
        if response.status_code in (401, 403):
            raise AuthFailed(f"{where}: {self._auth_hint(response.status_code)}")
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code != 200:
            raise BadReply(f"{where}: HTTP {response.status_code}")
        return gpu_miners.decode_json(response.content, self._target.spec.name)

    def _auth_hint(self, status: int) -> str:
        return f"HTTP {status}"


class XmrigPoller(JsonRigPoller):
    """XMRig / xmrig-proxy: the summary (newest endpoint that answers) plus `/2/backends`.

    Token semantics (XMRig `Httpd::auth`): no header while a token is required → 401;
    a wrong token → 403; a token while none is configured → 401.
    """

    def __init__(
        self,
        identity: MinerIdentity,
        target: RigTarget,
        *,
        client: httpx.AsyncClient,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(identity, target, client=client, timeout_s=timeout_s)
        self._summary_path: str | None = None
        self._backends = True

    def _headers(self) -> dict[str, str]:
        headers = super()._headers()
        if self._target.token:
            headers["Authorization"] = f"Bearer {self._target.token}"
        return headers

    def _auth_hint(self, status: int) -> str:
        has_token = self._target.token is not None
        if status == 401 and not has_token:
            return "HTTP 401: the API needs an access token (give it as URL#TOKEN)"
        if status == 401:
            return "HTTP 401: the API has no access token configured, or did not get ours"
        if has_token:
            return "HTTP 403: the access token was rejected"
        return "HTTP 403: access denied"

    async def _read(self, ts: datetime) -> tuple[DeviceFacts, Sample]:
        summary = await self._summary()
        backends = None
        proxy = isinstance(summary, Mapping) and xmrig.is_proxy(summary)
        if self._backends and not proxy:
            backends = await self._get(xmrig.BACKENDS_PATH, missing_ok=True)
            # Builds before 5.x have no /2/backends; do not ask them every poll.
            self._backends = backends is not None
        return xmrig.parse_summary(summary, ts=ts, backends=backends)

    async def _summary(self) -> Any:
        if self._summary_path is not None:
            return await self._get(self._summary_path)
        proxy = self._target.software == "xmrig-proxy"
        for path in xmrig.PROXY_SUMMARY_PATHS if proxy else xmrig.SUMMARY_PATHS:
            body = await self._get(path, missing_ok=True)
            if body is not None:
                self._summary_path = path
                return body
        raise BadReply(f"{self._base}: no XMRig summary endpoint answered (HTTP 404)")


class TrexPoller(JsonRigPoller):
    """T-Rex `GET /summary`; with an api-key, log in once (`/login?password=`) and send
    the session id with each request, logging in again after a refusal."""

    def __init__(
        self,
        identity: MinerIdentity,
        target: RigTarget,
        *,
        client: httpx.AsyncClient,
        timeout_s: float = 5.0,
    ) -> None:
        super().__init__(identity, target, client=client, timeout_s=timeout_s)
        self._sid: str | None = None

    async def _read(self, ts: datetime) -> tuple[DeviceFacts, Sample]:
        params = None
        if self._target.token:
            if self._sid is None:
                self._sid = await self._login(self._target.token)
            params = {"sid": self._sid}
        try:
            body = await self._get(gpu_miners.TREX_PATH, params=params)
            return gpu_miners.parse_trex(body, ts=ts)
        except (AuthFailed, gpu_miners.ApiRefused):
            self._sid = None
            raise

    async def _login(self, password: str) -> str:
        body = await self._get("/login", params={"password": password})
        sid = fields.text(body.get("sid"), 128) if isinstance(body, Mapping) else None
        ok = isinstance(body, Mapping) and fields.integer(body.get("success")) == 1
        if not ok or sid is None:
            raise AuthFailed(f"{self._base}/login: T-Rex refused the api-key password")
        return sid


async def probe_rig(
    host: str, *, client: httpx.AsyncClient, timeout_s: float, ports: Sequence[int] = ()
) -> Poller | None:
    """The poller of the first mining program that answers a real poll at `host`.

    Each program is tried on its default port, and every HTTP program (XMRig included,
    which has no default) on each of `ports`, all at once under `timeout_s`. A program
    that wants a password is not recognised here; name it with `--rig` instead.
    """
    candidates: list[Poller] = []
    for spec in RIG_SOFTWARE.values():
        if spec.key == "xmrig-proxy":
            continue  # the xmrig poller reads a proxy's summary too; see below
        spec_ports = [] if spec.port is None else [spec.port]
        if spec.transport == "http":
            spec_ports += [p for p in ports if p not in spec_ports]
        for port in spec_ports:
            target = RigTarget(software=spec.key, host=host, port=port)
            candidates.append(make_rig_poller(target, client=client, timeout_s=timeout_s))

    async def answer(poller: Poller) -> PollResult | None:
        try:
            return await poller.poll()
        except PollError:
            return None

    results = await asyncio.gather(*(answer(p) for p in candidates))
    for poller, result in zip(candidates, results, strict=True):
        if result is None:
            continue
        if result.identity.model == "xmrig-proxy" and result.identity.key.startswith("xmrig@"):
            port = int(result.identity.key.rsplit(":", 1)[1])
            proxy = RigTarget(software="xmrig-proxy", host=host, port=port)
            return make_rig_poller(proxy, client=client, timeout_s=timeout_s)
        return poller
    return None
