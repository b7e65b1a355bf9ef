"""Alert rules and lifecycle, on a clock the tests drive."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rigwatch.domain.alerts import (
    DEFAULT_RULES,
    Alert,
    AlertState,
    Board,
    Inputs,
    MinerFacts,
    Notice,
    Rule,
    RuleError,
    RuleKind,
    Scope,
    SentryFacts,
    Severity,
    Silence,
    WalletFacts,
    Window,
    check_subject,
    choose_rule,
    effective_params,
    evaluate,
    open_key,
    validate_params,
    validate_scope,
)
from rigwatch.domain.models import EventKind
from rigwatch.domain.status import DEFAULT_LIMITS

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HOUR = 3600


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def miner(mid: int = 1, now: float = 0.0, **fields: Any) -> MinerFacts:
    base: dict[str, Any] = {
        "id": mid,
        "name": f"m{mid}",
        "sentry_id": 1,
        "site_id": 1,
        "last_seen": at(now - 10),
        "hashrate_hs": 100e12,
        "temp_c": 60.0,
        "temp_max_c": 70.0,
        "fans_rpm": (4000, 4100),
        "boards": (Board(0, chips=76, chips_expected=76), Board(1, chips=76, chips_expected=76)),
        "pool_url": "stratum+tcp://pool.example:3333",
        "worker": "acct.rack1-01",
        "windows": {HOUR: Window(95e12, 100e12, accepted=1000, rejected=10, covered_s=3600)},
        "last_accepted_bucket": at(now - 300),
        "first_bucket": at(now - 3600),
    }
    base.update(fields)
    return MinerFacts(**base)


def rule(kind: RuleKind, rid: int = 1, scope: str = "farm", **kw: Any) -> Rule:
    params = kw.pop("params", {})
    return Rule.build(rid, kind, scope, params, kw.pop("severity", Severity.WARNING), **kw)


@dataclass
class Book:
    """Plays the store: keeps the open alerts between evaluations, numbers new ones."""

    open: dict[str, Alert] = field(default_factory=dict)
    history: list[Alert] = field(default_factory=list)
    notices: list[tuple[Notice, str, bool]] = field(default_factory=list)
    next_id: int = 1

    def run(self, inputs: Inputs, now: datetime, silences: list[Silence] | None = None) -> None:
        out = evaluate(inputs, list(self.open.values()), silences or [], now)
        for a in out.changed:
            if a.id is None:
                a = replace(a, id=self.next_id)
                self.next_id += 1
            key = open_key(a.rule_id, a.subject)
            if a.state is AlertState.RESOLVED:
                self.open.pop(key, None)
                self.history.append(a)
            else:
                self.open[key] = a
        self.notices += [(n, a.subject, s) for a, n, s in out.notices]

    def state(self, subject: str = "miner:1") -> AlertState | None:
        found = [a for a in self.open.values() if a.subject == subject]
        return found[0].state if found else None


def check(kind: RuleKind, m: MinerFacts, now: float = 0.0, **params: Any) -> AlertState | None:
    book = Book()
    book.run(Inputs(rules=[rule(kind, params=params)], miners=[m]), at(now))
    return book.state()


# ---- each rule kind ---------------------------------------------------------------------------


def test_offline_fires_after_the_given_minutes_without_a_sample() -> None:
    assert check(RuleKind.OFFLINE, miner(last_seen=at(-299)), minutes=5) is None
    assert check(RuleKind.OFFLINE, miner(last_seen=at(-300)), minutes=5) is AlertState.FIRING


def test_hashrate_low_reads_the_mean_of_the_window_not_one_sample() -> None:
    low_now_but_fine_on_average = miner(hashrate_hs=10e12)
    assert check(RuleKind.HASHRATE_LOW, low_now_but_fine_on_average) is None
    low_mean = miner(windows={HOUR: Window(70e12, 100e12, covered_s=3600)})
    assert check(RuleKind.HASHRATE_LOW, low_mean) is AlertState.FIRING


def test_hashrate_low_gives_no_verdict_on_a_thinly_covered_window() -> None:
    thin = miner(windows={HOUR: Window(10e12, 100e12, covered_s=600)})
    assert check(RuleKind.HASHRATE_LOW, thin) is None


def test_hashboard_missing_fires_on_a_missing_board() -> None:
    boards = (Board(0), Board(1, missing=True), Board(2))
    assert check(RuleKind.HASHBOARD_MISSING, miner(boards=boards)) is AlertState.FIRING
    assert check(RuleKind.HASHBOARD_MISSING, miner()) is None


def test_chips_low_fires_when_a_board_has_fewer_chips_than_expected() -> None:
    boards = (Board(0, chips=76, chips_expected=76), Board(1, chips=70, chips_expected=76))
    assert check(RuleKind.CHIPS_LOW, miner(boards=boards)) is AlertState.FIRING
    assert check(RuleKind.CHIPS_LOW, miner(boards=boards), percent=90) is None


def test_temperature_uses_the_limits_of_status_per_sensor_kind() -> None:
    board_hot = miner(temp_c=DEFAULT_LIMITS.max_temp_c + 1, temp_max_c=80.0)
    chip_hot = miner(temp_c=70.0, temp_max_c=DEFAULT_LIMITS.max_chip_temp_c + 1)
    fine = miner(temp_c=DEFAULT_LIMITS.max_temp_c - 1, temp_max_c=DEFAULT_LIMITS.max_chip_temp_c)
    assert check(RuleKind.TEMP_HIGH, board_hot) is AlertState.FIRING
    assert check(RuleKind.TEMP_HIGH, chip_hot) is AlertState.FIRING
    assert check(RuleKind.TEMP_HIGH, fine) is None
    assert check(RuleKind.TEMP_HIGH, miner(temp_c=70.0), board_c=65) is AlertState.FIRING
    gpu_hot = miner(gpu_temps_c=(60.0, 91.0))
    assert check(RuleKind.TEMP_HIGH, gpu_hot) is None  # GPUs are checked only with gpu_c
    assert check(RuleKind.TEMP_HIGH, gpu_hot, gpu_c=90) is AlertState.FIRING


def test_fan_failed_on_a_stopped_fan_or_below_the_given_rpm() -> None:
    assert check(RuleKind.FAN_FAILED, miner(fans_rpm=(4000, 0))) is AlertState.FIRING
    assert check(RuleKind.FAN_FAILED, miner(fans_rpm=(4000, 900))) is None
    assert check(RuleKind.FAN_FAILED, miner(fans_rpm=(4000, 900)), min_rpm=1000) is (
        AlertState.FIRING
    )


def test_rejected_rate_over_the_window_with_enough_shares() -> None:
    bad = miner(windows={HOUR: Window(95e12, 100e12, accepted=90, rejected=10, covered_s=3600)})
    assert check(RuleKind.REJECTED_RATE, bad) is AlertState.FIRING
    few = miner(windows={HOUR: Window(95e12, 100e12, accepted=5, rejected=5, covered_s=3600)})
    assert check(RuleKind.REJECTED_RATE, few) is None
    assert check(RuleKind.REJECTED_RATE, miner()) is None


def test_hung_when_hashing_without_accepted_shares() -> None:
    hung = miner(last_accepted_bucket=at(-20 * 60))
    assert check(RuleKind.HUNG, hung, minutes=10) is AlertState.FIRING
    assert check(RuleKind.HUNG, miner(), minutes=10) is None
    never = miner(last_accepted_bucket=None, first_bucket=at(-30 * 60))
    assert check(RuleKind.HUNG, never, minutes=15) is AlertState.FIRING
    not_hashing = miner(hashrate_hs=0.0, last_accepted_bucket=at(-20 * 60))
    assert check(RuleKind.HUNG, not_hashing, minutes=10) is None
    no_counters = miner(last_accepted_bucket=None, first_bucket=None)
    assert check(RuleKind.HUNG, no_counters, minutes=10) is None


def test_pool_not_on_the_allowed_list() -> None:
    allowed = ["stratum+tcp://pool.example:*", "*.ocean.xyz:*"]
    assert check(RuleKind.POOL_NOT_ALLOWED, miner(), allowed=allowed) is None
    evil = miner(pool_url="stratum+tcp://evil.example:3333")
    assert check(RuleKind.POOL_NOT_ALLOWED, evil, allowed=allowed) is AlertState.FIRING


def test_worker_name_against_a_glob_or_a_regex() -> None:
    assert check(RuleKind.WORKER_NAME, miner(), pattern="acct.rack*") is None
    assert check(RuleKind.WORKER_NAME, miner(worker="x.y"), pattern="acct.rack*") is (
        AlertState.FIRING
    )
    regex: dict[str, Any] = {"pattern": r"acct\.rack\d-\d\d", "syntax": "regex"}
    assert check(RuleKind.WORKER_NAME, miner(), **regex) is None
    assert check(RuleKind.WORKER_NAME, miner(worker="acct.rack1-1"), **regex) is (AlertState.FIRING)


def test_pool_gap_from_the_pool_side_figures() -> None:
    gap = miner(pool_gap=0.35, pool_gap_at=at(-60))
    assert check(RuleKind.POOL_GAP, gap) is AlertState.FIRING
    assert check(RuleKind.POOL_GAP, miner(pool_gap=0.05, pool_gap_at=at(-60))) is None
    stale = miner(pool_gap=0.35, pool_gap_at=at(-2 * HOUR))
    assert check(RuleKind.POOL_GAP, stale) is None


def test_sentry_silent_and_its_miners_not_reported_offline_with_it() -> None:
    rules = [rule(RuleKind.SENTRY_SILENT, 1), rule(RuleKind.OFFLINE, 2)]
    sentry = SentryFacts(1, "rack-a", 1, last_seen=at(-11 * 60), enrolled_at=at(-HOUR))
    book = Book()
    book.run(Inputs(rules, miners=[miner(last_seen=at(-11 * 60))], sentries=[sentry]), at(0))
    assert book.state("sentry:1") is AlertState.FIRING
    assert book.state("miner:1") is None  # one notice for the sentry, not one per miner
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED]


def test_job_failing_follows_the_schedulers_list() -> None:
    r = [rule(RuleKind.JOB_FAILING)]
    book = Book()
    book.run(Inputs(r, failing_jobs=["rollups"]), at(0))
    assert book.state("job:rollups") is AlertState.FIRING
    book.run(Inputs(r, failing_jobs=[]), at(60))
    assert book.state("job:rollups") is None
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED, Notice.RESOLVED]


def test_payout_overdue_per_wallet() -> None:
    r = [rule(RuleKind.PAYOUT_OVERDUE, params={"hours": 24})]
    paid = WalletFacts(1, "main", created_at=at(-90 * 86400), last_payment=at(-3600))
    late = WalletFacts(2, "old", created_at=at(-90 * 86400), last_payment=at(-25 * 3600))
    book = Book()
    book.run(Inputs(r, wallets=[paid, late]), at(0))
    assert book.state("wallet:1") is None
    assert book.state("wallet:2") is AlertState.FIRING


def test_a_stale_miner_gives_no_verdict_on_its_data_rules() -> None:
    stale = miner(last_seen=at(-600), temp_c=99.0)
    assert check(RuleKind.TEMP_HIGH, stale) is None


# ---- lifecycle ------------------------------------------------------------------------------


def temp_inputs(temp: float, now: float, **kw: Any) -> Inputs:
    return Inputs([rule(RuleKind.TEMP_HIGH, **kw)], miners=[miner(now=now, temp_c=temp)])


def test_hold_before_firing_and_a_break_restarts_the_hold() -> None:
    book = Book()
    book.run(temp_inputs(90, 0, hold_s=120, recover_s=60), at(0))
    assert book.state() is AlertState.PENDING
    book.run(temp_inputs(90, 60, hold_s=120, recover_s=60), at(60))
    assert book.state() is AlertState.PENDING
    book.run(temp_inputs(80, 90, hold_s=120, recover_s=60), at(90))  # a break
    book.run(temp_inputs(90, 100, hold_s=120, recover_s=60), at(100))
    book.run(temp_inputs(90, 200, hold_s=120, recover_s=60), at(200))
    assert book.state() is AlertState.PENDING  # 100 s since the break, not 200
    book.run(temp_inputs(90, 220, hold_s=120, recover_s=60), at(220))
    assert book.state() is AlertState.FIRING
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED]
    assert book.next_id == 2  # the same alert throughout


def test_a_pending_alert_that_clears_closes_without_a_notice() -> None:
    book = Book()
    book.run(temp_inputs(90, 0, hold_s=120), at(0))
    book.run(temp_inputs(80, 30, hold_s=120), at(30))
    assert book.state() is None
    assert book.notices == []
    assert book.history[0].fired_at is None


def test_recover_hold_before_resolving() -> None:
    book = Book()
    book.run(temp_inputs(90, 0, recover_s=300), at(0))
    assert book.state() is AlertState.FIRING
    book.run(temp_inputs(80, 60, recover_s=300), at(60))
    book.run(temp_inputs(80, 300, recover_s=300), at(300))
    assert book.state() is AlertState.FIRING  # clear for 240 s only
    book.run(temp_inputs(80, 360, recover_s=300), at(360))
    assert book.state() is None
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED, Notice.RESOLVED]
    assert book.history[0].resolved_at == at(360)


def test_one_alert_per_rule_and_subject_however_long_it_lasts() -> None:
    book = Book()
    for minute in range(0, 600, 1):
        book.run(temp_inputs(90, 60 * minute), at(60 * minute))
    assert len(book.open) == 1
    assert book.next_id == 2
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED]


def test_an_oscillating_subject_is_one_flapping_notice_then_resolves_when_stable() -> None:
    book = Book()
    t = 0
    for i in range(20):  # over and under the limit every minute, for 20 minutes
        book.run(temp_inputs(90 if i % 2 == 0 else 80, t, recover_s=120), at(t))
        t += 60
    assert book.state() is AlertState.FLAPPING
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED, Notice.FLAPPING]
    assert book.next_id == 2  # one alert all along
    for _ in range(29):  # stable (cool) for less than the 30-minute window
        book.run(temp_inputs(80, t, recover_s=120), at(t))
        t += 60
    assert book.state() is AlertState.FLAPPING
    book.run(temp_inputs(80, t + 60, recover_s=120), at(t + 60))
    assert book.state() is None
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED, Notice.FLAPPING, Notice.RESOLVED]


def test_a_flapping_alert_that_settles_hot_fires_again_once() -> None:
    book = Book()
    params = {"flap_changes": 4, "flap_window_minutes": 10}
    for i in range(6):
        book.run(
            temp_inputs(90 if i % 2 == 0 else 80, 60 * i, recover_s=120, params=params), at(60 * i)
        )
    assert book.state() is AlertState.FLAPPING
    for i in range(6, 20):
        book.run(temp_inputs(95, 60 * i, recover_s=120, params=params), at(60 * i))
    assert book.state() is AlertState.FIRING
    assert [n for n, _s, _q in book.notices] == [Notice.FIRED, Notice.FLAPPING, Notice.FIRED]


def test_a_silenced_alert_is_tracked_its_notices_marked_and_said_when_the_silence_ends() -> None:
    book = Book()
    silence = Silence(1, until=at(600), reason="maintenance", subject="miner:1")
    book.run(temp_inputs(90, 0), at(0), [silence])
    assert book.state() is AlertState.FIRING
    assert book.notices == [(Notice.FIRED, "miner:1", True)]
    assert next(iter(book.open.values())).silenced_until == at(600)
    book.run(temp_inputs(90, 300), at(300), [silence])
    assert len(book.notices) == 1
    book.run(temp_inputs(90, 660), at(660), [silence])  # the silence is over, still hot
    assert book.notices[-1] == (Notice.FIRED, "miner:1", False)
    book.run(temp_inputs(90, 720), at(720), [silence])
    assert len(book.notices) == 2


def test_a_silence_by_rule_covers_every_subject_of_that_rule_only() -> None:
    rules = [rule(RuleKind.TEMP_HIGH, 1), rule(RuleKind.FAN_FAILED, 2)]
    m = miner(temp_c=90.0, fans_rpm=(0,))
    book = Book()
    book.run(Inputs(rules, miners=[m]), at(0), [Silence(1, until=at(600), reason="r", rule_id=1)])
    assert sorted((n, q) for n, _s, q in book.notices) == [
        (Notice.FIRED, False),
        (Notice.FIRED, True),
    ]


def test_a_disabled_or_deleted_rule_resolves_its_open_alerts() -> None:
    book = Book()
    book.run(temp_inputs(90, 0), at(0))
    book.run(temp_inputs(90, 60, enabled=False), at(60))
    assert book.state() is None
    assert book.notices[-1][0] is Notice.RESOLVED
    book.run(temp_inputs(90, 120), at(120))
    book.run(Inputs([], miners=[miner(temp_c=90.0)]), at(180))
    assert book.state() is None
    assert book.history[-1].message.endswith("no longer applies")


# ---- overrides ---------------------------------------------------------------------------------


def test_the_most_specific_rule_wins_miner_over_tag_over_site_over_farm() -> None:
    rules = [
        rule(RuleKind.TEMP_HIGH, 1, "farm"),
        rule(RuleKind.TEMP_HIGH, 2, "site:2"),
        rule(RuleKind.TEMP_HIGH, 3, "tag:hot-aisle"),
        rule(RuleKind.TEMP_HIGH, 4, "tag:immersion"),
        rule(RuleKind.TEMP_HIGH, 5, "miner:7"),
    ]

    def chosen(**kw: Any) -> int | None:
        found = choose_rule(rules, RuleKind.TEMP_HIGH, **kw)
        return None if found is None else found.id

    assert chosen(site_id=1) == 1
    assert chosen(site_id=2) == 2
    assert chosen(site_id=2, tags=("hot-aisle",)) == 3
    assert chosen(site_id=2, tags=("immersion", "hot-aisle")) == 3  # smallest id of a tie
    assert chosen(site_id=2, tags=("hot-aisle",), miner_id=7) == 5
    assert choose_rule(rules, RuleKind.FAN_FAILED, site_id=1) is None


def test_an_override_applies_whole_and_a_disabled_one_turns_the_check_off() -> None:
    rules = [
        rule(RuleKind.TEMP_HIGH, 1, params={"board_c": 80}),
        rule(RuleKind.TEMP_HIGH, 2, "tag:immersion", params={"board_c": 95}),
        rule(RuleKind.TEMP_HIGH, 3, "miner:3", enabled=False),
    ]
    miners = [
        miner(1, temp_c=85.0),
        miner(2, temp_c=85.0, tags=("immersion",)),
        miner(3, temp_c=99.0),
    ]
    book = Book()
    book.run(Inputs(rules, miners=miners), at(0))
    assert sorted(a.subject for a in book.open.values()) == ["miner:1"]
    assert next(iter(book.open.values())).rule_id == 1


# ---- validation --------------------------------------------------------------------------------


def test_params_are_checked_per_kind_and_unknown_ones_refused() -> None:
    assert validate_params(RuleKind.OFFLINE, {"minutes": 10}) == {"minutes": 10.0}
    with pytest.raises(RuleError) as bad:
        validate_params(RuleKind.OFFLINE, {"minutes": 0, "colour": "red"})
    assert {loc for loc, _msg in bad.value.errors} == {"params.minutes", "params.colour"}
    with pytest.raises(RuleError):
        validate_params(RuleKind.POOL_NOT_ALLOWED, {})
    with pytest.raises(RuleError):
        validate_params(RuleKind.WORKER_NAME, {"pattern": "(", "syntax": "regex"})
    with pytest.raises(RuleError):
        validate_params(RuleKind.HASHRATE_LOW, {"percent": True})
    assert effective_params(RuleKind.TEMP_HIGH, {})["chip_c"] == DEFAULT_LIMITS.max_chip_temp_c


def test_scopes_and_subjects_are_parsed_strictly() -> None:
    assert str(Scope.parse("site:3")) == "site:3"
    assert validate_scope(RuleKind.TEMP_HIGH, "tag:hot aisle").value == "hot aisle"
    for bad in ("planet", "site:x", "miner:0", "tag:"):
        with pytest.raises(RuleError):
            Scope.parse(bad)
    with pytest.raises(RuleError):
        validate_scope(RuleKind.JOB_FAILING, "site:1")
    assert check_subject("job:rollups") == "job:rollups"
    with pytest.raises(RuleError):
        check_subject("miner:abc")


def test_notices_are_the_event_kinds_of_the_store() -> None:
    assert {n.value for n in Notice} == {
        EventKind.ALERT_FIRED.value,
        EventKind.ALERT_RESOLVED.value,
        EventKind.ALERT_FLAPPING.value,
    }


def test_the_migration_creates_exactly_the_default_rules() -> None:
    migration = importlib.import_module("rigwatch.store.migrations.versions.0009_alerts")
    frozen = [(k, s, p, h, r) for k, s, p, h, r in migration.DEFAULT_RULES]
    assert frozen == [
        (str(d.kind), str(d.severity), dict(d.params), d.hold_s, d.recover_s) for d in DEFAULT_RULES
    ]
    for d in DEFAULT_RULES:
        validate_params(d.kind, d.params)


def test_the_outcome_counts_the_alerts_left_open_by_state() -> None:
    book = Book()
    book.run(temp_inputs(90, 0), at(0))
    out = evaluate(temp_inputs(80, 60), list(book.open.values()), [], at(60))
    assert out.open[AlertState.FIRING] == 0
    assert [n for _a, n, _s in out.notices] == [Notice.RESOLVED]


def test_a_miner_named_by_its_mac_keeps_its_name_when_the_alert_closes() -> None:
    book = Book()
    hot = miner(now=0, temp_c=90.0, name="aa:bb:cc:00:00:01")
    book.run(Inputs([rule(RuleKind.TEMP_HIGH)], miners=[hot]), at(0))
    book.run(Inputs([], miners=[hot]), at(60))
    assert book.history[0].message == "aa:bb:cc:00:00:01: no longer applies"
