#!/usr/bin/env python3
"""Print one HostReader sample as JSON: the real-hardware check of the NVML mapping.

Run on a machine with NVIDIA GPUs (`.venv/bin/python scripts/gpu-check.py [DISK_PATH]`);
the unit tests only see a stand-in for pynvml. Exit status 0 when at least one GPU was
read with a name and a temperature, 1 otherwise, so a device run can assert on it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sys
from pathlib import Path

from rigwatch.sentry.pollers.host import HostReader


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    reader = HostReader(Path(argv[1]) if len(argv) > 1 else Path.cwd())
    try:
        reader.read()  # primes cpu_percent; the second reading measures something
        sample = reader.read()
    finally:
        reader.close()
    report = {
        "identity": dataclasses.asdict(reader.identity),
        "sample": dataclasses.asdict(sample),
    }
    sys.stdout.write(json.dumps(report, indent=2, default=str) + "\n")
    readable = [g for g in sample.gpus if g.name is not None and g.temp_c is not None]
    return 0 if readable else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
