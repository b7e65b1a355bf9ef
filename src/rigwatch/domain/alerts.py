"""Alert rules and the alert lifecycle: pure functions over facts the store loads.

Rules
-----
A rule has a `kind` (what it checks, `RuleKind`), a `scope`, `params` (validated per
kind, `validate_params`), a `severity` (info / warning / critical), `enabled`, and two
hold times: `hold_s` (the condition must hold this long before the alert fires) and
`recover_s` (it must stay clear this long before the alert resolves).

Scopes and precedence (overrides). A rule's scope is `farm`, `site:<id>`, `tag:<name>`
or `miner:<id>`. For each miner and each kind, exactly one rule applies: the most
specific rule of that kind whose scope covers the miner, in the order

    miner:<id>  >  tag:<name>  >  site:<id>  >  farm

and between equally specific rules (a miner with two tags that both have a rule) the
rule with the smallest id (the older one). The chosen rule applies whole: its params,
severity and hold times; nothing is merged from the rules it overrides. A disabled rule
still takes part in the choice, so a disabled override turns the check off for its
scope (a disabled `miner:12` temperature rule: miner 12's temperature is not checked).
Rules about sentries take `farm` or `site:<id>`; rules about jobs and wallets `farm`.

Lifecycle
---------
One alert per (rule, subject) while it is open (`pending`, `firing` or `flapping`);
once `resolved` it is history, and the next episode opens a new alert. Each evaluation
observes every (rule, subject) the rules select: the condition is true, false, or
unknown (no data: a stale miner, a miner behind a silent sentry). Unknown changes
nothing. Otherwise (`advance`):

- no open alert, condition true: a `pending` alert opens; with `hold_s` 0 it fires at
  once;
- `pending`: fires once the condition has held for `hold_s` without a break (a break
  restarts the hold); closes silently (`resolved`, never fired, no notice) once clear
  for `recover_s`;
- `firing`: resolves once the condition has been clear for `recover_s` without a break;
- flap rule: every flip of the condition (true → false or false → true) while the alert
  is open is counted; `flap_changes` flips (default 6) within `flap_window_minutes`
  (default 30) turn a pending or firing alert `flapping` with one notice, and nothing
  more is said while it oscillates. A flapping alert leaves that state once the
  condition has not flipped for the whole window: to `firing` (one notice) if it
  settled true, to `resolved` (one notice) if it settled false.
- an open alert whose (rule, subject) is no longer selected (rule disabled, deleted or
  overridden for the subject, subject gone) resolves at once.

Notices (events `alert_fired`, `alert_flapping`, `alert_resolved`) are written on the
transitions to firing, flapping and resolved. A silence (per rule, per subject, or
both; with an end time and a reason) does not stop tracking: transitions still happen
and their events are still written, with `silenced: true` in their data, and the
notifier sends nothing for them. When the silence ends and the alert is still firing
or flapping, its notice is written again (unsilenced). An acknowledgement records who
and when; it changes nothing in the lifecycle.

Values and messages of an alert are those of its last transition (not rewritten on
every evaluation).
"""

from __future__ import annotations

import enum
import fnmatch
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rigwatch.domain.status import DEFAULT_LIMITS


class RuleKind(enum.StrEnum):
    OFFLINE = "offline"
    HASHRATE_LOW = "hashrate_low"
    HASHBOARD_MISSING = "hashboard_missing"
    CHIPS_LOW = "chips_low"
    TEMP_HIGH = "temp_high"
    FAN_FAILED = "fan_failed"
    REJECTED_RATE = "rejected_rate"
    HUNG = "hung"
    POOL_NOT_ALLOWED = "pool_not_allowed"
    WORKER_NAME = "worker_name"
    POOL_GAP = "pool_gap"
    SENTRY_SILENT = "sentry_silent"
    JOB_FAILING = "job_failing"
    PAYOUT_OVERDUE = "payout_overdue"


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertState(enum.StrEnum):
    PENDING = "pending"
    FIRING = "firing"
    FLAPPING = "flapping"
    RESOLVED = "resolved"


OPEN_STATES = frozenset({AlertState.PENDING, AlertState.FIRING, AlertState.FLAPPING})


class Notice(enum.StrEnum):
    """What a transition tells people; the store writes each as an event of this kind."""

    FIRED = "alert_fired"
    FLAPPING = "alert_flapping"
    RESOLVED = "alert_resolved"


MINER_KINDS = frozenset(
    {
        RuleKind.OFFLINE,
        RuleKind.HASHRATE_LOW,
        RuleKind.HASHBOARD_MISSING,
        RuleKind.CHIPS_LOW,
        RuleKind.TEMP_HIGH,
        RuleKind.FAN_FAILED,
        RuleKind.REJECTED_RATE,
        RuleKind.HUNG,
        RuleKind.POOL_NOT_ALLOWED,
        RuleKind.WORKER_NAME,
        RuleKind.POOL_GAP,
    }
)
# Kinds that read the 5-minute rollups (a window of them per miner).
ROLLUP_KINDS = frozenset({RuleKind.HASHRATE_LOW, RuleKind.REJECTED_RATE, RuleKind.HUNG})

LABELS: dict[RuleKind, str] = {
    RuleKind.OFFLINE: "offline",
    RuleKind.HASHRATE_LOW: "hashrate low",
    RuleKind.HASHBOARD_MISSING: "hashboard missing",
    RuleKind.CHIPS_LOW: "chips missing",
    RuleKind.TEMP_HIGH: "temperature high",
    RuleKind.FAN_FAILED: "fan failed",
    RuleKind.REJECTED_RATE: "rejected shares",
    RuleKind.HUNG: "hung (no accepted shares)",
    RuleKind.POOL_NOT_ALLOWED: "pool not allowed",
    RuleKind.WORKER_NAME: "worker name",
    RuleKind.POOL_GAP: "pool-side hashrate gap",
    RuleKind.SENTRY_SILENT: "sentry silent",
    RuleKind.JOB_FAILING: "job failing",
    RuleKind.PAYOUT_OVERDUE: "payout overdue",
}


class RuleError(ValueError):
    """A rule, scope, subject or silence that cannot be accepted; `errors` are
    (field, message) pairs for a 422."""

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{loc}: {msg}" for loc, msg in self.errors))


# ---- scopes and subjects ---------------------------------------------------------------

SCOPE_ORDER = {"farm": 0, "site": 1, "tag": 2, "miner": 3}
_TAG = re.compile(r"^[^\s:][^\x00-\x1f]{0,99}$")


@dataclass(frozen=True, slots=True)
class Scope:
    """`farm`, `site:<id>`, `tag:<name>` or `miner:<id>`."""

    kind: str = "farm"
    value: str = ""

    @classmethod
    def parse(cls, text: str) -> Scope:
        text = text.strip()
        if text == "farm":
            return cls()
        kind, sep, value = text.partition(":")
        if not sep or kind not in ("site", "tag", "miner"):
            raise RuleError([("scope", "must be farm, site:<id>, tag:<name> or miner:<id>")])
        if kind in ("site", "miner"):
            if not value.isdigit() or len(value) > 12 or int(value) <= 0:
                raise RuleError([("scope", f"{kind}:<id> takes a positive integer id")])
            return cls(kind, str(int(value)))
        if not _TAG.match(value):
            raise RuleError([("scope", "tag:<name> takes a tag of 1 to 100 characters")])
        return cls(kind, value)

    def __str__(self) -> str:
        return "farm" if self.kind == "farm" else f"{self.kind}:{self.value}"

    @property
    def specificity(self) -> int:
        return SCOPE_ORDER[self.kind]


SUBJECT_KINDS = ("miner", "sentry", "job", "wallet")
_SUBJECT = re.compile(r"^(miner|sentry|wallet):[1-9][0-9]{0,11}$|^job:[A-Za-z0-9_.-]{1,64}$")


def check_subject(text: str) -> str:
    """A subject as alerts name them: miner:12, sentry:3, job:rollups, wallet:2."""
    if not _SUBJECT.match(text):
        raise RuleError([("subject", "must be miner:<id>, sentry:<id>, wallet:<id> or job:<name>")])
    return text


def subject_id(subject: str, kind: str) -> int | None:
    """12 for ("miner:12", "miner"); None for a subject of another kind."""
    prefix, _, value = subject.partition(":")
    return int(value) if prefix == kind and value.isdigit() else None


def subject_kind(kind: RuleKind) -> str:
    if kind in MINER_KINDS:
        return "miner"
    if kind is RuleKind.SENTRY_SILENT:
        return "sentry"
    if kind is RuleKind.JOB_FAILING:
        return "job"
    return "wallet"


def allowed_scopes(kind: RuleKind) -> tuple[str, ...]:
    if kind in MINER_KINDS:
        return ("farm", "site", "tag", "miner")
    if kind is RuleKind.SENTRY_SILENT:
        return ("farm", "site")
    return ("farm",)


# ---- params ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a rule kind. `type`: number, int, text, patterns, choice."""

    name: str
    type: str
    default: Any = None
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    doc: str = ""


COMMON_PARAMS = (
    Param("flap_changes", "int", 6, 2, 100, doc="flips within the window that mean flapping"),
    Param("flap_window_minutes", "number", 30.0, 1, 1440, doc="the flap window"),
)

PARAMS: dict[RuleKind, tuple[Param, ...]] = {
    RuleKind.OFFLINE: (Param("minutes", "number", 5.0, 1, 10080, doc="no sample for this long"),),
    RuleKind.HASHRATE_LOW: (
        Param("percent", "number", 80.0, 1, 100, doc="mean below this % of expected"),
        Param("window_minutes", "int", 60, 15, 1440, doc="mean over this many minutes"),
        Param("min_coverage_pct", "number", 50.0, 0, 100, doc="of the window with samples"),
    ),
    RuleKind.HASHBOARD_MISSING: (
        Param("boards", "int", 1, 1, 64, doc="at least this many boards missing"),
    ),
    RuleKind.CHIPS_LOW: (
        Param("percent", "number", 100.0, 1, 100, doc="a board below this % of its chips"),
    ),
    RuleKind.TEMP_HIGH: (
        Param("board_c", "number", DEFAULT_LIMITS.max_temp_c, 20, 200, doc="board mean"),
        Param("chip_c", "number", DEFAULT_LIMITS.max_chip_temp_c, 20, 200, doc="hottest"),
        Param("gpu_c", "number", None, 20, 200, doc="any GPU (unset: not checked)"),
    ),
    RuleKind.FAN_FAILED: (
        Param("min_rpm", "int", 0, 0, 50000, doc="0: a stopped fan; else below this rpm"),
    ),
    RuleKind.REJECTED_RATE: (
        Param("percent", "number", 5.0, 0.1, 100, doc="rejected / (accepted + rejected)"),
        Param("window_minutes", "int", 60, 15, 1440, doc="over this many minutes"),
        Param("min_shares", "int", 20, 1, 10**9, doc="fewer shares: no verdict"),
    ),
    RuleKind.HUNG: (
        Param("minutes", "number", 15.0, 5, 1440, doc="hashing, no accepted share this long"),
    ),
    RuleKind.POOL_NOT_ALLOWED: (
        Param("allowed", "patterns", required=True, doc="glob patterns of allowed pool URLs"),
    ),
    RuleKind.WORKER_NAME: (
        Param("pattern", "text", required=True, doc="what worker names must match (whole)"),
        Param("syntax", "choice", "glob", choices=("glob", "regex")),
    ),
    RuleKind.POOL_GAP: (
        Param("percent", "number", 20.0, 1, 1000, doc="pool's figure this % off the miner's"),
        Param("stale_minutes", "number", 60.0, 5, 10080, doc="older pool figures: no verdict"),
    ),
    RuleKind.SENTRY_SILENT: (
        Param("minutes", "number", 10.0, 1, 10080, doc="no batch for this long"),
    ),
    RuleKind.JOB_FAILING: (),
    RuleKind.PAYOUT_OVERDUE: (
        Param("hours", "number", 24.0, 1, 24 * 366, doc="no payment to a wallet this long"),
    ),
}

MAX_PATTERN_CHARS = 200
MAX_PATTERNS = 50


def _param(spec: Param, raw: object) -> tuple[object, str | None]:
    if spec.type in ("number", "int"):
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            return None, "must be a number"
        if spec.type == "int" and not float(raw).is_integer():
            return None, "must be a whole number"
        try:
            number = float(raw)
        except OverflowError:
            return None, "is out of range"
        if not math.isfinite(number):
            return None, "must be finite"
        if spec.lo is not None and spec.hi is not None and not spec.lo <= number <= spec.hi:
            return None, f"must be between {spec.lo:g} and {spec.hi:g}"
        return (int(number) if spec.type == "int" else number), None
    if spec.type == "choice":
        if raw not in spec.choices:
            return None, f"must be one of {', '.join(spec.choices)}"
        return raw, None
    if spec.type == "text":
        if not isinstance(raw, str) or not 1 <= len(raw) <= MAX_PATTERN_CHARS:
            return None, f"must be a string of 1 to {MAX_PATTERN_CHARS} characters"
        return raw, None
    # patterns
    if (
        not isinstance(raw, list)
        or not 1 <= len(raw) <= MAX_PATTERNS
        or not all(isinstance(p, str) and 1 <= len(p) <= MAX_PATTERN_CHARS for p in raw)
    ):
        return None, f"must be a list of 1 to {MAX_PATTERNS} non-empty strings"
    return [p.strip() for p in raw], None


def validate_params(kind: RuleKind, raw: Mapping[str, object]) -> dict[str, object]:
    """The params as given, checked and normalised (defaults are not filled in: see
    `effective_params`). Raises RuleError naming every bad or unknown key."""
    specs = {p.name: p for p in (*PARAMS[kind], *COMMON_PARAMS)}
    errors: list[tuple[str, str]] = []
    out: dict[str, object] = {}
    for key, value in raw.items():
        spec = specs.get(key)
        if spec is None:
            errors.append((f"params.{key}", f"unknown parameter for {kind}"))
            continue
        if value is None and not spec.required:
            continue
        checked, problem = _param(spec, value)
        if problem:
            errors.append((f"params.{key}", problem))
        else:
            out[key] = checked
    for spec in PARAMS[kind]:
        if spec.required and spec.name not in out and f"params.{spec.name}" not in dict(errors):
            errors.append((f"params.{spec.name}", "is required"))
    if kind is RuleKind.WORKER_NAME and "pattern" in out and out.get("syntax") == "regex":
        try:
            re.compile(str(out["pattern"]))
        except re.error as exc:
            errors.append(("params.pattern", f"is not a valid regular expression: {exc}"))
    if errors:
        raise RuleError(errors)
    return out


def effective_params(kind: RuleKind, params: Mapping[str, object]) -> dict[str, Any]:
    """Defaults filled in (what evaluation uses, and what the API shows)."""
    out: dict[str, Any] = {p.name: p.default for p in (*PARAMS[kind], *COMMON_PARAMS)}
    out.update(params)
    return out


def validate_scope(kind: RuleKind, text: str) -> Scope:
    scope = Scope.parse(text)
    if scope.kind not in allowed_scopes(kind):
        raise RuleError(
            [("scope", f"{kind} rules take {' or '.join(allowed_scopes(kind))} scopes")]
        )
    return scope


MAX_HOLD_S = 7 * 86400


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule as evaluation sees it: `params` with defaults filled in."""

    id: int
    kind: RuleKind
    scope: Scope = field(default_factory=Scope)
    params: Mapping[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.WARNING
    enabled: bool = True
    hold_s: float = 0.0
    recover_s: float = 0.0

    @classmethod
    def build(
        cls,
        id: int,
        kind: RuleKind,
        scope: Scope | str = "farm",
        params: Mapping[str, object] | None = None,
        severity: Severity = Severity.WARNING,
        *,
        enabled: bool = True,
        hold_s: float = 0.0,
        recover_s: float = 0.0,
    ) -> Rule:
        return cls(
            id=id,
            kind=kind,
            scope=scope if isinstance(scope, Scope) else Scope.parse(scope),
            params=effective_params(kind, params or {}),
            severity=severity,
            enabled=enabled,
            hold_s=hold_s,
            recover_s=recover_s,
        )

    @property
    def flap(self) -> FlapPolicy:
        return FlapPolicy(
            changes=int(self.params.get("flap_changes", 6)),
            window_s=60.0 * float(self.params.get("flap_window_minutes", 30.0)),
        )


@dataclass(frozen=True, slots=True)
class FlapPolicy:
    changes: int = 6
    window_s: float = 1800.0


@dataclass(frozen=True, slots=True)
class DefaultRule:
    kind: RuleKind
    severity: Severity
    params: Mapping[str, object]
    hold_s: int
    recover_s: int


# Created by migration 0009 (which holds a frozen copy; a test keeps the two equal).
DEFAULT_RULES: tuple[DefaultRule, ...] = (
    DefaultRule(RuleKind.OFFLINE, Severity.CRITICAL, {"minutes": 5}, 0, 60),
    DefaultRule(
        RuleKind.HASHRATE_LOW, Severity.WARNING, {"percent": 80, "window_minutes": 60}, 0, 300
    ),
    DefaultRule(RuleKind.HASHBOARD_MISSING, Severity.CRITICAL, {}, 120, 300),
    DefaultRule(RuleKind.TEMP_HIGH, Severity.CRITICAL, {}, 60, 300),
    DefaultRule(RuleKind.FAN_FAILED, Severity.CRITICAL, {}, 60, 300),
    DefaultRule(
        RuleKind.REJECTED_RATE, Severity.WARNING, {"percent": 5, "window_minutes": 60}, 0, 300
    ),
    DefaultRule(RuleKind.HUNG, Severity.CRITICAL, {"minutes": 15}, 0, 300),
    DefaultRule(RuleKind.SENTRY_SILENT, Severity.CRITICAL, {"minutes": 10}, 0, 60),
    DefaultRule(RuleKind.JOB_FAILING, Severity.WARNING, {}, 0, 0),
)


# ---- facts -------------------------------------------------------------------------------


# Board and Window are named tuples and MinerFacts is not frozen: the store builds tens
# of thousands of them per evaluation, and this is measurably cheaper (bench.alerts).


class Board(NamedTuple):
    number: int
    missing: bool = False
    chips: int | None = None
    chips_expected: int | None = None


class Window(NamedTuple):
    """A miner's 5-minute rollups over one window: sample-weighted means, share sums
    (None: the miner reports no counters), and seconds of the window with samples."""

    hashrate_mean: float | None = None
    expected_mean: float | None = None
    accepted: int | None = None
    rejected: int | None = None
    covered_s: float = 0.0


@dataclass(slots=True)
class MinerFacts:
    """What the rules read about one miner (latest state plus rollup windows)."""

    id: int
    name: str
    sentry_id: int
    site_id: int
    tags: tuple[str, ...] = ()
    worker: str | None = None
    last_seen: datetime | None = None
    hashrate_hs: float | None = None
    temp_c: float | None = None
    temp_max_c: float | None = None
    chip_temp_c: float | None = None
    gpu_temps_c: tuple[float, ...] = ()
    fans_rpm: tuple[int, ...] = ()
    boards: tuple[Board, ...] = ()
    pool_url: str | None = None
    # window length in seconds → the rollups over it
    windows: Mapping[int, Window] = field(default_factory=dict)
    # start of the newest 5-minute bucket with accepted shares, of the oldest with samples
    last_accepted_bucket: datetime | None = None
    first_bucket: datetime | None = None
    # the largest pool-side gap over the pool accounts the miner is matched at
    pool_gap: float | None = None
    pool_gap_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SentryFacts:
    id: int
    name: str
    site_id: int
    last_seen: datetime | None
    enrolled_at: datetime | None


@dataclass(frozen=True, slots=True)
class WalletFacts:
    id: int
    name: str
    created_at: datetime
    last_payment: datetime | None


@dataclass(frozen=True, slots=True)
class Inputs:
    rules: Sequence[Rule]
    miners: Sequence[MinerFacts] = ()
    sentries: Sequence[SentryFacts] = ()
    wallets: Sequence[WalletFacts] = ()
    failing_jobs: Sequence[str] = ()
    # a miner whose last sample is older than this is stale: its data rules are unknown
    offline_after_s: float = 120.0


BUCKET_S = 300


def rollup_windows(rules: Iterable[Rule]) -> set[int]:
    """The window lengths (seconds) the enabled rules need from the 5-minute rollups."""
    out: set[int] = set()
    for rule in rules:
        if not rule.enabled:
            continue
        if rule.kind in (RuleKind.HASHRATE_LOW, RuleKind.REJECTED_RATE):
            out.add(60 * int(rule.params["window_minutes"]))
    return out


def hung_lookback_s(rules: Iterable[Rule]) -> int:
    """How far back the newest accepted bucket is looked for (0: no hung rule)."""
    minutes = [float(r.params["minutes"]) for r in rules if r.enabled and r.kind is RuleKind.HUNG]
    return int(60 * max(minutes)) + 2 * BUCKET_S if minutes else 0


# ---- checks --------------------------------------------------------------------------------
#
# A check returns None when it cannot tell (no data), else (active, value). Messages are
# built only for the alerts that change (`describe`).

Check = tuple[bool, float | None] | None


def _pct(part: float, whole: float) -> float:
    return 100.0 * part / whole


def _check_miner(rule: Rule, m: MinerFacts, now: datetime) -> Check:
    p = rule.params
    kind = rule.kind
    if kind is RuleKind.OFFLINE:
        if m.last_seen is None:
            return None
        silent = (now - m.last_seen).total_seconds() / 60.0
        return silent >= p["minutes"], silent
    if kind is RuleKind.HASHRATE_LOW:
        w = m.windows.get(60 * int(p["window_minutes"]))
        if w is None or w.hashrate_mean is None or not w.expected_mean:
            return None
        if w.covered_s < p["min_coverage_pct"] / 100.0 * 60 * p["window_minutes"]:
            return None
        pct = _pct(w.hashrate_mean, w.expected_mean)
        return pct < p["percent"], pct
    if kind is RuleKind.HASHBOARD_MISSING:
        if not m.boards:
            return None
        missing = sum(1 for b in m.boards if b.missing)
        return missing >= p["boards"], float(missing)
    if kind is RuleKind.CHIPS_LOW:
        ratios = [
            _pct(b.chips, b.chips_expected)
            for b in m.boards
            if not b.missing and b.chips is not None and b.chips_expected
        ]
        if not ratios:
            return None
        worst = min(ratios)
        return worst < p["percent"], worst
    if kind is RuleKind.TEMP_HIGH:
        return _check_temp(p, m)
    if kind is RuleKind.FAN_FAILED:
        if not m.fans_rpm:
            return None
        slowest = min(m.fans_rpm)
        failed = slowest <= 0 if p["min_rpm"] <= 0 else slowest < p["min_rpm"]
        return failed, float(slowest)
    if kind is RuleKind.REJECTED_RATE:
        w = m.windows.get(60 * int(p["window_minutes"]))
        if w is None or w.accepted is None or w.rejected is None:
            return None
        total = w.accepted + w.rejected
        if total < p["min_shares"]:
            return None
        pct = _pct(w.rejected, total)
        return pct > p["percent"], pct
    if kind is RuleKind.HUNG:
        return _check_hung(p, m, now)
    if kind is RuleKind.POOL_NOT_ALLOWED:
        if not m.pool_url:
            return None
        url = m.pool_url.strip().lower()
        ok = any(fnmatch.fnmatchcase(url, pat.lower()) for pat in p["allowed"])
        return not ok, None
    if kind is RuleKind.WORKER_NAME:
        if not m.worker:
            return None
        return not worker_matches(str(p["pattern"]), str(p["syntax"]), m.worker), None
    if kind is RuleKind.POOL_GAP:
        if m.pool_gap is None or m.pool_gap_at is None:
            return None
        if (now - m.pool_gap_at).total_seconds() > 60 * p["stale_minutes"]:
            return None
        pct = 100.0 * m.pool_gap
        return pct >= p["percent"], pct
    return None


def _check_temp(p: Mapping[str, Any], m: MinerFacts) -> Check:
    readings: list[tuple[float, float]] = []
    if m.temp_c is not None and p["board_c"] is not None:
        readings.append((m.temp_c, p["board_c"]))
    hottest = max((t for t in (m.temp_max_c, m.chip_temp_c) if t is not None), default=None)
    if hottest is not None and p["chip_c"] is not None:
        readings.append((hottest, p["chip_c"]))
    if m.gpu_temps_c and p["gpu_c"] is not None:
        readings.append((max(m.gpu_temps_c), p["gpu_c"]))
    if not readings:
        return None
    over = [t for t, limit in readings if t > limit]
    if over:
        return True, max(over)
    return False, max(t for t, _limit in readings)


def _check_hung(p: Mapping[str, Any], m: MinerFacts, now: datetime) -> Check:
    if m.hashrate_hs is None or m.first_bucket is None:
        return None
    if m.hashrate_hs <= 0:
        return False, None  # not hashing: offline / hashrate rules say so
    need = timedelta(minutes=float(p["minutes"]))
    if m.last_accepted_bucket is not None:
        # lenient: a share somewhere in that bucket counts as at its end
        quiet = now - (m.last_accepted_bucket + timedelta(seconds=BUCKET_S))
    elif now - m.first_bucket >= need:
        quiet = now - m.first_bucket
    else:
        return None  # not watched long enough
    minutes = quiet.total_seconds() / 60.0
    return quiet >= need, max(0.0, minutes)


def worker_matches(pattern: str, syntax: str, worker: str) -> bool:
    if syntax == "regex":
        return _regex(pattern).fullmatch(worker) is not None
    return fnmatch.fnmatchcase(worker, pattern)


_REGEX_CACHE: dict[str, re.Pattern[str]] = {}


def _regex(pattern: str) -> re.Pattern[str]:
    found = _REGEX_CACHE.get(pattern)
    if found is None:
        if len(_REGEX_CACHE) > 256:
            _REGEX_CACHE.clear()
        found = _REGEX_CACHE[pattern] = re.compile(pattern)
    return found


def describe(rule: Rule, name: str, active: bool, value: float | None) -> str:
    """One line for the alert and its notice."""
    kind, p = rule.kind, rule.params
    v = value if value is not None else 0.0
    if not active:
        tail = "" if value is None else f" (now {_fmt(rule.kind, v)})"
        return f"{name}: {LABELS[kind]} cleared{tail}"
    text: dict[RuleKind, Callable[[], str]] = {
        RuleKind.OFFLINE: lambda: f"no sample for {v:.0f} min",
        RuleKind.HASHRATE_LOW: lambda: (
            f"hashrate {v:.0f}% of expected over {p['window_minutes']} min "
            f"(limit {p['percent']:g}%)"
        ),
        RuleKind.HASHBOARD_MISSING: lambda: f"{v:.0f} hashboard(s) missing",
        RuleKind.CHIPS_LOW: lambda: f"a hashboard has {v:.0f}% of its chips",
        RuleKind.TEMP_HIGH: lambda: f"temperature {v:.0f} °C over its limit",
        RuleKind.FAN_FAILED: lambda: f"fan at {v:.0f} rpm",
        RuleKind.REJECTED_RATE: lambda: (
            f"{v:.1f}% of shares rejected over {p['window_minutes']} min (limit {p['percent']:g}%)"
        ),
        RuleKind.HUNG: lambda: f"hashing but no accepted share for {v:.0f} min",
        RuleKind.POOL_NOT_ALLOWED: lambda: "mining on a pool that is not on the allowed list",
        RuleKind.WORKER_NAME: lambda: f"worker name does not match {p['pattern']!r}",
        RuleKind.POOL_GAP: lambda: f"pool-side hashrate {v:.0f}% off the miner's own",
        RuleKind.SENTRY_SILENT: lambda: f"no batch for {v:.0f} min",
        RuleKind.JOB_FAILING: lambda: "failing (3 or more failures in a row)",
        RuleKind.PAYOUT_OVERDUE: lambda: f"no payment for {v:.0f} h",
    }
    return f"{name}: {text[kind]()}"


def _fmt(kind: RuleKind, v: float) -> str:
    units = {
        RuleKind.OFFLINE: " min",
        RuleKind.HASHRATE_LOW: "%",
        RuleKind.TEMP_HIGH: " °C",
        RuleKind.FAN_FAILED: " rpm",
        RuleKind.REJECTED_RATE: "%",
        RuleKind.HUNG: " min",
        RuleKind.POOL_GAP: "%",
        RuleKind.SENTRY_SILENT: " min",
        RuleKind.PAYOUT_OVERDUE: " h",
        RuleKind.CHIPS_LOW: "%",
    }
    return f"{v:.0f}{units.get(kind, '')}"


# ---- rule choice (overrides) ------------------------------------------------------------------


@dataclass(slots=True)
class _KindRules:
    farm: Rule | None = None
    sites: dict[int, Rule] = field(default_factory=dict)
    tags: dict[str, Rule] = field(default_factory=dict)
    miners: dict[int, Rule] = field(default_factory=dict)


def _index(rules: Iterable[Rule]) -> dict[RuleKind, _KindRules]:
    out: dict[RuleKind, _KindRules] = {}
    for rule in sorted(rules, key=lambda r: r.id, reverse=True):  # smallest id wins: last
        k = out.setdefault(rule.kind, _KindRules())
        s = rule.scope
        if s.kind == "farm":
            k.farm = rule
        elif s.kind == "site":
            k.sites[int(s.value)] = rule
        elif s.kind == "tag":
            k.tags[s.value] = rule
        else:
            k.miners[int(s.value)] = rule
    return out


def _pick(
    k: _KindRules, *, site_id: int, tags: Sequence[str] = (), miner_id: int = 0
) -> Rule | None:
    found = k.miners.get(miner_id)
    if found is not None:
        return found
    if k.tags and tags:
        matches = [k.tags[t] for t in tags if t in k.tags]
        if matches:
            return min(matches, key=lambda r: r.id)
    found = k.sites.get(site_id)
    return found if found is not None else k.farm


def choose_rule(
    rules: Iterable[Rule],
    kind: RuleKind,
    *,
    site_id: int,
    tags: Sequence[str] = (),
    miner_id: int = 0,
) -> Rule | None:
    """The rule of `kind` that applies to a miner (or sentry: no tags, no miner id):
    most specific scope first, then smallest id. May be disabled (check off)."""
    k = _index(rules).get(kind)
    return None if k is None else _pick(k, site_id=site_id, tags=tags, miner_id=miner_id)


# ---- alerts and their lifecycle ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as evaluation tracks it; `id` None until stored."""

    rule_id: int | None
    kind: RuleKind
    subject: str
    state: AlertState
    severity: Severity
    started_at: datetime
    last_change_at: datetime
    id: int | None = None
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    ok_since: datetime | None = None
    changes: int = 0
    flips: tuple[datetime, ...] = ()
    value: float | None = None
    message: str = ""
    acked_by: str | None = None
    acked_at: datetime | None = None
    silenced_until: datetime | None = None
    silenced_notice: bool = False

    @property
    def open_key(self) -> str | None:
        return None if self.state is AlertState.RESOLVED else open_key(self.rule_id, self.subject)


def subject_name(alert: Alert) -> str:
    """The readable name its messages start with ("<name>: <text>"; a miner's name may
    hold colons, a MAC for one, never ": ")."""
    return alert.message.split(": ", 1)[0] or alert.subject


def open_key(rule_id: int | None, subject: str) -> str:
    return f"{rule_id}|{subject}"


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    until: datetime
    reason: str
    rule_id: int | None = None
    subject: str | None = None
    created_by: str = ""
    created_at: datetime | None = None

    def covers(self, alert: Alert, now: datetime) -> bool:
        return (
            self.until > now
            and (self.rule_id is None or self.rule_id == alert.rule_id)
            and (self.subject is None or self.subject == alert.subject)
        )


def silenced_until(silences: Iterable[Silence], alert: Alert, now: datetime) -> datetime | None:
    ends = [s.until for s in silences if s.covers(alert, now)]
    return max(ends) if ends else None


@dataclass(frozen=True, slots=True)
class Step:
    """The alert after one observation (None: there is none) and the notice it owes."""

    alert: Alert | None
    notice: Notice | None = None
    changed: bool = False


def advance(
    alert: Alert | None,
    active: bool | None,
    *,
    rule: Rule,
    subject: str,
    now: datetime,
    message: Callable[[bool], str],
    value: float | None = None,
) -> Step:
    """One observation of (rule, subject): the lifecycle of the module docstring.

    `active` None means unknown: nothing changes. `message(active)` is called only when
    the alert changes."""
    if alert is None:
        if not active:
            return Step(None)
        fresh = Alert(
            rule_id=rule.id,
            kind=rule.kind,
            subject=subject,
            state=AlertState.PENDING,
            severity=rule.severity,
            started_at=now,
            last_change_at=now,
            value=value,
            message=message(True),
        )
        if rule.hold_s <= 0:
            return Step(replace(fresh, state=AlertState.FIRING, fired_at=now), Notice.FIRED, True)
        return Step(fresh, None, True)
    if active is None or alert.state is AlertState.RESOLVED:
        return Step(alert)
    flap = rule.flap
    a = alert
    changed = False
    if (active and a.ok_since is not None) or (not active and a.ok_since is None):
        cutoff = now - timedelta(seconds=flap.window_s)
        flips = (*(t for t in a.flips if t > cutoff), now)[-flap.changes :]
        a = replace(
            a,
            flips=flips,
            changes=a.changes + 1,
            ok_since=None if active else now,
            started_at=now if active and a.state is AlertState.PENDING else a.started_at,
        )
        changed = True
        if a.state is not AlertState.FLAPPING and len(flips) >= flap.changes:
            return Step(
                replace(
                    a,
                    state=AlertState.FLAPPING,
                    last_change_at=now,
                    value=value,
                    message=message(bool(active)) + " (flapping)",
                ),
                Notice.FLAPPING,
                True,
            )
    if a.state is AlertState.PENDING:
        if active and (now - a.started_at).total_seconds() >= rule.hold_s:
            return Step(
                replace(
                    a,
                    state=AlertState.FIRING,
                    fired_at=now,
                    last_change_at=now,
                    value=value,
                    message=message(True),
                ),
                Notice.FIRED,
                True,
            )
        if (
            not active
            and a.ok_since is not None
            and (now - a.ok_since).total_seconds() >= rule.recover_s
        ):
            return Step(
                replace(
                    a,
                    state=AlertState.RESOLVED,
                    resolved_at=now,
                    last_change_at=now,
                    value=value,
                    message=message(False) + " before firing",
                ),
                None,
                True,
            )
        return Step(a, None, changed)
    if a.state is AlertState.FIRING:
        if (
            not active
            and a.ok_since is not None
            and (now - a.ok_since).total_seconds() >= rule.recover_s
        ):
            return Step(
                replace(
                    a,
                    state=AlertState.RESOLVED,
                    resolved_at=now,
                    last_change_at=now,
                    value=value,
                    message=message(False),
                ),
                Notice.RESOLVED,
                True,
            )
        return Step(a, None, changed)
    # flapping: leaves once the condition has not flipped for the whole window
    last_flip = a.flips[-1] if a.flips else a.last_change_at
    if (now - last_flip).total_seconds() < flap.window_s:
        return Step(a, None, changed)
    if active:
        return Step(
            replace(
                a,
                state=AlertState.FIRING,
                fired_at=a.fired_at or now,
                last_change_at=now,
                flips=(),
                value=value,
                message=message(True),
            ),
            Notice.FIRED,
            True,
        )
    return Step(
        replace(
            a,
            state=AlertState.RESOLVED,
            resolved_at=now,
            last_change_at=now,
            value=value,
            message=message(False),
        ),
        Notice.RESOLVED,
        True,
    )


def close(alert: Alert, now: datetime, reason: str) -> Step:
    """Resolve an open alert at once (its rule is gone, disabled or overridden for the
    subject, or the subject is gone); a notice only if people were told it fired."""
    told = alert.state in (AlertState.FIRING, AlertState.FLAPPING)
    return Step(
        replace(
            alert,
            state=AlertState.RESOLVED,
            resolved_at=now,
            last_change_at=now,
            message=f"{subject_name(alert)}: {reason}",
        ),
        Notice.RESOLVED if told else None,
        True,
    )


# ---- one evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the store writes: alerts to insert (id None) or update, and notices, each
    as (alert, notice, silenced). `open` counts the alerts left open per state."""

    changed: list[Alert]
    notices: list[tuple[Alert, Notice, bool]]
    observed: int
    open: dict[AlertState, int]


@dataclass(slots=True)
class _Run:
    now: datetime
    open: dict[str, Alert]
    silences: Sequence[Silence]
    seen: set[str] = field(default_factory=set)
    changed: list[Alert] = field(default_factory=list)
    notices: list[tuple[Alert, Notice, bool]] = field(default_factory=list)
    observed: int = 0

    def observe(self, rule: Rule, subject: str, name: str, check: Check) -> None:
        self.observed += 1
        key = open_key(rule.id, subject)
        prev = self.open.get(key)
        if prev is None and (check is None or not check[0]):
            return  # the common case: healthy, nothing open
        self.seen.add(key)
        active, value = (None, None) if check is None else check
        step = advance(
            prev,
            active,
            rule=rule,
            subject=subject,
            now=self.now,
            value=value,
            message=lambda on: describe(rule, name, on, value),
        )
        self.record(step)

    def record(self, step: Step) -> None:
        alert = step.alert
        if alert is None:
            return
        until = silenced_until(self.silences, alert, self.now)
        changed = step.changed
        if until != alert.silenced_until:
            alert = replace(alert, silenced_until=until)
            changed = True
        notice = step.notice
        if notice is not None:
            alert = replace(alert, silenced_notice=until is not None)
            self.notices.append((alert, notice, until is not None))
        elif (
            until is None
            and alert.silenced_notice
            and alert.state in (AlertState.FIRING, AlertState.FLAPPING)
        ):
            # the silence ended while it still fires: say it now
            alert = replace(alert, silenced_notice=False)
            changed = True
            kind = Notice.FIRED if alert.state is AlertState.FIRING else Notice.FLAPPING
            self.notices.append((alert, kind, False))
        if changed:
            self.changed.append(alert)
        key = open_key(alert.rule_id, alert.subject)
        if alert.state is AlertState.RESOLVED:
            self.open.pop(key, None)
        else:
            self.open[key] = alert


def evaluate(
    inputs: Inputs,
    open_alerts: Iterable[Alert],
    silences: Sequence[Silence],
    now: datetime,
) -> Outcome:
    """Observe every (rule, subject) the rules select and advance its alert."""
    run = _Run(now=now, open={}, silences=silences)
    for a in open_alerts:
        run.open[open_key(a.rule_id, a.subject)] = a
    by_kind = _index(inputs.rules)

    silent_sentries = _sentries(run, by_kind.get(RuleKind.SENTRY_SILENT), inputs, now)
    _miners(run, by_kind, inputs, now, silent_sentries)
    job_rules = by_kind.get(RuleKind.JOB_FAILING)
    job_rule = job_rules.farm if job_rules else None
    if job_rule is not None and job_rule.enabled:
        subjects = {f"job:{name}" for name in inputs.failing_jobs}
        subjects |= {a.subject for a in run.open.values() if a.rule_id == job_rule.id}
        failing = {f"job:{name}" for name in inputs.failing_jobs}
        for subject in sorted(subjects):
            run.observe(job_rule, subject, subject, (subject in failing, None))
    pay_rules = by_kind.get(RuleKind.PAYOUT_OVERDUE)
    pay_rule = pay_rules.farm if pay_rules else None
    if pay_rule is not None and pay_rule.enabled:
        for w in inputs.wallets:
            since = w.last_payment or w.created_at
            hours = (now - since).total_seconds() / 3600.0
            run.observe(
                pay_rule, f"wallet:{w.id}", w.name, (hours >= pay_rule.params["hours"], hours)
            )

    # Open alerts nobody observed (an open alert is always `seen` when its pair is
    # observed): their rule no longer applies to their subject.
    rules_by_id = {r.id: r for r in inputs.rules}
    for key, alert in list(run.open.items()):
        if key in run.seen:
            continue
        rule = rules_by_id.get(alert.rule_id) if alert.rule_id is not None else None
        reason = "rule disabled" if rule is not None and not rule.enabled else "no longer applies"
        del run.open[key]
        run.record(close(alert, now, reason))
    counts = dict.fromkeys(OPEN_STATES, 0)
    for alert in run.open.values():
        counts[alert.state] += 1
    return Outcome(run.changed, run.notices, run.observed, counts)


def _sentries(run: _Run, k: _KindRules | None, inputs: Inputs, now: datetime) -> set[int]:
    silent: set[int] = set()
    if k is None:
        return silent
    for s in inputs.sentries:
        rule = _pick(k, site_id=s.site_id)
        if rule is None or not rule.enabled:
            continue
        since = s.last_seen or s.enrolled_at
        if since is None:
            continue  # never enrolled: nothing to expect
        minutes = (now - since).total_seconds() / 60.0
        active = minutes >= rule.params["minutes"]
        if active:
            silent.add(s.id)
        run.observe(rule, f"sentry:{s.id}", s.name, (active, minutes))
    return silent


def _miners(
    run: _Run,
    by_kind: Mapping[RuleKind, _KindRules],
    inputs: Inputs,
    now: datetime,
    silent_sentries: set[int],
) -> None:
    kinds = [(kind, by_kind[kind]) for kind in RuleKind if kind in MINER_KINDS and kind in by_kind]
    stale_after = timedelta(seconds=inputs.offline_after_s)
    # Subjects with an open alert at the start; the others need observing only when a
    # check is active (the common case, a healthy miner, costs no bookkeeping).
    open_subjects = {a.subject for a in run.open.values()}
    for m in inputs.miners:
        behind_silent = m.sentry_id in silent_sentries
        stale = m.last_seen is None or now - m.last_seen > stale_after
        subject = f"miner:{m.id}"
        has_open = subject in open_subjects
        for kind, k in kinds:
            rule = _pick(k, site_id=m.site_id, tags=m.tags, miner_id=m.id)
            if rule is None or not rule.enabled:
                continue
            if behind_silent or (stale and kind is not RuleKind.OFFLINE):
                check: Check = None  # no news is not good news, nor bad
            else:
                check = _check_miner(rule, m, now)
            if has_open or (check is not None and check[0]):
                run.observe(rule, subject, m.name, check)
            else:
                run.observed += 1
