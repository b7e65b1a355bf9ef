"""`GET /metrics`: the farm and the commander in the Prometheus text exposition format.

A custom prometheus-client `Collector` builds every family afresh on each scrape: one
statement reads all miners' identity and latest state (`store.metrics`), one the
sentries, and the commander's own figures come from memory (ingest writer, live stream,
job scheduler). Nothing is kept between scrapes, so the numbers are never older than the
store, and several commander replicas on one database all expose the same farm.

Per-miner series carry the labels `site`, `sentry`, `miner` (the miner's key), `kind`,
`make`, `model`, `worker` and `tags` (sorted, comma-joined); missing ones are empty.
A miner the commander considers offline (silent for `offline_after_s`, or reported
offline) has `rigwatch_miner_up 0`, hashrate 0 and no temperature, fan or power series
(there is no current reading); its expected hashrate and share counters stay. Share
counters are the miner's own cumulative figures, so they reset when it restarts, which
`rate()` and `increase()` handle. Label values are escaped by prometheus-client as the
format requires (backslash, double quote, newline), so miner-supplied strings are safe.

Access: a viewer (or higher) API key as `Authorization: Bearer KEY`, or a signed-in
session; `RIGWATCH_METRICS_PUBLIC=true` opens it to anyone who can reach the commander.
"""

from __future__ import annotations

import gzip
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, Response
from fastapi import status as http
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.samples import Sample
from prometheus_client.utils import floatToGoString
from sqlalchemy.exc import SQLAlchemyError

import rigwatch
from rigwatch.commander.auth import resolve
from rigwatch.commander.context import Commander, commander
from rigwatch.domain.models import MinerStatus, Role
from rigwatch.domain.views import Principal
from rigwatch.store import queries
from rigwatch.store.metrics import MinerMetrics, miner_metrics

log = logging.getLogger(__name__)

PATH = "/metrics"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MINER_LABELS = ("site", "sentry", "miner", "kind", "make", "model", "worker", "tags")
STATUSES = tuple(str(s) for s in MinerStatus)
# Bodies above this are gzipped when the scraper accepts it (Prometheus always does).
GZIP_MIN_BYTES = 64 * 1024


def _miner_labels(m: MinerMetrics) -> dict[str, str]:
    return {
        "site": m.site,
        "sentry": m.sentry,
        "miner": m.key,
        "kind": str(m.kind),
        "make": m.make or "",
        "model": m.model or "",
        "worker": m.worker or "",
        "tags": ",".join(m.tags),
    }


class _MinerFamilies:
    """The per-miner and farm-wide families, filled from one list of miners.

    Samples are appended directly (what `add_metric` does, minus building a label dict
    per sample): the series of one miner without an extra label share one dict, which
    nothing downstream mutates. This halves the time of a 10,000-miner scrape.
    """

    def __init__(self) -> None:
        def gauge(name: str, doc: str, *extra: str) -> GaugeMetricFamily:
            return GaugeMetricFamily(name, doc, labels=[*MINER_LABELS, *extra])

        self.up = gauge("rigwatch_miner_up", "1 when the miner is hashing (online or warning).")
        self.status = gauge(
            "rigwatch_miner_status",
            "The miner's status: 1 for the current one of online, warning, offline.",
            "status",
        )
        self.hashrate = gauge(
            "rigwatch_miner_hashrate_hs", "Hashrate in H/s at the last sample (0 when offline)."
        )
        self.expected = gauge(
            "rigwatch_miner_hashrate_expected_hs", "Hashrate the miner should make, in H/s."
        )
        self.temperature = gauge(
            "rigwatch_miner_temperature_celsius",
            "Temperature in degrees Celsius; sensor board (mean of boards), chip, max.",
            "sensor",
        )
        self.fan = gauge("rigwatch_miner_fan_rpm", "Fan speed in rpm, by fan index.", "fan")
        self.power = gauge("rigwatch_miner_power_watts", "Power draw in watts.")
        self.shares = CounterMetricFamily(
            "rigwatch_miner_shares",
            "Shares as the miner counts them (resets when it restarts), by result.",
            labels=[*MINER_LABELS, "result"],
        )
        self.last_seen = gauge(
            "rigwatch_miner_last_seen_timestamp_seconds",
            "Unix time of the miner's last sample.",
        )
        self.farm_hashrate = 0.0
        self.farm_expected = 0.0
        self.farm_power = 0.0
        self.farm_counts = dict.fromkeys(MinerStatus, 0)

    def add(self, m: MinerMetrics) -> None:
        labels = _miner_labels(m)
        online = m.status is not MinerStatus.OFFLINE
        self.farm_counts[m.status] += 1
        self.up.samples.append(Sample("rigwatch_miner_up", labels, 1.0 if online else 0.0))
        status_samples = self.status.samples
        for status in STATUSES:
            status_samples.append(
                Sample(
                    "rigwatch_miner_status",
                    {**labels, "status": status},
                    1.0 if status == m.status else 0.0,
                )
            )
        if m.hashrate_expected_hs is not None:
            self.expected.samples.append(
                Sample("rigwatch_miner_hashrate_expected_hs", labels, m.hashrate_expected_hs)
            )
        share_samples = self.shares.samples
        for result, count in (
            ("accepted", m.accepted),
            ("rejected", m.rejected),
            ("stale", m.stale),
        ):
            if count is not None:
                share_samples.append(
                    Sample(
                        "rigwatch_miner_shares_total", {**labels, "result": result}, float(count)
                    )
                )
        if m.last_sample_ts is not None:
            self.last_seen.samples.append(
                Sample("rigwatch_miner_last_seen_timestamp_seconds", labels, m.last_sample_ts / 1e6)
            )
        hashrate = self.hashrate.samples
        if not online:
            hashrate.append(Sample("rigwatch_miner_hashrate_hs", labels, 0.0))
            return
        if m.hashrate_hs is not None:
            hashrate.append(Sample("rigwatch_miner_hashrate_hs", labels, m.hashrate_hs))
            self.farm_hashrate += m.hashrate_hs
        if m.hashrate_expected_hs is not None:
            self.farm_expected += m.hashrate_expected_hs
        temps = self.temperature.samples
        for sensor, temp in (("board", m.temp_c), ("chip", m.chip_temp_c), ("max", m.temp_max_c)):
            if temp is not None:
                temps.append(
                    Sample("rigwatch_miner_temperature_celsius", {**labels, "sensor": sensor}, temp)
                )
        fans = self.fan.samples
        for index, rpm in enumerate(m.fans_rpm):
            fans.append(Sample("rigwatch_miner_fan_rpm", {**labels, "fan": str(index)}, float(rpm)))
        if m.power_w is not None:
            self.power.samples.append(Sample("rigwatch_miner_power_watts", labels, m.power_w))
            self.farm_power += m.power_w

    def families(self) -> Iterator[Metric]:
        yield from (
            self.up,
            self.status,
            self.hashrate,
            self.expected,
            self.temperature,
            self.fan,
            self.power,
            self.shares,
            self.last_seen,
        )
        yield GaugeMetricFamily(
            "rigwatch_farm_hashrate_hs",
            "Sum of the hashrate of the miners that are not offline, in H/s.",
            value=self.farm_hashrate,
        )
        yield GaugeMetricFamily(
            "rigwatch_farm_hashrate_expected_hs",
            "Sum of the expected hashrate of the miners that are not offline, in H/s.",
            value=self.farm_expected,
        )
        yield GaugeMetricFamily(
            "rigwatch_farm_power_watts",
            "Sum of the power draw of the miners that are not offline, in watts.",
            value=self.farm_power,
        )
        miners = GaugeMetricFamily("rigwatch_farm_miners", "Miners by status.", labels=["status"])
        for status, count in self.farm_counts.items():
            miners.add_metric([str(status)], float(count))
        yield miners


def _commander_families(rw: Commander) -> Iterator[Metric]:
    writer = rw.writer
    yield CounterMetricFamily(
        "rigwatch_ingest_batches", "Ingest batches written to the store.", writer.batches_written
    )
    yield CounterMetricFamily(
        "rigwatch_ingest_rows", "Rows written to the store by ingest.", writer.rows_written
    )
    yield CounterMetricFamily(
        "rigwatch_ingest_failures", "Ingest write transactions that failed.", writer.failures
    )
    yield GaugeMetricFamily(
        "rigwatch_ingest_backlog",
        "Batches queued for the ingest writer, not yet written.",
        value=writer.backlog,
    )
    yield GaugeMetricFamily(
        "rigwatch_stream_clients", "Open live-stream (SSE) connections.", value=rw.hub.clients
    )
    success = GaugeMetricFamily(
        "rigwatch_job_last_success_timestamp_seconds",
        "Unix time the scheduled job last succeeded (absent: never).",
        labels=["job"],
    )
    duration = GaugeMetricFamily(
        "rigwatch_job_last_duration_seconds",
        "How long the job's last run took, in seconds.",
        labels=["job"],
    )
    consecutive = GaugeMetricFamily(
        "rigwatch_job_consecutive_failures",
        "Failed runs of the job since its last success.",
        labels=["job"],
    )
    failing = GaugeMetricFamily(
        "rigwatch_job_failing",
        "1 when the job failed three times in a row or more.",
        labels=["job"],
    )
    runs = CounterMetricFamily(
        "rigwatch_job_runs", "Runs of the job since the commander started.", labels=["job"]
    )
    failures = CounterMetricFamily(
        "rigwatch_job_failures",
        "Failed runs of the job since the commander started.",
        labels=["job"],
    )
    for job in rw.scheduler.statuses():
        name = [job.name]
        if job.last_success is not None:
            success.add_metric(name, job.last_success.timestamp())
        if job.last_duration_s is not None:
            duration.add_metric(name, job.last_duration_s)
        consecutive.add_metric(name, float(job.consecutive_failures))
        failing.add_metric(name, 1.0 if job.failing else 0.0)
        runs.add_metric(name, float(job.runs))
        failures.add_metric(name, float(job.failures))
    yield from (success, duration, consecutive, failing, runs, failures)
    yield _info()


def _info() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "rigwatch_build_info", "The commander's version.", labels=["version"]
    )
    family.add_metric([rigwatch.__version__], 1.0)
    return family


class RigwatchCollector(Collector):
    """Reads the store and the commander on every `collect()` (every scrape)."""

    def __init__(self, source: Callable[[], Commander]) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        rw = self._source()
        started = time.perf_counter()
        now = datetime.now(UTC)
        offline_after_s = rw.settings.offline_after_s
        try:
            miners, sentries = rw.read(
                lambda c: (miner_metrics(c, now, offline_after_s), queries.list_sentries(c))
            )
        except SQLAlchemyError:
            log.exception("metrics: reading the store failed")
            store_up = 0.0
        else:
            store_up = 1.0
            per_miner = _MinerFamilies()
            for m in miners:
                per_miner.add(m)
            yield from per_miner.families()
            seen = GaugeMetricFamily(
                "rigwatch_sentry_last_seen_timestamp_seconds",
                "Unix time the sentry last sent a batch.",
                labels=["site", "sentry"],
            )
            count = GaugeMetricFamily(
                "rigwatch_sentry_miners", "Miners the sentry reports.", labels=["site", "sentry"]
            )
            for s in sentries:
                if s.revoked:
                    continue
                if s.last_seen is not None:
                    seen.add_metric([s.site, s.name], s.last_seen.timestamp())
                count.add_metric([s.site, s.name], float(s.miners))
            yield seen
            yield count
        yield GaugeMetricFamily(
            "rigwatch_store_up", "1 when this scrape could read the store.", value=store_up
        )
        yield from _commander_families(rw)
        yield GaugeMetricFamily(
            "rigwatch_metrics_collect_seconds",
            "Seconds this scrape spent reading the store and building the families.",
            value=time.perf_counter() - started,
        )


def make_registry(source: Callable[[], Commander]) -> CollectorRegistry:
    """A registry of its own per app (never the global one): the rigwatch collector only."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(RigwatchCollector(source))
    return registry


# prometheus-client's float formatting (Go's: +Inf, NaN, 1e+14), untyped upstream.
_go_float: Callable[[float], str] = floatToGoString


def _escape(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def render(registry: CollectorRegistry) -> bytes:
    """The exposition text (format 0.0.4), as `GET /metrics` serves it before compression.

    The same text as prometheus-client's `generate_latest` up to the order of labels
    (the format leaves it free; a test checks that both parse to the same families),
    but each distinct `name="value"` pair is escaped and formatted once per scrape
    instead of once per sample: 10,000 miners share a few dozen makes, models, sites and
    statuses, and each miner's own labels recur on its ~17 series. Four times faster
    than `generate_latest` on the 170,000 series of a 10,000-miner farm.
    """
    out: list[str] = []
    fragments: dict[tuple[str, str], str] = {}
    values: dict[float, str] = {}
    for metric in registry.collect():
        name, kind = metric.name, metric.type
        if kind == "counter":
            name += "_total"
        elif kind not in ("gauge", "untyped"):
            raise ValueError(f"{metric.name}: {kind} families are not rendered here")
        doc = metric.documentation.replace("\\", r"\\").replace("\n", r"\n")
        out.append(f"# HELP {name} {doc}\n# TYPE {name} {kind}\n")
        for sample in metric.samples:
            value = values.get(sample.value)
            if value is None:
                value = values[sample.value] = _go_float(sample.value)
            labels = sample.labels
            if not labels:
                out.append(f"{sample.name} {value}\n")
                continue
            parts = []
            for pair in labels.items():
                fragment = fragments.get(pair)
                if fragment is None:
                    fragment = fragments[pair] = f'{pair[0]}="{_escape(pair[1])}"'
                parts.append(fragment)
            text = ",".join(parts)
            out.append(f"{sample.name}{{{text}}} {value}\n")
    return "".join(out).encode("utf-8")


def _metrics_access(
    request: Request, rw: Annotated[Commander, Depends(commander)]
) -> Principal | None:
    """Open when `metrics_public`, else a viewer or higher (API key or session)."""
    if rw.settings.metrics_public:
        return None
    principal = resolve(request, rw)  # a GET: no CSRF token involved
    if principal is None:
        raise HTTPException(
            http.HTTP_401_UNAUTHORIZED,
            "authentication required: a viewer API key as a bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.role is None or not principal.role.allows(Role.VIEWER):
        raise HTTPException(http.HTTP_403_FORBIDDEN, "needs the viewer role")
    return principal


def mount_metrics(app: FastAPI) -> None:
    """Add `GET /metrics` to the commander app; calling it twice adds it once."""
    if any(isinstance(r, APIRoute) and r.path == PATH for r in app.router.routes):
        return
    registry = make_registry(lambda: app.state.rw)
    router = APIRouter(tags=["system"])

    @router.get(
        PATH,
        response_class=Response,
        responses={
            200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"},
            401: {"description": "No credential (and `metrics_public` is off)"},
            403: {"description": "A credential without the viewer role"},
        },
    )
    def metrics(
        request: Request, _: Annotated[Principal | None, Depends(_metrics_access)]
    ) -> Response:
        """The farm (every miner's latest state, farm totals, sentries) and the commander
        (ingest, queue, live stream, jobs) for Prometheus. Needs a viewer API key as a
        bearer token unless `RIGWATCH_METRICS_PUBLIC` is on."""
        body = render(registry)
        headers = {"Cache-Control": "no-store", "Vary": "Accept-Encoding"}
        if len(body) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        return Response(body, media_type=CONTENT_TYPE, headers=headers)

    app.include_router(router)
