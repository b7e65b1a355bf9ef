"""From a sweep's outcomes to ingest batches: samples, tracker events, size limits.

A sample or event that the ingest contract would reject is dropped here, alone, with a
warning, rather than travelling on and getting its whole batch (up to thousands of
good samples) dead-lettered by the commander.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import ValidationError

from rigwatch.domain.batch import HostReading, P2PoolReading
from rigwatch.domain.models import Event
from rigwatch.protocols.ingest import MAX_EVENTS, EventIn, HostReadingIn, P2PoolStatsIn, SampleIn
from rigwatch.sentry.sweep import PollOutcome
from rigwatch.sentry.tracker import Tracker

logger = logging.getLogger(__name__)

BatchParts = tuple[list[SampleIn], list[EventIn]]


def track(outcomes: Sequence[PollOutcome], tracker: Tracker) -> list[Event]:
    """Feed a sweep to the tracker; the events it causes, in outcome order."""
    events: list[Event] = []
    for o in outcomes:
        if o.result is not None:
            events.extend(tracker.observe_ok(o.result.identity, o.result.sample))
        else:
            events.extend(tracker.observe_miss(o.identity.key, o.ts, str(o.error or "")))
    return events


def to_wire(
    outcomes: Sequence[PollOutcome], events: Sequence[Event]
) -> tuple[list[SampleIn], list[EventIn]]:
    """Wire models for every valid sample and event; invalid ones are logged and dropped."""
    samples: list[SampleIn] = []
    for o in outcomes:
        if o.result is None:
            continue
        try:
            samples.append(SampleIn.from_domain(o.result.identity, o.result.sample))
        except ValidationError as exc:
            logger.warning(
                "dropping a sample of %s the commander would refuse: %s", o.identity.key, exc
            )
    wire_events: list[EventIn] = []
    for e in events:
        try:
            wire_events.append(EventIn.from_domain(e))
        except ValidationError as exc:
            logger.warning("dropping event %s the commander would refuse: %s", e.key, exc)
    return samples, wire_events


def split(
    samples: Sequence[SampleIn], events: Sequence[EventIn], max_samples: int
) -> list[BatchParts]:
    """Cut into batches of at most `max_samples` samples (and MAX_EVENTS events); events
    ride with the first batches. Nothing at all gives no batch."""
    parts: list[BatchParts] = []
    i = j = 0
    while i < len(samples) or j < len(events):
        parts.append((list(samples[i : i + max_samples]), list(events[j : j + MAX_EVENTS])))
        i += max_samples
        j += MAX_EVENTS
    return parts


def local_to_wire(
    hosts: Sequence[HostReading], nodes: Sequence[P2PoolReading]
) -> tuple[list[HostReadingIn], list[P2PoolStatsIn]]:
    """Wire models of host and P2Pool readings; one the commander would refuse is
    logged and dropped alone, like a sample."""
    wire_hosts: list[HostReadingIn] = []
    for h in hosts:
        try:
            wire_hosts.append(HostReadingIn.from_domain(h))
        except ValidationError as exc:
            logger.warning(
                "dropping a reading of host %s the commander would refuse: %s", h.host.key, exc
            )
    wire_nodes: list[P2PoolStatsIn] = []
    for n in nodes:
        try:
            wire_nodes.append(P2PoolStatsIn.from_domain(n))
        except ValidationError as exc:
            logger.warning("dropping a reading of %s the commander would refuse: %s", n.node, exc)
    return wire_hosts, wire_nodes
