"""Finding out what sits at each address, and choosing how to poll it.

Identification goes through pyasic (`pyasic.get_miner`), which knows the long tail of
makes and firmwares, but under rigwatch's own limits: a semaphore bounds how many
addresses are probed at once (pyasic's own scan has no bound) and each address gets an
overall deadline, so one slow host cannot stall a discovery round.

Stock AntMiner and WhatsMiner then get rigwatch's fast cgminer poller, BitAxe its AxeOS
poller; everything else (or `poller="pyasic"`) keeps the pyasic miner object. Targets
from the targets file with an explicit kind skip identification entirely. An address
pyasic finds nothing at is then asked, in the time left, whether a CPU/GPU mining
program answers there (`pollers.rigs.probe_rig`: default API ports, plus the target's
own port for XMRig, which has no default).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Literal

import httpx

from rigwatch.domain.models import MinerIdentity, MinerKind
from rigwatch.sentry.config import PollerChoice
from rigwatch.sentry.pollers.base import Poller
from rigwatch.sentry.pollers.pyasic_adapter import PyasicPoller
from rigwatch.sentry.targets import Target

logger = logging.getLogger(__name__)

GetMiner = Callable[[str], Awaitable[Any]]

MAKE_ANTMINER = "AntMiner"
MAKE_WHATSMINER = "WhatsMiner"
MAKE_BITAXE = "BitAxe"
STOCK_FIRMWARE = "Stock"


def _pyasic_get_miner() -> GetMiner:
    import pyasic  # imported late: it is heavy and only discovery needs it

    get: GetMiner = pyasic.get_miner
    return get


def _str_or_none(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def identity_from_pyasic(
    miner: Any, ip: str, *, mac: str | None = None, hostname: str | None = None
) -> MinerIdentity:
    """Identity of a pyasic miner object: key = upper-case MAC when known, else the IP."""
    make = _str_or_none(getattr(miner, "make", None))
    mac_uc = mac.strip().upper() if mac and mac.strip() else None
    return MinerIdentity(
        key=mac_uc or ip,
        kind=MinerKind.BITAXE if make == MAKE_BITAXE else MinerKind.ASIC,
        ip=ip,
        mac=mac_uc,
        hostname=_str_or_none(hostname),
        make=make,
        model=_str_or_none(getattr(miner, "raw_model", None) or getattr(miner, "model", None)),
        firmware=_str_or_none(getattr(miner, "firmware", None)),
    )


def poller_for(
    miner: Any,
    identity: MinerIdentity,
    *,
    poller: PollerChoice,
    http_client: httpx.AsyncClient,
    timeout_s: float,
) -> Poller:
    """The poller for an identified miner (see the module docstring for the choice)."""
    ip = identity.ip or str(getattr(miner, "ip", ""))
    if poller == "auto":
        make = identity.make
        stock = identity.firmware in (None, STOCK_FIRMWARE)
        if make == MAKE_ANTMINER and stock:
            from rigwatch.sentry.pollers.cgminer import CgminerPoller

            return CgminerPoller(identity, ip, variant="antminer", timeout_s=timeout_s)
        if make == MAKE_WHATSMINER:
            from rigwatch.sentry.pollers.cgminer import CgminerPoller

            return CgminerPoller(identity, ip, variant="whatsminer", timeout_s=timeout_s)
        if make == MAKE_BITAXE:
            from rigwatch.sentry.pollers.axeos import AxeosPoller

            return AxeosPoller(identity, ip, client=http_client, timeout_s=timeout_s)
    return PyasicPoller(identity, miner, timeout_s=timeout_s)


def poller_for_target(
    target: Target, *, http_client: httpx.AsyncClient, timeout_s: float
) -> Poller:
    """A poller for a targets-file entry with an explicit kind, built without probing.

    Its key is the address (plus the port when it is not the default), since no MAC is
    known before the first poll.
    """
    if target.kind == "bitaxe":
        from rigwatch.sentry.pollers.axeos import AxeosPoller

        port = target.port or 80
        identity = MinerIdentity(
            key=target.ip if port == 80 else f"{target.ip}:{port}",
            kind=MinerKind.BITAXE,
            ip=target.ip,
            hostname=target.name,
            make=MAKE_BITAXE,
        )
        return AxeosPoller(identity, target.ip, client=http_client, port=port, timeout_s=timeout_s)
    if target.kind in ("antminer", "whatsminer"):
        from rigwatch.sentry.pollers.cgminer import CgminerPoller

        port = target.port or 4028
        variant: Literal["antminer", "whatsminer"] = (
            "antminer" if target.kind == "antminer" else "whatsminer"
        )
        identity = MinerIdentity(
            key=target.ip if port == 4028 else f"{target.ip}:{port}",
            kind=MinerKind.ASIC,
            ip=target.ip,
            hostname=target.name,
            make=MAKE_ANTMINER if variant == "antminer" else MAKE_WHATSMINER,
        )
        return CgminerPoller(identity, target.ip, variant=variant, port=port, timeout_s=timeout_s)
    raise ValueError(f"target {target.ip} has no explicit kind; identify it with pyasic")


async def _facts(miner: Any) -> tuple[str | None, str | None]:
    """MAC and hostname, asked once at discovery so the key is stable from the first
    sample; a failure only means the IP becomes the key."""
    results = await asyncio.gather(miner.get_mac(), miner.get_hostname(), return_exceptions=True)
    mac, hostname = (r if isinstance(r, str) else None for r in results)
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, Exception):
            raise r
    return mac, hostname


async def identify(
    ip: str,
    *,
    deadline_s: float,
    poller: PollerChoice,
    http_client: httpx.AsyncClient,
    poll_timeout_s: float,
    get_miner: GetMiner | None = None,
    rig_ports: Sequence[int] = (),
    probe_rigs: bool = True,
) -> Poller | None:
    """The poller for the miner at `ip`, or None if nothing recognisable answers in time."""
    fetch = get_miner or _pyasic_get_miner()
    try:
        async with asyncio.timeout(deadline_s):
            miner = await fetch(ip)
            if miner is None:
                if not probe_rigs:
                    return None
                from rigwatch.sentry.pollers.rigs import probe_rig

                rig = await probe_rig(
                    ip, client=http_client, timeout_s=poll_timeout_s, ports=rig_ports
                )
                if rig is not None:
                    logger.info("found %s at %s (key %s)", rig.identity.make, ip, rig.identity.key)
                return rig
            mac, hostname = await _facts(miner)
    except TimeoutError:
        logger.debug("identification of %s ran past %.1f s", ip, deadline_s)
        return None
    except (OSError, ValueError, LookupError, TypeError, httpx.HTTPError) as exc:
        # pyasic raises these for hosts that answer oddly (see PYASIC-CLIENT.md pitfall 15).
        logger.info("could not identify %s: %r", ip, exc)
        return None
    except Exception:
        # Anything else is a pyasic bug on an odd host; it must not end the whole round.
        logger.exception("pyasic failed identifying %s", ip)
        return None
    identity = identity_from_pyasic(miner, ip, mac=mac, hostname=hostname)
    found = poller_for(
        miner, identity, poller=poller, http_client=http_client, timeout_s=poll_timeout_s
    )
    logger.info(
        "found %s %s at %s (key %s, %s)",
        identity.make,
        identity.model,
        ip,
        identity.key,
        type(found).__name__,
    )
    return found


async def discover(
    targets: Sequence[Target],
    *,
    concurrency: int,
    deadline_s: float,
    poller: PollerChoice,
    http_client: httpx.AsyncClient,
    poll_timeout_s: float,
    get_miner: GetMiner | None = None,
) -> list[tuple[Target, Poller]]:
    """Identify every target at most `concurrency` at a time; keeps target order."""
    sem = asyncio.Semaphore(concurrency)

    async def one(target: Target) -> Poller | None:
        if target.kind is not None and target.kind != "pyasic":
            return poller_for_target(target, http_client=http_client, timeout_s=poll_timeout_s)
        async with sem:
            return await identify(
                target.ip,
                deadline_s=deadline_s,
                poller="pyasic" if target.kind == "pyasic" else poller,
                http_client=http_client,
                poll_timeout_s=poll_timeout_s,
                get_miner=get_miner,
                rig_ports=(target.port,) if target.port else (),
                probe_rigs=target.kind != "pyasic",
            )

    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(one(t)) for t in targets]
    found: list[tuple[Target, Poller]] = []
    for target, task in zip(targets, tasks, strict=True):
        result = task.result()
        if result is not None:
            found.append((target, result))
    return found
