"""`parse_fast` accepts exactly what `IngestBatch` accepts, and yields the same values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from rigwatch.domain.batch import Batch, Reading
from rigwatch.domain.models import Device, Hashboard, MinerIdentity, MinerKind, PoolState, Sample
from rigwatch.protocols.ingest import IngestBatch, SampleIn, parse_fast
from rigwatch.store.ingest_rows import RowBatch, record_of, sample_of

NOW = datetime.now(UTC).replace(microsecond=123456)


def _identity(key: str = "AA:BB") -> MinerIdentity:
    return MinerIdentity(
        key=key,
        kind=MinerKind.GPU,
        ip="10.0.0.1",
        mac="AA:BB",
        hostname="rig-1",
        make="AMD",
        model="RX 6800",
        firmware="lolMiner 1.88",
        worker="farm.1",
    )


def _sample(ts: datetime = NOW) -> Sample:
    return Sample(
        ts=ts,
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
        algorithm="ethash",
        devices=(Device(0, hashrate_hs=6e7, temp_c=61.0, fan_pct=40.0, accepted=3),),
    )


def _body(samples: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"seq": 5, "samples": samples, **extra}, allow_nan=True).encode()


def _wire(miner: MinerIdentity | None = None, sample: Sample | None = None) -> dict[str, Any]:
    model = SampleIn.from_domain(miner or _identity(), sample or _sample())
    wire: dict[str, Any] = model.model_dump(mode="json")
    return wire


def _slow_records(raw: bytes) -> list[dict[str, Any]]:
    """The model path: IngestBatch, domain objects, then the store's records."""
    body = IngestBatch.model_validate_json(raw)
    readings = tuple(Reading(s.miner.to_domain(), s.to_domain()) for s in body.samples)
    return list(RowBatch.of(Batch(1, body.seq, readings)).samples)


def _same(fast: list[dict[str, Any]], slow: list[dict[str, Any]]) -> None:
    assert len(fast) == len(slow)
    for f, s in zip(fast, slow, strict=True):
        assert f.keys() == s.keys()
        for name in f:
            if name in ("fans_rpm", "errors", "hashboards", "pools", "devices"):
                assert tuple(f[name]) == tuple(s[name]), name
            else:
                assert f[name] == s[name], name


def test_every_field_comes_out_as_the_model_path_gives_it():
    bare = {"miner": {"key": "k2", "kind": "asic"}, "ts": NOW.isoformat()}
    raw = _body([_wire(), bare])
    fast = parse_fast(raw)
    assert fast is not None and fast.seq == 5
    _same(fast.samples, _slow_records(raw))
    assert fast.samples[1]["errors"] == () and fast.samples[1]["miner"]["ip"] is None


def test_a_record_turns_back_into_the_same_domain_sample():
    reading_sample = _sample()
    record = record_of(Reading(_identity(), reading_sample))
    assert sample_of(record, reading_sample.ts) == reading_sample


def test_timestamps_with_any_offset_become_the_same_instant():
    wire = _wire()
    wire["ts"] = NOW.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat()
    raw = _body([wire])
    fast = parse_fast(raw)
    assert fast is not None
    _same(fast.samples, _slow_records(raw))


def _with(field: str, value: Any, miner: bool = False) -> dict[str, Any]:
    wire = _wire()
    (wire["miner"] if miner else wire)[field] = value
    return wire


REFUSED = [
    _with("ts", NOW.replace(tzinfo=None).isoformat()),
    _with("ts", (NOW + timedelta(hours=2)).isoformat()),
    _with("ts", (NOW - timedelta(days=3651)).isoformat()),
    _with("hashrate_hs", -1.0),
    _with("hashrate_hs", float("nan")),
    _with("temp_c", 500.0),
    _with("fans_rpm", [1] * 17),
    _with("unknown", 1),
    _with("key", "x" * 65, miner=True),
    _with("kind", "toaster", miner=True),
    _with("accepted", -1),
]


@pytest.mark.parametrize("wire", REFUSED)
def test_what_the_model_refuses_the_fast_path_leaves_to_the_model(wire: dict[str, Any]):
    raw = _body([wire])
    assert parse_fast(raw) is None
    with pytest.raises(ValidationError):
        IngestBatch.model_validate_json(raw)


def test_garbage_is_left_to_the_model():
    for raw in [b"", b"not json", b"[]", b'{"seq": "x"}', b'{"seq": 1, "samples": [{}]}']:
        assert parse_fast(raw) is None


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=70),
    st.just((NOW - timedelta(days=1)).isoformat()),
    st.just("2024-01-01T00:00:00"),
)
FIELDS = [*sorted(_wire().keys() - {"miner"}), "bogus"]
MINER_FIELDS = sorted(_wire()["miner"].keys())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(st.sampled_from(FIELDS), scalars), max_size=3),
    miner_edits=st.lists(st.tuples(st.sampled_from(MINER_FIELDS), scalars), max_size=2),
)
def test_on_hostile_samples_both_paths_agree(
    edits: list[tuple[str, Any]], miner_edits: list[tuple[str, Any]]
):
    wire = _wire()
    for name, value in edits:
        wire[name] = value
    for name, value in miner_edits:
        wire["miner"][name] = value
    raw = _body([wire])
    fast = parse_fast(raw)
    try:
        slow = _slow_records(raw)
    except ValidationError:
        assert fast is None
        return
    if fast is not None:
        _same(fast.samples, slow)
