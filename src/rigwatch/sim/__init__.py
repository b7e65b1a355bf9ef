"""Simulated miners and fleets on loopback addresses, for the demo, tests and benchmarks.

Each simulated miner binds its own 127.x.y.z address on its model's real ports and
answers as the real firmware does, closely enough for pyasic 0.79.0 to identify it and
read it (shared/PYASIC-CLIENT.md). Everything it reports is simulated and comes from one
`MinerState` per miner, readable in tests through `SimMiner.expected_report()`.
"""

from rigwatch.sim.clock import Clock, ManualClock, WallClock
from rigwatch.sim.faults import Fault, FaultKind, ScheduledFault, parse_fault
from rigwatch.sim.fleet import ASIC_MIX, Fleet, FleetSpec, loopback_addresses
from rigwatch.sim.listener import SimBindError
from rigwatch.sim.miner import SimMiner
from rigwatch.sim.models import MODELS, ModelProfile, SimKind, profile
from rigwatch.sim.rawclient import SweepResult, cgminer_request, sweep
from rigwatch.sim.runner import run_sim
from rigwatch.sim.state import Availability, BoardReading, MinerState, Report

__all__ = [
    "ASIC_MIX",
    "MODELS",
    "Availability",
    "BoardReading",
    "Clock",
    "Fault",
    "FaultKind",
    "Fleet",
    "FleetSpec",
    "ManualClock",
    "MinerState",
    "ModelProfile",
    "Report",
    "ScheduledFault",
    "SimBindError",
    "SimKind",
    "SimMiner",
    "SweepResult",
    "WallClock",
    "cgminer_request",
    "loopback_addresses",
    "parse_fault",
    "profile",
    "run_sim",
    "sweep",
]
