"""The sentry's own machine: CPU, memory, disk, uptime and NVIDIA GPUs.

A rig overheats, fills its disk or loses a GPU whatever mining program runs on it, so
the sentry reads its host directly (psutil, and NVML through `nvidia-ml-py`) rather
than trusting each miner's API. Every reading is best effort per field: a sensor that
is missing or a driver call that fails leaves that one field `None`, and `read()` never
raises, because a monitor that stops reporting the host when one GPU falls off the bus
hides exactly the event it exists to show.
"""

from __future__ import annotations

import importlib
import logging
import platform
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psutil

from rigwatch.domain.host import GpuHealth, HostIdentity, HostSample

log = logging.getLogger(__name__)

T = TypeVar("T")

NVML_RETRY_S = 300.0
"""How often to try NVML again after it failed to start (a driver loaded after boot)."""

# psutil sensor names and labels, best first: the package sensor is what the CPU's own
# throttling acts on. AMD's Tctl carries a fan-control offset on some models, so the
# true die temperature (Tdie) is preferred where the kernel exposes it.
_PACKAGE_LABELS: tuple[tuple[str, str], ...] = (
    ("coretemp", "package id"),
    ("k10temp", "tdie"),
    ("k10temp", "tctl"),
    ("zenpower", "tdie"),
    ("zenpower", "tctl"),
)
_WHOLE_CHIP_SENSORS = ("cpu_thermal", "cpu-thermal", "soc_thermal")
"""ARM boards (Raspberry Pi and the like) report one CPU temperature under these names."""


def _cpu_temp_c(sensors: dict[str, list[Any]]) -> float | None:
    """The CPU temperature from psutil's sensor table, or None when there is none.

    With several packages (a dual-socket board) the hottest one counts.
    """
    for name, label in _PACKAGE_LABELS:
        values = [
            float(entry.current)
            for entry in sensors.get(name, ())
            if str(entry.label).lower().startswith(label) and entry.current is not None
        ]
        if values:
            return max(values)
    for name in _WHOLE_CHIP_SENSORS:
        entries = sensors.get(name)
        if entries:
            return float(entries[0].current)
    cores = [float(e.current) for e in sensors.get("coretemp", ()) if e.current is not None]
    return max(cores) if cores else None


def _cpu_model() -> str | None:
    """The CPU's marketing name: /proc/cpuinfo on Linux, the platform's guess elsewhere."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, sep, value = line.partition(":")
                if sep and key.strip() in ("model name", "Model", "Hardware"):
                    return value.strip() or None
    except OSError:
        pass
    return platform.processor() or None


class _NotStarted(Exception):
    """Stands for NVMLError until NVML is loaded; never raised."""


def _text(value: object) -> str | None:
    """NVML strings are bytes in older bindings and str in newer ones."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value) if value is not None else None


class HostReader:
    """Reads the sentry's host; `read()` is synchronous and cheap (no sleeping).

    `disk_path` is a path on the filesystem whose usage is reported (the sentry's data
    directory: that is the disk whose filling stops the spool). `key` identifies the
    host to the commander and defaults to the hostname. `nvml` replaces the `pynvml`
    module (tests, tools); by default it is imported on first use, and a machine
    without it, without the NVIDIA driver or without GPUs reports no GPUs, saying so
    once in the log.
    """

    def __init__(self, disk_path: Path, key: str | None = None, *, nvml: Any = None) -> None:
        self.disk_path = disk_path
        hostname = socket.gethostname() or None
        self._identity = HostIdentity(
            key=key or hostname or "localhost",
            hostname=hostname,
            os=f"{platform.system()} {platform.release()}".strip() or None,
            cpu_model=_cpu_model(),
            cpu_count=psutil.cpu_count(logical=True),
        )
        self._nvml: Any = nvml
        self._nvml_ready = False
        self._nvml_next_try = 0.0
        self._nvml_reported = False
        self._nvml_error: type[Exception] = _NotStarted
        # The first cpu_percent(None) call only starts the measurement; prime it here
        # so the first read() already covers the time since construction.
        self._field(lambda: psutil.cpu_percent(interval=None))

    @property
    def identity(self) -> HostIdentity:
        return self._identity

    # ---- host ----------------------------------------------------------------------------

    @staticmethod
    def _field(get: Callable[[], T]) -> T | None:
        """One psutil reading, or None where the OS will not give it."""
        try:
            return get()
        except (OSError, psutil.Error):
            return None

    def read(self) -> HostSample:
        """One reading of the host and its GPUs, now."""
        memory = self._field(psutil.virtual_memory)
        disk = self._field(lambda: psutil.disk_usage(str(self.disk_path)))
        load = self._field(psutil.getloadavg)
        boot = self._field(psutil.boot_time)
        temperatures = getattr(psutil, "sensors_temperatures", None)  # Linux and BSD only
        sensors = self._field(temperatures) if temperatures is not None else None
        return HostSample(
            ts=datetime.now(UTC),
            cpu_pct=self._field(lambda: psutil.cpu_percent(interval=None)),
            load_1m=load[0] if load else None,
            cpu_temp_c=_cpu_temp_c(sensors) if sensors else None,
            # "used" as a person means it: what is not available to new programs.
            mem_used_bytes=memory.total - memory.available if memory else None,
            mem_total_bytes=memory.total if memory else None,
            disk_used_bytes=disk.used if disk else None,
            disk_total_bytes=disk.total if disk else None,
            uptime_s=max(0, int(time.time() - boot)) if boot else None,
            gpus=self._gpus(),
        )

    # ---- GPUs (NVML) ---------------------------------------------------------------------

    def _no_gpus(self, why: str) -> None:
        if not self._nvml_reported:
            self._nvml_reported = True
            log.info("no NVIDIA GPUs readable (%s); reporting the host without GPUs", why)

    def _start_nvml(self) -> bool:
        """Initialise NVML once; after a failure, try again every NVML_RETRY_S quietly."""
        if self._nvml_ready:
            return True
        now = time.monotonic()
        if now < self._nvml_next_try:
            return False
        self._nvml_next_try = now + NVML_RETRY_S
        if self._nvml is None:
            try:
                self._nvml = importlib.import_module("pynvml")
            except ImportError:
                self._no_gpus("the nvidia-ml-py package is not installed")
                return False
        self._nvml_error = self._nvml.NVMLError
        try:
            self._nvml.nvmlInit()
        except self._nvml.NVMLError as exc:
            self._no_gpus(f"NVML: {exc}")
            return False
        self._nvml_ready = True
        return True

    def _call(self, name: str, *args: Any) -> Any:
        """One NVML call; any NVMLError (not supported, GPU lost...) becomes None."""
        try:
            return getattr(self._nvml, name)(*args)
        except self._nvml_error:
            return None

    def _gpus(self) -> tuple[GpuHealth, ...]:
        if not self._start_nvml():
            return ()
        count = self._call("nvmlDeviceGetCount")
        if not count:
            self._no_gpus("the driver reports no GPU" if count == 0 else "GPU count unreadable")
            return ()
        return tuple(self._gpu(index) for index in range(int(count)))

    def _gpu(self, index: int) -> GpuHealth:
        nvml = self._nvml
        handle = self._call("nvmlDeviceGetHandleByIndex", index)
        if handle is None:
            return GpuHealth(index=index)  # the driver lists it but cannot reach it
        temp = self._call("nvmlDeviceGetTemperature", handle, nvml.NVML_TEMPERATURE_GPU)
        fan = self._call("nvmlDeviceGetFanSpeed", handle)  # passive cards: not supported
        power_mw = self._call("nvmlDeviceGetPowerUsage", handle)
        limit_mw = self._call("nvmlDeviceGetEnforcedPowerLimit", handle)
        core = self._call("nvmlDeviceGetClockInfo", handle, nvml.NVML_CLOCK_GRAPHICS)
        mem_clock = self._call("nvmlDeviceGetClockInfo", handle, nvml.NVML_CLOCK_MEM)
        memory = self._call("nvmlDeviceGetMemoryInfo", handle)
        util = self._call("nvmlDeviceGetUtilizationRates", handle)
        return GpuHealth(
            index=index,
            name=_text(self._call("nvmlDeviceGetName", handle)),
            uuid=_text(self._call("nvmlDeviceGetUUID", handle)),
            temp_c=float(temp) if temp is not None else None,
            fan_pct=float(fan) if fan is not None else None,
            power_w=power_mw / 1000.0 if power_mw is not None else None,
            power_limit_w=limit_mw / 1000.0 if limit_mw is not None else None,
            core_clock_mhz=float(core) if core is not None else None,
            mem_clock_mhz=float(mem_clock) if mem_clock is not None else None,
            mem_used_bytes=int(memory.used) if memory is not None else None,
            mem_total_bytes=int(memory.total) if memory is not None else None,
            util_pct=float(util.gpu) if util is not None else None,
        )

    def close(self) -> None:
        """Release NVML (the sentry calls this on shutdown)."""
        if self._nvml_ready:
            self._nvml_ready = False
            self._call("nvmlShutdown")
