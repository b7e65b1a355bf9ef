"""P2Pool log lines: every real sample line, each documented version, hostile input."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rigwatch.domain.models import Event, EventKind
from rigwatch.protocols.ingest import EventIn
from rigwatch.protocols.p2pool_log import (
    MAX_LINE,
    HashrateReading,
    P2PoolLogParser,
    line_ts,
    parse_lines,
)

FIXTURE = Path(__file__).parents[2] / "fixtures" / "p2pool" / "db4e__p2pool-log-sample-lines.log"
T = "2025-01-01 00:00:00.0000 "
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def one(line: str, parser: P2PoolLogParser | None = None) -> Event | HashrateReading | None:
    return (parser or P2PoolLogParser()).parse_line(line)


def event(line: str) -> Event:
    result = one(line)
    assert isinstance(result, Event), result
    EventIn.from_domain(result)  # within what the ingest API accepts
    return result


def reading(line: str, parser: P2PoolLogParser | None = None) -> HashrateReading:
    result = one(line, parser)
    assert isinstance(result, HashrateReading), result
    return result


# ---- the real sample lines (db4e fixture), each with what it must give ----------------


def test_every_sample_line_gives_what_it_says() -> None:
    lines = FIXTURE.read_text().splitlines()
    assert len(lines) == 12
    events, readings, counts = parse_lines(lines)
    assert (counts.lines, counts.events, counts.readings, counts.unknown) == (12, 4, 6, 2)
    assert counts.malformed == counts.syncing == 0

    block, share, payout1, payout2 = events
    assert block.kind is EventKind.BLOCK_FOUND
    assert block.ts == ts("2024-11-09 19:52:19.173400")
    assert block.key == "p2pool:block:3277801"
    assert block.data["block_height"] == 3277801
    assert block.data["by"] == "someone_else"
    assert block.data["category"] == "P2Pool"

    assert share.kind is EventKind.SHARE_FOUND
    assert share.ts == ts("2024-11-10 00:47:47.559600")
    assert share.data["mainchain_height"] == 3277956
    assert share.data["sidechain_height"] == 9143872
    assert share.data["difficulty"] == 126624856
    assert share.data["client"] == "192.168.0.86:37294"
    assert share.data["user"] == "sally"
    assert share.data["effort_pct"] == pytest.approx(91.663)
    assert share.data["coin"] == "XMR"
    assert share.key.startswith("p2pool:share:3277956:9143872:")

    assert payout1.kind is EventKind.PAYOUT
    assert payout1.ts == ts("2024-11-09 19:52:19.174000")
    assert payout1.data["amount_atomic"] == 1_080_066_485
    assert payout1.data["block_height"] == 3277801
    assert payout1.data["wallet"] == "48wY7nYBsQNSw7fDEG"
    assert payout1.key == "p2pool:payout:3277801:48wY7nYBsQNSw7fDEG"
    assert payout2.data["amount_atomic"] == 295_115_076
    assert payout2.data["block_height"] == 3425427
    assert payout2.ts == ts("2025-06-02 21:42:53.072700")

    got = [(r.source, round(r.hashrate_hs, 3), r.worker, r.address) for r in readings]
    assert got == [
        ("main_chain", 3.105e9, None, None),
        ("main_chain", 5.079e9, None, None),
        ("pool_side", 13_137.0, None, None),
        ("local_1h", 7_384.0, None, None),
        ("side_chain", 12.291e6, None, None),
        ("worker", 788.0, "paris", "192.168.0.27:57888"),
    ]
    # Status rows carry no timestamp: they take the last one seen (the block line's,
    # then the share line's); the worker row has its own.
    assert [r.ts for r in readings] == [
        ts("2024-11-09 19:52:19.173400"),
        ts("2024-11-09 19:52:19.173400"),
        ts("2024-11-09 19:52:19.173400"),
        ts("2024-11-09 19:52:19.173400"),
        ts("2024-11-10 00:47:47.559600"),
        ts("2024-11-09 20:05:01.464700"),
    ]


def test_the_sample_file_fed_as_bytes_gives_the_same_as_line_by_line() -> None:
    per_line = parse_lines(FIXTURE.read_text().splitlines())
    batch = P2PoolLogParser().feed(FIXTURE.read_bytes())
    assert list(batch.events) == per_line[0]
    assert list(batch.readings) == per_line[1]
    assert batch.counts == per_line[2]


# ---- the log-file format ------------------------------------------------------------------

SHARE = (
    "2024-11-10 00:47:47.5596 StratumServer SHARE FOUND: mainchain height 3277956, "
    "sidechain height 9143872, diff 126624856, client 192.168.0.86:37294, user sally, "
    "effort 91.663%"
)


@pytest.mark.parametrize("prefix", ["NOTICE  ", "WARNING ", "ERROR   "])
def test_a_file_line_with_its_severity_prefix_is_the_same_event_as_the_console_line(
    prefix: str,
) -> None:
    console = event(SHARE)
    filed = event(prefix + SHARE)
    assert filed == console  # same key too: the commander stores it once


def test_a_status_block_in_the_file_format_takes_the_time_of_its_header_line() -> None:
    lines = [
        "NOTICE  2025-02-07 17:28:24.1234 SideChain status",
        "Monero node               = 127.0.0.1:18081:ZMQ:18083 (127.0.0.1)",
        "Main chain height         = 3342586",
        "Main chain hashrate       = 4.066 GH/s",
        "Side chain ID             = mini",
        "Side chain hashrate       = 17.723 MH/s",
        "Your hashrate (pool-side) = 21.5 kH/s",
        "NOTICE  2025-02-07 17:28:24.1240 StratumServer status",
        "Hashrate (15m est)   = 21.209 kH/s",
        "Hashrate (1h  est)   = 15.695 KH/s",
        "Hashrate (24h est)   = 75.726 kH/s",
        "Total hashes         = 44173824603",
    ]
    events, readings, counts = parse_lines(lines)
    assert events == []
    assert [(r.source, round(r.hashrate_hs, 3)) for r in readings] == [
        ("main_chain", 4.066e9),
        ("side_chain", 17.723e6),
        ("pool_side", 21_500.0),
        ("local_15m", 21_209.0),
        ("local_1h", 15_695.0),
        ("local_24h", 75_726.0),
    ]
    assert {r.ts for r in readings[:3]} == {ts("2025-02-07 17:28:24.123400")}
    assert {r.ts for r in readings[3:]} == {ts("2025-02-07 17:28:24.124000")}
    assert counts.unknown == 6


def test_a_status_row_before_any_timestamp_has_no_time() -> None:
    assert reading("Side chain hashrate       = 12.291 MH/s").ts is None


def test_crlf_line_ends_do_not_change_the_event() -> None:
    assert event(SHARE + "\r") == event(SHARE)


# ---- every version of the share line (PROTOCOLS.md 4.1) ----------------------------------


def test_a_current_share_line_with_sidechain_height_and_user() -> None:
    e = event(
        "2025-03-01 10:00:00.0001 StratumServer SHARE FOUND: mainchain height 3360000, "
        "sidechain height 10000000, diff 180000000, client 10.0.0.5:40000, user rig-01, "
        "effort 12.500%"
    )
    assert e.data["sidechain_height"] == 10_000_000
    assert e.data["user"] == "rig-01"
    assert e.data["effort_pct"] == 12.5
    assert e.ts == ts("2025-03-01 10:00:00.000100")


def test_a_2021_share_line_without_sidechain_height() -> None:
    e = event(
        "2021-10-05 08:15:31.8823 StratumServer SHARE FOUND: mainchain height 2460523, "
        "diff 155672891, client 127.0.0.1:51326, user worker1, effort 71.337%"
    )
    assert e.data["mainchain_height"] == 2460523
    assert e.data["sidechain_height"] is None
    assert e.data["difficulty"] == 155672891
    assert e.data["client"] == "127.0.0.1:51326"
    assert e.data["user"] == "worker1"
    assert e.key.startswith("p2pool:share:2460523:0:")


def test_a_share_line_without_the_comma_before_user() -> None:
    e = event(
        "2021-12-24 21:03:11.0407 StratumServer SHARE FOUND: mainchain height 2517133, "
        "diff 262412498, client 192.168.1.20:50112 user x1, effort 38.115%"
    )
    assert e.data["client"] == "192.168.1.20:50112"
    assert e.data["user"] == "x1"
    assert e.data["effort_pct"] == pytest.approx(38.115)


def test_a_share_line_with_a_client_and_no_user() -> None:
    e = event(
        "2022-05-02 00:00:01.0000 StratumServer SHARE FOUND: mainchain height 2610000, "
        "sidechain height 1800000, diff 190000000, client 127.0.0.1:3334, effort 101.010%"
    )
    assert e.data["client"] == "127.0.0.1:3334"
    assert e.data["user"] is None
    assert e.data["effort_pct"] == pytest.approx(101.01)


def test_a_user_name_with_commas_and_spaces_is_kept_whole() -> None:
    e = event(
        "2025-03-01 10:00:00.0001 StratumServer SHARE FOUND: mainchain height 3360000, "
        "sidechain height 10000000, diff 180000000, client [::1]:40000, user my rig, 2, "
        "effort 12.500%"
    )
    assert e.data["client"] == "[::1]:40000"
    assert e.data["user"] == "my rig, 2"


def test_the_oldest_share_line_without_client() -> None:
    e = event(
        "2021-09-01 12:00:00.0000 StratumServer SHARE FOUND: mainchain height 2432000, "
        "diff 120000000, effort 55.000%"
    )
    assert e.data["mainchain_height"] == 2432000
    assert e.data["client"] is None
    assert e.data["user"] is None
    assert e.data["effort_pct"] == 55.0


def test_a_share_from_the_built_in_miner() -> None:
    e = event(
        "2024-12-17 01:02:03.0405 Miner SHARE FOUND: mainchain height 3305366, "
        "sidechain height 9463717, diff 140275938, worker thread 3/12"
    )
    assert e.data["category"] == "Miner"
    assert (e.data["thread"], e.data["threads"]) == (3, 12)
    assert e.data["effort_pct"] is None
    assert "thread 3/12" in e.message


def test_a_share_found_while_syncing_is_ignored_and_counted() -> None:
    parser = P2PoolLogParser()
    line = (
        "2021-09-01 12:00:00.0000 StratumServer SHARE FOUND: mainchain height 2432000, "
        "diff 100000, client 127.0.0.1:1, user a, effort 0.010%"
    )
    assert parser.parse_line(line) is None
    assert parser.counts.syncing == 1
    assert parser.counts.malformed == 0


# ---- blocks ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tail", "by"),
    [
        ("mined by you", "you"),
        ("mined by someone else in this p2pool", "someone_else"),
        ("mined by this p2pool", "this_p2pool"),
    ],
)
def test_every_wording_of_block_found(tail: str, by: str) -> None:
    e = event(
        "2023-01-02 03:04:05.0607 P2Pool BLOCK FOUND: main chain block at height 2800000 "
        f"was {tail}"
    )
    assert e.kind is EventKind.BLOCK_FOUND
    assert e.data["by"] == by
    assert e.data["block_height"] == 2800000
    assert e.key == "p2pool:block:2800000"


def test_the_same_block_from_sidechain_and_block_accepted_has_one_key() -> None:
    found = event(
        "2024-01-01 00:00:00.0001 SideChain BLOCK FOUND: main chain block at height 3050000 "
        "was mined by someone else in this p2pool"
    )
    accepted = event(
        "2024-01-01 00:00:00.0000 P2Pool submit_block: BLOCK ACCEPTED at height 3050000 "
        "and difficulty = 250000000000"
    )
    assert found.key == accepted.key == "p2pool:block:3050000"
    assert found.data["category"] == "SideChain"
    assert accepted.data["accepted"] is True
    assert accepted.data["difficulty"] == 250_000_000_000
    assert accepted.data["by"] == "you"


def test_an_aux_chain_block_is_not_a_monero_block_and_not_malformed() -> None:
    parser = P2PoolLogParser()
    line = T + "Miner AUX BLOCK FOUND: chain_id abcd, diff 1000, worker thread 1/4"
    assert parser.parse_line(line) is None
    assert parser.counts.malformed == 0
    assert parser.counts.unknown == 1


def test_the_block_banner_lines_are_not_events() -> None:
    _events, _readings, counts = parse_lines(["*" * 40, "*  BLOCK  *", "#" * 40])
    assert (counts.events, counts.malformed, counts.unknown) == (0, 0, 3)


# ---- payouts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "atomic"),
    [
        ("0.000295115076", 295_115_076),
        ("1.000000000000", 1_000_000_000_000),
        ("1.000000000001", 1_000_000_000_001),
        ("12.345678901234", 12_345_678_901_234),
        ("600.000000000000", 600 * 10**12),
    ],
)
def test_a_payout_of_any_size_is_exact_in_atomic_units(amount: str, atomic: int) -> None:
    e = event(
        f"NOTICE  2025-06-02 21:42:53.0727 P2Pool Your wallet 4AbC got a payout of {amount} XMR "
        "in block 3425427"
    )
    assert e.kind is EventKind.PAYOUT
    assert e.data["amount_atomic"] == atomic
    assert isinstance(e.data["amount_atomic"], int)
    assert e.data["coin"] == "XMR"


def test_no_payout_is_not_an_event() -> None:
    parser = P2PoolLogParser()
    line = (
        "2025-06-02 21:42:53.0727 P2Pool Your wallet 4AbC didn't get a payout in block 3425427 "
        "because you had no shares in PPLNS window"
    )
    assert parser.parse_line(line) is None
    assert parser.counts.malformed == 0


def test_two_payouts_in_different_blocks_have_different_keys() -> None:
    a = event("2025-01-01 00:00:00.0000 P2Pool Your wallet 4W got a payout of 0.1 XMR in block 1")
    b = event("2025-01-01 00:00:00.0000 P2Pool Your wallet 4W got a payout of 0.1 XMR in block 2")
    assert a.key != b.key
    assert a.data["amount_atomic"] == 100_000_000_000


# ---- hashrates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hs"),
    [
        ("788 H/s", 788.0),
        ("7.384 KH/s", 7_384.0),
        ("7.384 kH/s", 7_384.0),
        ("12.291 MH/s", 12.291e6),
        ("3.105 GH/s", 3.105e9),
        ("1.5 TH/s", 1.5e12),
        ("2 PH/s", 2e15),
        ("1 EH/s", 1e18),
        ("0 H/s", 0.0),
    ],
)
def test_every_si_unit_of_a_hashrate(text: str, hs: float) -> None:
    assert reading(f"Hashrate (15m est)   = {text}").hashrate_hs == pytest.approx(hs)


def test_lower_and_upper_case_k_mean_the_same() -> None:
    assert reading("Hashrate (1h  est) = 7.384 kH/s") == reading("Hashrate (1h  est) = 7.384 KH/s")


def test_a_worker_row_of_an_older_version_without_the_tls_column() -> None:
    r = reading(
        "2022-11-09 20:05:01.4647 StratumServer 10.1.1.2:57888   1h 2m 3s   23666   1.2 KH/s"
        "   cpu one"
    )
    assert (r.source, r.worker, r.address, r.hashrate_hs) == (
        "worker",
        "cpu one",
        "10.1.1.2:57888",
        1200.0,
    )


# ---- what is not understood is counted, never fatal ---------------------------------


@pytest.mark.parametrize(
    "line",
    [
        T + "StratumServer SHARE FOUND: mainchain height x, diff 1, effort 1%",
        T + "StratumServer SHARE FOUND: something new",
        T + "P2Pool BLOCK FOUND: main chain block at height 1 was mined by aliens",
        T + "P2Pool Your wallet 4W got a payout of lots XMR in block 1",
        T + "P2Pool Your wallet 4W got a payout of 0.1234567890123 XMR in block 1",
        T + "P2Pool submit_block: BLOCK ACCEPTED at height one",
        "StratumServer SHARE FOUND: mainchain height 1, diff 2, effort 3%",  # no time anywhere
        T + "StratumServer SHARE FOUND: mainchain height 99999999999999999999, diff 2, effort 3%",
    ],
)
def test_an_event_line_in_an_unknown_shape_is_counted_as_malformed(line: str) -> None:
    parser = P2PoolLogParser()
    assert parser.parse_line(line) is None
    assert parser.counts.malformed == 1


def test_an_impossible_timestamp_is_no_timestamp() -> None:
    assert line_ts("2025-13-01 00:00:00.0000 P2Pool x") is None
    assert line_ts("2025-02-30 00:00:00.0000 P2Pool x") is None
    assert line_ts("٢٠٢٥-01-01 00:00:00.0000 P2Pool x") is None  # non-ASCII digits
    assert line_ts("WARNING 2025-01-01 23:59:59.9999 P2Pool x") == ts("2025-01-01 23:59:59.999900")


def test_an_overlong_line_is_skipped_before_any_regex() -> None:
    parser = P2PoolLogParser()
    assert parser.parse_line(SHARE + " " * MAX_LINE) is None
    assert parser.counts.unknown == 1


def test_reading_the_same_lines_again_gives_the_same_keys() -> None:
    lines = FIXTURE.read_text().splitlines()
    first = [e.key for e in parse_lines(lines)[0]]
    second = [e.key for e in P2PoolLogParser().feed(FIXTURE.read_bytes()).events]
    assert first == second
    assert len(set(first)) == len(first)


def test_two_shares_differing_only_in_time_have_different_keys() -> None:
    other = SHARE.replace("00:47:47.5596", "00:47:47.5597")
    assert event(SHARE).key != event(other).key


# ---- hostile input ----------------------------------------------------------------------

REAL_LINES = [*FIXTURE.read_text().splitlines(), SHARE, "NOTICE  " + SHARE]
fragments = st.sampled_from(
    [
        "SHARE FOUND: ",
        "BLOCK FOUND: ",
        "BLOCK ACCEPTED at height ",
        "got a payout of ",
        " XMR in block ",
        "mainchain height ",
        ", sidechain height ",
        ", diff ",
        ", client ",
        " user ",
        ", effort ",
        "% ",
        " H/s",
        " KH/s",
        "Hashrate (1h  est) = ",
        "NOTICE  ",
        "2024-11-10 00:47:47.5596 ",
        "9999999999999999999999",
        "1.000000000000",
        "\r",
        "\x00",
        "\ufffd",
    ]
)
hostile_line = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(fragments, st.text(max_size=8)), max_size=20).map("".join),
    st.sampled_from(REAL_LINES).flatmap(
        lambda line: st.integers(0, len(line)).map(lambda i: line[:i] + line[i + 1 :])
    ),
)


@SETTINGS
@given(hostile_line)
def test_no_line_makes_the_parser_raise(line: str) -> None:
    parser = P2PoolLogParser()
    result = parser.parse_line(line)
    assert parser.counts.lines == 1
    if isinstance(result, Event):
        EventIn.from_domain(result)


@SETTINGS
@given(st.binary(max_size=2000))
def test_no_bytes_make_the_chunk_parser_raise(data: bytes) -> None:
    batch = P2PoolLogParser().feed(data)
    c = batch.counts
    assert c.lines == c.events + c.readings + c.syncing + c.malformed + c.unknown
    for e in batch.events:
        EventIn.from_domain(e)


@SETTINGS
@given(
    st.lists(
        st.one_of(st.sampled_from(REAL_LINES), hostile_line).map(lambda s: s.replace("\n", " ")),
        max_size=30,
    )
)
def test_feeding_bytes_and_parsing_line_by_line_agree(lines: list[str]) -> None:
    by_line = P2PoolLogParser()
    results = [by_line.parse_line(line) for line in lines]
    batch = P2PoolLogParser().feed("\n".join(lines).encode() + b"\n" if lines else b"")
    assert list(batch.events) == [r for r in results if isinstance(r, Event)]
    assert list(batch.readings) == [r for r in results if isinstance(r, HashrateReading)]
    if lines:
        assert batch.counts == by_line.counts
