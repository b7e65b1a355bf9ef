"""The ingest models convert to the domain field by field; no field may be dropped."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from rigwatch.domain.models import Hashboard, MinerIdentity, MinerKind, PoolState, Sample
from rigwatch.protocols import ingest
from rigwatch.protocols.ingest import SampleIn

TS = datetime(2024, 1, 1, tzinfo=UTC)


def _every_field_set() -> tuple[MinerIdentity, Sample]:
    identity = MinerIdentity(
        key="AA:BB",
        kind=MinerKind.ASIC,
        ip="10.0.0.1",
        mac="AA:BB",
        hostname="ant-1",
        make="AntMiner",
        model="S19",
        firmware="2024.1",
        worker="farm.1",
    )
    sample = Sample(
        ts=TS,
        hashrate_hs=1e14,
        hashrate_expected_hs=1.1e14,
        temp_c=60.0,
        temp_max_c=70.0,
        chip_temp_c=75.0,
        fans_rpm=(5400, 5460),
        power_w=3250.0,
        accepted=10,
        rejected=1,
        stale=2,
        uptime_s=3600,
        pool_url="stratum+tcp://pool:3333",
        pool_user="farm.1",
        errors=("fan slow",),
        hashboards=(Hashboard(0, 3e13, 60.0, 70.0, 76, 76, False), Hashboard(1, missing=True)),
        pools=(PoolState("stratum+tcp://pool:3333", "farm.1", True, True, 10, 1, 2),),
    )
    return identity, sample


def test_every_domain_field_has_a_wire_field():
    for domain, wire in (
        (MinerIdentity, "MinerIn"),
        (Sample, "SampleIn"),
        (Hashboard, "HashboardIn"),
        (PoolState, "PoolIn"),
    ):
        model = getattr(ingest, wire)
        names = {f.name for f in dataclasses.fields(domain)}
        assert names == set(model.model_fields) - {"miner"}, wire


def test_to_domain_round_trips_every_field():
    identity, sample = _every_field_set()
    wire = SampleIn.model_validate_json(SampleIn.from_domain(identity, sample).model_dump_json())
    assert wire.miner.to_domain() == identity
    assert wire.to_domain() == sample
