"""Alerts, their rules and silences.

Viewers read everything; operators acknowledge alerts and create or delete silences;
admins create, change and delete rules. Every change is audited. Rule params are
checked per kind (domain/alerts.py `PARAMS`): a bad or unknown one is a 422 naming it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.engine import Connection

from rigwatch.commander.auth import RW, Admin, Operator, Viewer
from rigwatch.domain.alerts import (
    MAX_HOLD_S,
    AlertState,
    RuleError,
    RuleKind,
    Scope,
    Severity,
    check_subject,
    validate_params,
    validate_scope,
)
from rigwatch.store import alerts as store
from rigwatch.store import auth as store_auth
from rigwatch.store import jsontext

router = APIRouter(tags=["alerts"])

MAX_SILENCE = timedelta(days=366)


def _unprocessable(exc: RuleError) -> HTTPException:
    errors = [
        {"loc": ["body", *loc.split(".")], "msg": msg, "type": "value_error"}
        for loc, msg in exc.errors
    ]
    return HTTPException(422, {"message": str(exc), "errors": errors})


class RuleIn(BaseModel):
    """A rule: `params` per kind (unknown keys refused); `scope` farm, site:<id>,
    tag:<name> or miner:<id> (the most specific rule of a kind wins for a miner)."""

    model_config = ConfigDict(extra="forbid")

    kind: RuleKind
    scope: Annotated[str, Field(max_length=120)] = "farm"
    params: dict[str, Any] = Field(default_factory=dict)
    severity: Severity = Severity.WARNING
    enabled: bool = True
    hold_s: Annotated[int, Field(ge=0, le=MAX_HOLD_S)] = 0
    recover_s: Annotated[int, Field(ge=0, le=MAX_HOLD_S)] = 0


class RulePatch(BaseModel):
    """The fields to change (the kind stays); `params` replaces the params whole."""

    model_config = ConfigDict(extra="forbid")

    scope: Annotated[str | None, Field(max_length=120)] = None
    params: dict[str, Any] | None = None
    severity: Severity | None = None
    enabled: bool | None = None
    hold_s: Annotated[int | None, Field(ge=0, le=MAX_HOLD_S)] = None
    recover_s: Annotated[int | None, Field(ge=0, le=MAX_HOLD_S)] = None


class SilenceIn(BaseModel):
    """Silence a rule, a subject (miner:12, sentry:3, job:rollups, wallet:2) or one
    rule on one subject, until a time (`until`) or for `minutes`; a reason is required."""

    model_config = ConfigDict(extra="forbid")

    rule_id: Annotated[int | None, Field(ge=1)] = None
    subject: Annotated[str | None, Field(min_length=3, max_length=100)] = None
    until: AwareDatetime | None = None
    minutes: Annotated[float | None, Field(gt=0, le=366 * 24 * 60)] = None
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class RuleConflict(Exception):
    """Another rule of the same kind has this scope already."""


def _checked_scope(
    conn: Connection, kind: RuleKind, text: str, rule_id: int | None = None
) -> Scope:
    scope = validate_scope(kind, text)
    if not store.scope_exists(conn, scope):
        raise RuleError([("scope", f"no {scope.kind} {scope.value}")])
    other = store.rule_with_scope(conn, kind, scope)
    if other is not None and other != rule_id:
        raise RuleConflict(f"rule {other} is the {kind} rule for {scope}; change that one")
    return scope


# ---- rules (declared before /alerts/{alert_id} so "rules" is not read as an id) -----------


@router.get("/alerts/rules", response_model=list[store.RuleView])
def list_rules(_: Viewer, rw: RW) -> list[store.RuleView]:
    """Every rule, with its params' defaults filled in."""
    return rw.read(store.list_rules)


@router.get("/alerts/rules/{rule_id}", response_model=store.RuleView, responses={404: {}})
def get_rule(rule_id: int, _: Viewer, rw: RW) -> store.RuleView:
    found = rw.read(lambda c: store.get_rule(c, rule_id))
    if found is None:
        raise HTTPException(404, f"no alert rule {rule_id}")
    return found


@router.post(
    "/alerts/rules", response_model=store.RuleView, status_code=201, responses={409: {}, 422: {}}
)
def create_rule(body: RuleIn, who: Admin, rw: RW) -> store.RuleView:
    """Add a rule (admin)."""
    now = datetime.now(UTC)

    def change(conn: Connection) -> int:
        params = validate_params(body.kind, body.params)
        scope = _checked_scope(conn, body.kind, body.scope)
        rule_id = store.create_rule(
            conn,
            kind=body.kind,
            scope=scope,
            params=params,
            severity=body.severity,
            enabled=body.enabled,
            hold_s=body.hold_s,
            recover_s=body.recover_s,
            now=now,
        )
        store_auth.audit(
            conn,
            who.name,
            "alert_rule.create",
            f"{rule_id} {body.kind} {scope}",
            jsontext.dumps(body.model_dump(mode="json"))[:2000],
        )
        return rule_id

    try:
        rule_id = rw.change(change)
    except RuleError as exc:
        raise _unprocessable(exc) from None
    except RuleConflict as exc:
        raise HTTPException(409, str(exc)) from None
    found = rw.read(lambda c: store.get_rule(c, rule_id))
    assert found is not None  # noqa: S101 - just created
    return found


@router.put("/alerts/rules/{rule_id}", response_model=store.RuleView, responses={404: {}, 422: {}})
def update_rule(rule_id: int, body: RulePatch, who: Admin, rw: RW) -> store.RuleView:
    """Change a rule (admin). Open alerts of a rule that is disabled, or no longer
    covers their subject, resolve at the next evaluation."""
    now = datetime.now(UTC)
    values = body.model_dump(exclude_unset=True)

    def change(conn: Connection) -> bool:
        current = store.get_rule(conn, rule_id)
        if current is None:
            return False
        out: dict[str, object] = {}
        for name, value in values.items():
            if value is None:
                raise RuleError([(name, "may not be null")])
            if name == "params":
                out[name] = validate_params(current.kind, value)
            elif name == "scope":
                out[name] = _checked_scope(conn, current.kind, value, rule_id)
            else:
                out[name] = value
        store.update_rule(conn, rule_id, now, **out)
        store_auth.audit(
            conn,
            who.name,
            "alert_rule.update",
            f"{rule_id} {current.kind} {current.scope}",
            jsontext.dumps(body.model_dump(mode="json", exclude_unset=True))[:2000],
        )
        return True

    try:
        if not rw.change(change):
            raise HTTPException(404, f"no alert rule {rule_id}")
    except RuleError as exc:
        raise _unprocessable(exc) from None
    except RuleConflict as exc:
        raise HTTPException(409, str(exc)) from None
    found = rw.read(lambda c: store.get_rule(c, rule_id))
    assert found is not None  # noqa: S101 - just updated
    return found


@router.delete("/alerts/rules/{rule_id}", status_code=204, responses={404: {}})
def delete_rule(rule_id: int, who: Admin, rw: RW) -> Response:
    """Delete a rule (admin): its open alerts resolve now, its history stays."""
    now = datetime.now(UTC)

    def change(conn: Connection) -> bool:
        current = store.get_rule(conn, rule_id)
        if current is None:
            return False
        store.delete_rule(conn, rule_id, now)
        store_auth.audit(
            conn, who.name, "alert_rule.delete", f"{rule_id} {current.kind} {current.scope}"
        )
        return True

    if not rw.change(change):
        raise HTTPException(404, f"no alert rule {rule_id}")
    return Response(status_code=204)


# ---- alerts -----------------------------------------------------------------------------------


@router.get("/alerts", response_model=list[store.AlertView], responses={422: {}})
def list_alerts(
    _: Viewer,
    rw: RW,
    state: AlertState | None = None,
    subject: Annotated[str | None, Query(max_length=100)] = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[store.AlertView]:
    """Alerts newest first, optionally of one state or subject; page with `before_id`."""
    return rw.read(
        lambda c: store.list_alerts(
            c, state=state, subject=subject, before_id=before_id, limit=limit
        )
    )


@router.get("/alerts/{alert_id}", response_model=store.AlertView, responses={404: {}})
def get_alert(alert_id: int, _: Viewer, rw: RW) -> store.AlertView:
    found = rw.read(lambda c: store.get_alert(c, alert_id))
    if found is None:
        raise HTTPException(404, f"no alert {alert_id}")
    return found


@router.post("/alerts/{alert_id}/ack", response_model=store.AlertView, responses={404: {}, 409: {}})
def ack_alert(alert_id: int, who: Operator, rw: RW) -> store.AlertView:
    """Acknowledge an open alert (operator): records who and when."""
    now = datetime.now(UTC)

    def change(conn: Connection) -> int:
        current = store.get_alert(conn, alert_id)
        if current is None:
            return 404
        if not store.ack_alert(conn, alert_id, who.name, now):
            return 409
        store_auth.audit(
            conn, who.name, "alert.ack", f"{alert_id} {current.kind} {current.subject}"
        )
        return 200

    outcome = rw.change(change)
    if outcome == 404:
        raise HTTPException(404, f"no alert {alert_id}")
    if outcome == 409:
        raise HTTPException(409, f"alert {alert_id} is resolved")
    found = rw.read(lambda c: store.get_alert(c, alert_id))
    assert found is not None  # noqa: S101 - just acknowledged
    return found


# ---- silences ---------------------------------------------------------------------------------


@router.get("/silences", response_model=list[store.SilenceView])
def list_silences(_: Viewer, rw: RW, active: bool = False) -> list[store.SilenceView]:
    """Silences newest first; `active=true` only those not yet ended."""
    now = datetime.now(UTC)
    return rw.read(lambda c: store.list_silences(c, now, active_only=active))


@router.post("/silences", response_model=store.SilenceView, status_code=201, responses={422: {}})
def create_silence(body: SilenceIn, who: Operator, rw: RW) -> store.SilenceView:
    """Silence alerts (operator): they are still tracked, but nobody is notified."""
    now = datetime.now(UTC)
    try:
        until = _until(body, now)
        subject = None if body.subject is None else check_subject(body.subject)
        if body.rule_id is None and subject is None:
            raise RuleError([("rule_id", "give a rule_id, a subject or both")])
    except RuleError as exc:
        raise _unprocessable(exc) from None

    def change(conn: Connection) -> int:
        if body.rule_id is not None and not store.rule_exists(conn, body.rule_id):
            raise RuleError([("rule_id", f"no alert rule {body.rule_id}")])
        if subject is not None and not store.subjects_exist(conn, subject):
            raise RuleError([("subject", f"no {subject}")])
        silence_id = store.create_silence(
            conn,
            rule_id=body.rule_id,
            subject=subject,
            until=until,
            reason=body.reason,
            created_by=who.name,
            now=now,
        )
        store_auth.audit(
            conn,
            who.name,
            "silence.create",
            f"{silence_id} rule={body.rule_id} subject={subject} until={until.isoformat()}",
            body.reason,
        )
        return silence_id

    try:
        silence_id = rw.change(change)
    except RuleError as exc:
        raise _unprocessable(exc) from None
    found = rw.read(lambda c: store.get_silence(c, silence_id, now))
    assert found is not None  # noqa: S101 - just created
    return found


def _until(body: SilenceIn, now: datetime) -> datetime:
    if (body.until is None) == (body.minutes is None):
        raise RuleError([("until", "give either until or minutes")])
    until = body.until if body.until is not None else now + timedelta(minutes=body.minutes or 0)
    until = until.astimezone(UTC)
    if until <= now:
        raise RuleError([("until", "must be in the future")])
    if until - now > MAX_SILENCE:
        raise RuleError([("until", "may be at most 366 days ahead")])
    return until


@router.delete("/silences/{silence_id}", status_code=204, responses={404: {}})
def delete_silence(silence_id: int, who: Operator, rw: RW) -> Response:
    """End a silence now (operator): its row is removed; the audit log keeps it."""

    def change(conn: Connection) -> bool:
        if not store.delete_silence(conn, silence_id):
            return False
        store_auth.audit(conn, who.name, "silence.delete", str(silence_id))
        return True

    if not rw.change(change):
        raise HTTPException(404, f"no silence {silence_id}")
    return Response(status_code=204)
