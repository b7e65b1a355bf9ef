"""HostReader: the sentry's own machine, read with real psutil; GPUs through NVML.

This machine has no NVIDIA GPU, so the NVML mapping is checked against `FakeNvml`, a
minimal stand-in for the `pynvml` module (the one fake here, marked as such). The real
GPU check is `scripts/gpu-check.py`, run on a GPU machine.
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from rigwatch.domain.host import GpuHealth
from rigwatch.sentry.pollers import host as host_module
from rigwatch.sentry.pollers.host import HostReader

LOGGER = "rigwatch.sentry.pollers.host"

Temp = namedtuple("Temp", "label current high critical")


def _real_nvml_works() -> bool:
    try:
        pynvml: Any = importlib.import_module("pynvml")
    except ImportError:
        return False
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return False
    pynvml.nvmlShutdown()
    return True


# ---- real host ---------------------------------------------------------------------------


def test_a_reading_of_this_machine_has_plausible_values(tmp_path: Path) -> None:
    reader = HostReader(tmp_path)
    sample = reader.read()
    assert sample.ts.tzinfo is not None
    assert sample.mem_total_bytes is not None and sample.mem_total_bytes > 0
    assert sample.mem_used_bytes is not None and 0 < sample.mem_used_bytes <= sample.mem_total_bytes
    assert sample.disk_total_bytes is not None and sample.disk_total_bytes > 0
    assert sample.disk_used_bytes is not None
    assert 0 <= sample.disk_used_bytes <= sample.disk_total_bytes
    assert sample.uptime_s is not None and sample.uptime_s > 0
    assert sample.load_1m is not None and sample.load_1m >= 0
    assert sample.cpu_pct is not None and 0.0 <= sample.cpu_pct <= 100.0
    if sample.cpu_temp_c is not None:
        assert 0 < sample.cpu_temp_c < 130


def test_cpu_percent_is_measured_between_reads_without_blocking(tmp_path: Path) -> None:
    reader = HostReader(tmp_path)
    for _ in range(3):
        sample = reader.read()
        assert sample.cpu_pct is not None and 0.0 <= sample.cpu_pct <= 100.0


def test_the_identity_defaults_to_the_hostname_and_takes_a_configured_key(
    tmp_path: Path,
) -> None:
    default = HostReader(tmp_path).identity
    assert default.key == socket.gethostname()
    assert default.hostname == socket.gethostname()
    assert default.cpu_count == os.cpu_count()
    assert default.os
    assert HostReader(tmp_path, key="rig-07").identity.key == "rig-07"


def test_a_missing_disk_path_leaves_only_the_disk_fields_empty(tmp_path: Path) -> None:
    sample = HostReader(tmp_path / "not" / "there").read()
    assert sample.disk_total_bytes is None and sample.disk_used_bytes is None
    assert sample.mem_total_bytes is not None


@pytest.mark.skipif(_real_nvml_works(), reason="this machine has a working NVIDIA driver")
def test_without_a_driver_the_real_pynvml_path_says_so_once_and_reports_no_gpus(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    reader = HostReader(tmp_path)
    samples = [reader.read() for _ in range(4)]
    assert all(s.gpus == () for s in samples)
    assert all(s.mem_total_bytes for s in samples)
    notes = [r for r in caplog.records if r.name == LOGGER]
    assert len(notes) == 1
    assert notes[0].levelno == logging.INFO
    assert "no NVIDIA GPUs" in notes[0].getMessage()


# ---- CPU temperature sensor choice -------------------------------------------------------


@pytest.mark.parametrize(
    ("sensors", "expected"),
    [
        (
            {
                "acpitz": [Temp("", 27.8, None, None)],
                "coretemp": [
                    Temp("Package id 0", 61.0, 80.0, 100.0),
                    Temp("Core 0", 64.0, 80.0, 100.0),
                ],
            },
            61.0,
        ),
        (
            {
                "coretemp": [
                    Temp("Package id 0", 55.0, 80.0, 100.0),
                    Temp("Package id 1", 71.0, 80.0, 100.0),
                ]
            },
            71.0,
        ),
        ({"k10temp": [Temp("Tctl", 78.0, None, None), Temp("Tdie", 58.0, None, None)]}, 58.0),
        ({"k10temp": [Temp("Tctl", 66.5, None, None), Temp("Tccd1", 60.0, None, None)]}, 66.5),
        ({"cpu_thermal": [Temp("", 49.4, None, None)]}, 49.4),
        ({"coretemp": [Temp("Core 0", 50.0, None, None), Temp("Core 1", 53.0, None, None)]}, 53.0),
        ({"acpitz": [Temp("", 27.8, None, None)], "nvme": [Temp("Composite", 40.0, 80, 90)]}, None),
        ({}, None),
    ],
    ids=["intel", "dual-socket", "amd-tdie", "amd-tctl", "arm", "cores-only", "no-cpu", "none"],
)
def test_the_cpu_temperature_comes_from_the_package_sensor(
    sensors: dict[str, list[Temp]], expected: float | None
) -> None:
    assert host_module._cpu_temp_c(sensors) == expected


# ---- NVML mapping (stand-in module) ------------------------------------------------------


class FakeNvml:
    """FAKE: a minimal stand-in for the `pynvml` module, for a machine without a GPU.

    Like pynvml, failures raise `NVMLError` subclasses carrying the NVML return code.
    `gpus` maps an index to a dict of readings; a reading that is an exception class
    is raised instead (as pynvml does for unsupported queries), `lost: True` makes
    the handle lookup fail.
    """

    NVML_TEMPERATURE_GPU = 0
    NVML_CLOCK_GRAPHICS = 0
    NVML_CLOCK_MEM = 2

    class NVMLError(Exception):
        def __init__(self, value: int) -> None:
            super().__init__(value)
            self.value = value

    class NVMLError_NotSupported(NVMLError):
        def __init__(self) -> None:
            super().__init__(3)

    class NVMLError_GpuIsLost(NVMLError):
        def __init__(self) -> None:
            super().__init__(15)

    class NVMLError_DriverNotLoaded(NVMLError):
        def __init__(self) -> None:
            super().__init__(9)

    def __init__(self, gpus: list[dict[str, Any]], *, init_error: bool = False) -> None:
        self.gpus = gpus
        self.init_error = init_error
        self.init_calls = 0
        self.shutdown_calls = 0

    def _get(self, handle: int, key: str) -> Any:
        value = self.gpus[handle][key]
        if isinstance(value, type) and issubclass(value, Exception):
            raise value()
        return value

    def nvmlInit(self) -> None:
        self.init_calls += 1
        if self.init_error:
            raise self.NVMLError_DriverNotLoaded()

    def nvmlShutdown(self) -> None:
        self.shutdown_calls += 1

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        if self.gpus[index].get("lost"):
            raise self.NVMLError_GpuIsLost()
        return index

    def nvmlDeviceGetName(self, handle: int) -> Any:
        return self._get(handle, "name")

    def nvmlDeviceGetUUID(self, handle: int) -> Any:
        return self._get(handle, "uuid")

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> Any:
        assert sensor == self.NVML_TEMPERATURE_GPU
        return self._get(handle, "temp")

    def nvmlDeviceGetFanSpeed(self, handle: int) -> Any:
        return self._get(handle, "fan")

    def nvmlDeviceGetPowerUsage(self, handle: int) -> Any:
        return self._get(handle, "power_mw")

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: int) -> Any:
        return self._get(handle, "limit_mw")

    def nvmlDeviceGetClockInfo(self, handle: int, clock: int) -> Any:
        return self._get(handle, "core" if clock == self.NVML_CLOCK_GRAPHICS else "mem_clock")

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        return self._get(handle, "memory")

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> Any:
        return self._get(handle, "util")


def _gpu(**changes: Any) -> dict[str, Any]:
    readings: dict[str, Any] = {
        "name": "NVIDIA GeForce RTX 3070",
        "uuid": "GPU-00000000-1111-2222-3333-444444444444",
        "temp": 61,
        "fan": 54,
        "power_mw": 131_250,
        "limit_mw": 150_000,
        "core": 1_530,
        "mem_clock": 7_000,
        "memory": SimpleNamespace(used=5_368_709_120, total=8_589_934_592, free=3_221_225_472),
        "util": SimpleNamespace(gpu=100, memory=78),
    }
    readings.update(changes)
    return readings


def test_nvml_readings_map_to_gpu_health_in_base_units(tmp_path: Path) -> None:
    nvml = FakeNvml([_gpu(), _gpu(name=b"NVIDIA GeForce GTX 1070 Ti", uuid=b"GPU-legacy")])
    sample = HostReader(tmp_path, nvml=nvml).read()
    assert sample.gpus == (
        GpuHealth(
            index=0,
            name="NVIDIA GeForce RTX 3070",
            uuid="GPU-00000000-1111-2222-3333-444444444444",
            temp_c=61.0,
            fan_pct=54.0,
            power_w=131.25,
            power_limit_w=150.0,
            core_clock_mhz=1530.0,
            mem_clock_mhz=7000.0,
            mem_used_bytes=5_368_709_120,
            mem_total_bytes=8_589_934_592,
            util_pct=100.0,
        ),
        GpuHealth(
            index=1,
            name="NVIDIA GeForce GTX 1070 Ti",
            uuid="GPU-legacy",
            temp_c=61.0,
            fan_pct=54.0,
            power_w=131.25,
            power_limit_w=150.0,
            core_clock_mhz=1530.0,
            mem_clock_mhz=7000.0,
            mem_used_bytes=5_368_709_120,
            mem_total_bytes=8_589_934_592,
            util_pct=100.0,
        ),
    )
    assert nvml.init_calls == 1


def test_an_nvml_error_empties_one_field_and_a_lost_gpu_keeps_its_index(tmp_path: Path) -> None:
    passive = _gpu(fan=FakeNvml.NVMLError_NotSupported, util=FakeNvml.NVMLError_NotSupported)
    nvml = FakeNvml([passive, _gpu(lost=True), _gpu(power_mw=FakeNvml.NVMLError_GpuIsLost)])
    reader = HostReader(tmp_path, nvml=nvml)
    first, second = reader.read(), reader.read()
    assert first.gpus == second.gpus
    no_fan, lost, no_power = first.gpus
    assert no_fan.fan_pct is None and no_fan.util_pct is None
    assert no_fan.temp_c == 61.0 and no_fan.power_w == 131.25
    assert lost == GpuHealth(index=1)
    assert no_power.power_w is None and no_power.power_limit_w == 150.0
    assert nvml.init_calls == 1


def test_an_nvml_that_will_not_start_is_logged_once_and_the_host_still_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    nvml = FakeNvml([_gpu()], init_error=True)
    reader = HostReader(tmp_path, nvml=nvml)
    samples = [reader.read() for _ in range(5)]
    assert all(s.gpus == () and s.mem_total_bytes for s in samples)
    assert nvml.init_calls == 1  # retried only after NVML_RETRY_S
    assert len([r for r in caplog.records if r.name == LOGGER]) == 1


def test_a_driver_without_gpus_is_logged_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    reader = HostReader(tmp_path, nvml=FakeNvml([]))
    assert [reader.read().gpus for _ in range(3)] == [(), (), ()]
    notes = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert len(notes) == 1 and "no GPU" in notes[0]


def test_close_shuts_nvml_down_once(tmp_path: Path) -> None:
    nvml = FakeNvml([_gpu()])
    reader = HostReader(tmp_path, nvml=nvml)
    reader.read()
    reader.close()
    reader.close()
    assert nvml.shutdown_calls == 1
