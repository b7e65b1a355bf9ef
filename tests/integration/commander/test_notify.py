"""Notifications against real local servers: an SMTP server (aiosmtpd, STARTTLS with a
certificate made here, AUTH LOGIN / PLAIN) and HTTP receivers on loopback standing in for
Telegram, Discord, ntfy and a webhook. Alert events are inserted into `events` as the
alert engine writes them; the job runs with a fake `now`. Loopback addresses only."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import hmac
import ipaddress
import itertools
import json
import ssl
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from rigwatch.commander.notify.dispatch import (
    JOB_NAME,
    NotifyFailed,
    Options,
    notify_job,
    run_notify,
)
from rigwatch.config import Settings
from rigwatch.domain.history import Snapshot, SnapshotRevenue
from rigwatch.domain.models import Role
from rigwatch.domain.notify import (
    ChannelKind,
    DeliveryState,
    Filters,
    QuietHours,
    Schedule,
    Severity,
    parse_hhmm,
)
from rigwatch.domain.profit import Basis
from rigwatch.store import auth as store_auth
from rigwatch.store import notify as store
from rigwatch.store.engine import make_engine, upgrade
from rigwatch.store.snapshots import store_snapshot
from rigwatch.store.tables import audit_log, events, miners, notifications, notify_state, sites
from rigwatch.store.timestamps import to_us
from tests.helpers import RunningCommander, api_client, free_port, serving
from tests.replay import Hit, ReplayServer, Reply

T0 = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
BOT_TOKEN = "123456789:AAH-test-token_abcdefghijklmnopqrstu"
WEBHOOK_SECRET = "s3cret-webhook-key"
SMTP_USER, SMTP_PASSWORD = "rigwatch", "smtp-pass-9"
PUBLIC = "https://rigs.example.test"
_keys = itertools.count(1)


# ---- fixtures and helpers --------------------------------------------------------------


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def receiver() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False) as c:
        yield c


@dataclasses.dataclass
class Farm:
    north_site: int
    south_site: int
    north_miner: int
    south_miner: int
    north_sentry: int


@pytest.fixture
def farm(engine: Engine) -> Farm:
    with engine.begin() as conn:
        north_sentry, _ = store_auth.create_sentry(conn, "north-1", site="north")
        south_sentry, _ = store_auth.create_sentry(conn, "south-1", site="south")
        ids: dict[str, int] = {}
        for name, sentry, tags in (
            ("north", north_sentry, []),
            ("south", south_sentry, ["immersion", "s19"]),
        ):
            ids[name] = conn.execute(
                insert(miners)
                .values(
                    sentry_id=sentry,
                    key=f"aa:bb:cc:00:00:0{len(ids) + 1}",
                    kind="asic",
                    worker=f"{name}-rig-07",
                    tags=json.dumps(tags),
                    first_seen=to_us(T0 - timedelta(days=3)),
                )
                .returning(miners.c.id)
            ).scalar_one()
        site_ids = {r.name: int(r.id) for r in conn.execute(select(sites.c.name, sites.c.id))}
    return Farm(site_ids["north"], site_ids["south"], ids["north"], ids["south"], north_sentry)


def alert_event(
    engine: Engine,
    kind: str = "alert_fired",
    *,
    ts: datetime = T0,
    severity: str = "warning",
    miner_id: int | None = None,
    sentry_id: int | None = None,
    subject: str | None = None,
    rule: str = "temp_high",
    value: Any = 92.5,
    message: str = "chip temperature 92.5 °C above 85 °C",
    event_id: int | None = None,
    silenced: bool = False,
) -> int:
    """An event as the alert engine appends it."""
    subject = subject or (f"miner:{miner_id}" if miner_id is not None else "job:pool_sync")
    data = {
        "alert_id": next(_keys),
        "rule": rule,
        "rule_kind": rule,
        "subject": subject,
        "severity": severity,
        "value": value,
        "message": message,
        "silenced": silenced,
    }
    values: dict[str, Any] = {
        "ts": to_us(ts),
        "kind": kind,
        "key": f"alert:{data['alert_id']}:{kind}:{to_us(ts)}",
        "sentry_id": sentry_id,
        "miner_id": miner_id,
        "message": message,
        "data": json.dumps(data),
    }
    if event_id is not None:
        values["id"] = event_id
    with engine.begin() as conn:
        return int(
            conn.execute(insert(events).values(**values).returning(events.c.id)).scalar_one()
        )


def add_channel(
    engine: Engine,
    kind: ChannelKind,
    config: dict[str, Any],
    *,
    name: str | None = None,
    filters: Filters | None = None,
    timezone: str = "UTC",
    quiet: tuple[str, str] | None = None,
    digest_minutes: int = 0,
    summary_at: str | None = None,
    created: datetime = T0 - timedelta(days=2),
) -> int:
    schedule = Schedule(
        timezone=timezone,
        quiet_hours=None
        if quiet is None
        else QuietHours(parse_hhmm(quiet[0]), parse_hhmm(quiet[1])),
        digest_minutes=digest_minutes,
        daily_summary_at=None if summary_at is None else parse_hhmm(summary_at),
    )
    with engine.begin() as conn:
        return store.add_channel(
            conn,
            kind=kind,
            name=name or f"{kind}-{next(_keys)}",
            config=config,
            filters=filters or Filters(),
            schedule=schedule,
            enabled=True,
            now=created,
        )


def webhook(engine: Engine, receiver: ReplayServer, path: str = "/hook", **kw: Any) -> int:
    receiver.route(path, body=b"ok", content_type="text/plain")
    return add_channel(
        engine, ChannelKind.WEBHOOK, {"url": receiver.url + path, "secret": WEBHOOK_SECRET}, **kw
    )


OPTS = Options(
    public_url=PUBLIC, timeout_s=5.0, max_attempts=3, backoff_s=30.0, backoff_max_s=600.0
)


def run(engine: Engine, client: httpx.Client, now: datetime, opts: Options = OPTS) -> str:
    return run_notify(engine, now, opts, client=client).detail


def hits(receiver: ReplayServer, path: str) -> list[Hit]:
    return [h for h in receiver.requests if h.path == path]


def bodies(receiver: ReplayServer, path: str) -> list[dict[str, Any]]:
    return [json.loads(h.body) for h in hits(receiver, path)]


def channel(engine: Engine, channel_id: int) -> store.ChannelRecord:
    with engine.connect() as conn:
        found = store.get_channel(conn, channel_id)
    assert found is not None
    return found


def outbox(engine: Engine, channel_id: int) -> list[store.NotificationRecord]:
    with engine.connect() as conn:
        return list(reversed(store.list_notifications(conn, channel_id=channel_id)))


# ---- each service gets the exact request it expects -------------------------------------


def test_webhook_gets_signed_json_whose_hmac_verifies(engine, farm, receiver, client):
    chan = webhook(engine, receiver)
    event = alert_event(engine, severity="critical", miner_id=farm.south_miner)
    run(engine, client, T0)

    [hit] = hits(receiver, "/hook")
    assert hit.method == "POST"
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["x-rigwatch-timestamp"] == str(int(T0.timestamp()))
    expected = hmac.new(WEBHOOK_SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.headers["x-rigwatch-signature"] == f"sha256={expected}"
    body = json.loads(hit.body)
    assert body["version"] == 1 and body["kind"] == "firing" and body["severity"] == "critical"
    assert body["sent_at"] == int(T0.timestamp())
    assert body["link"] == f"{PUBLIC}/miners/{farm.south_miner}"
    assert (
        body["title"] == f"[CRITICAL] Firing: temp_high on miner:{farm.south_miner} (south-rig-07)"
    )
    notice = body["notice"]
    assert (notice["event_id"], notice["subject"], notice["value"]) == (
        event,
        f"miner:{farm.south_miner}",
        92.5,
    )
    assert (notice["site"], notice["site_id"], notice["tags"]) == (
        "south",
        farm.south_site,
        ["immersion", "s19"],
    )
    assert notice["message"] == "chip temperature 92.5 °C above 85 °C"
    assert "Time: 2025-03-14 12:00:00 UTC" in body["text"]
    [row] = outbox(engine, chan)
    assert (row.state, row.attempts, row.sent_at) == (DeliveryState.SENT, 1, T0)
    assert channel(engine, chan).last_success_at == T0


def test_a_webhook_without_a_secret_is_not_signed(engine, farm, receiver, client):
    receiver.route("/plain", body=b"")
    add_channel(engine, ChannelKind.WEBHOOK, {"url": receiver.url + "/plain"})
    alert_event(engine, miner_id=farm.north_miner)
    run(engine, client, T0)
    [hit] = hits(receiver, "/plain")
    assert "x-rigwatch-signature" not in hit.headers
    assert "x-rigwatch-timestamp" in hit.headers


def test_telegram_gets_send_message_with_chat_id_html_text_and_parse_mode(
    engine, farm, receiver, client
):
    path = f"/bot{BOT_TOKEN}/sendMessage"
    receiver.route(path, body=b'{"ok":true,"result":{"message_id":7}}')
    add_channel(
        engine,
        ChannelKind.TELEGRAM,
        {"token": BOT_TOKEN, "chat_id": "-1001234567890", "base_url": receiver.url},
        timezone="Europe/Berlin",
    )
    alert_event(engine, miner_id=farm.north_miner, message="fan <0> rpm & stalled")
    run(engine, client, T0)

    [hit] = hits(receiver, path)
    assert hit.method == "POST" and hit.headers["content-type"] == "application/json"
    body = json.loads(hit.body)
    assert set(body) == {"chat_id", "text", "parse_mode", "disable_web_page_preview"}
    assert body["chat_id"] == "-1001234567890" and body["parse_mode"] == "HTML"
    text = body["text"]
    assert text.startswith(f"<b>[WARNING] Firing: temp_high on miner:{farm.north_miner}")
    assert "fan &lt;0&gt; rpm &amp; stalled" in text  # escaped for parse_mode HTML
    assert "Time: 2025-03-14 13:00:00 CET" in text  # the channel's timezone
    assert f'<a href="{PUBLIC}/miners/{farm.north_miner}">' in text


def test_telegram_saying_not_ok_is_a_failure(engine, farm, receiver, client):
    path = f"/bot{BOT_TOKEN}/sendMessage"
    receiver.route(path, status=400, body=b'{"ok":false,"description":"chat not found"}')
    chan = add_channel(
        engine,
        ChannelKind.TELEGRAM,
        {"token": BOT_TOKEN, "chat_id": "42", "base_url": receiver.url},
        name="tg",
    )
    alert_event(engine, miner_id=farm.north_miner)
    with pytest.raises(NotifyFailed, match="tg: telegram sendMessage: HTTP 400"):
        run(engine, client, T0)
    state = channel(engine, chan)
    assert state.consecutive_failures == 1 and "chat not found" in (state.last_error or "")
    assert BOT_TOKEN not in (state.last_error or "")


def test_discord_gets_content_and_an_embed_with_mentions_off(engine, farm, receiver, client):
    receiver.route("/api/webhooks/1/tok", status=204)
    add_channel(
        engine,
        ChannelKind.DISCORD,
        {"webhook_url": receiver.url + "/api/webhooks/1/tok", "username": "rigwatch"},
    )
    alert_event(
        engine, "alert_resolved", severity="critical", miner_id=farm.north_miner, value=71.0
    )
    run(engine, client, T0)

    [hit] = hits(receiver, "/api/webhooks/1/tok")
    assert hit.method == "POST" and hit.headers["content-type"] == "application/json"
    body = json.loads(hit.body)
    assert set(body) == {"content", "embeds", "allowed_mentions", "username"}
    assert (
        body["content"]
        == f"[CRITICAL] Resolved: temp_high on miner:{farm.north_miner} (north-rig-07)"
    )
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == body["content"] and embed["color"] == 0x2ECC71
    assert embed["url"] == f"{PUBLIC}/miners/{farm.north_miner}"
    assert embed["timestamp"] == T0.isoformat()
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert (
        fields["Value"] == "71" and fields["Severity"] == "critical" and fields["Site"] == "north"
    )


def test_ntfy_gets_title_priority_tags_and_click_headers(engine, farm, receiver, client):
    receiver.route("/rig-alerts", body=b'{"id":"x"}')
    add_channel(
        engine,
        ChannelKind.NTFY,
        {"topic": "rig-alerts", "base_url": receiver.url, "token": "tk_abc"},
    )
    with engine.begin() as conn:
        conn.execute(
            miners.update().where(miners.c.id == farm.north_miner).values(worker="grüne-07")
        )
    alert_event(engine, severity="critical", miner_id=farm.north_miner)
    run(engine, client, T0)

    [hit] = hits(receiver, "/rig-alerts")
    assert hit.method == "POST"
    title = str(make_header(decode_header(hit.headers["title"])))  # RFC 2047, as ntfy decodes
    assert title == f"[CRITICAL] Firing: temp_high on miner:{farm.north_miner} (grüne-07)"
    assert hit.headers["priority"] == "5"
    assert hit.headers["tags"] == "rotating_light,firing"
    assert hit.headers["click"] == f"{PUBLIC}/miners/{farm.north_miner}"
    assert hit.headers["authorization"] == "Bearer tk_abc"
    text = hit.body.decode("utf-8")
    assert text.startswith("chip temperature 92.5 °C above 85 °C\n")
    assert "Site: north" in text


# ---- e-mail through a real SMTP server with STARTTLS and login ---------------------------


@dataclasses.dataclass
class Mailbox:
    port: int
    ca_pem: str
    received: list[tuple[str, list[str], bytes, bool]]
    mechanisms: list[str]


def _certificate(directory: Path) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "rigwatch test smtp")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem.decode()


@pytest.fixture(params=["PLAIN", "LOGIN"])
def mailbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Mailbox]:
    """An SMTP server on loopback that requires STARTTLS before AUTH, offering only
    `request.param` as the login mechanism."""
    cert_path, key_path, pem = _certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_path, key_path)
    box = Mailbox(free_port(), pem, [], [])

    class Handler:
        async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
            content = envelope.content if isinstance(envelope.content, bytes) else b""
            box.received.append(
                (str(envelope.mail_from), list(envelope.rcpt_tos), content, session.ssl is not None)
            )
            return "250 OK"

    def authenticator(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        box.mechanisms.append(mechanism)
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login,
            auth_data.password,
        ) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
        return AuthResult(success=ok, handled=False)

    other = "LOGIN" if request.param == "PLAIN" else "PLAIN"
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=box.port,
        tls_context=tls,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=authenticator,
        auth_exclude_mechanism=[other],
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def smtp_config(box: Mailbox, **overrides: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": box.port,
        "username": SMTP_USER,
        "password": SMTP_PASSWORD,
        "from_addr": "rigwatch@farm.test",
        "to": ["ops@farm.test", "night@farm.test"],
        "ca_pem": box.ca_pem,
        **overrides,
    }


def test_email_goes_out_over_starttls_after_login(
    engine, farm, mailbox: Mailbox, client, request: pytest.FixtureRequest
):
    chan = add_channel(engine, ChannelKind.EMAIL, smtp_config(mailbox))
    alert_event(engine, severity="critical", miner_id=farm.south_miner)
    run(engine, client, T0)

    [(sender, rcpts, content, over_tls)] = mailbox.received
    assert over_tls, "the message went before STARTTLS"
    assert mailbox.mechanisms == [request.node.callspec.params["mailbox"]]
    assert sender == "rigwatch@farm.test" and rcpts == ["ops@farm.test", "night@farm.test"]
    mail = email.message_from_bytes(content, policy=email.policy.default)
    assert mail["Subject"] == (
        f"[CRITICAL] Firing: temp_high on miner:{farm.south_miner} (south-rig-07)"
    )
    assert mail["To"] == "ops@farm.test, night@farm.test"
    assert mail["X-Rigwatch-Severity"] == "critical"
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "chip temperature 92.5 °C above 85 °C" in text
    assert f"Dashboard: {PUBLIC}/miners/{farm.south_miner}" in text
    assert channel(engine, chan).consecutive_failures == 0


def test_a_wrong_smtp_password_or_an_untrusted_certificate_fails_the_channel(
    engine, farm, mailbox: Mailbox, client
):
    bad_login = add_channel(engine, ChannelKind.EMAIL, smtp_config(mailbox, password="nope"))
    untrusted = add_channel(engine, ChannelKind.EMAIL, smtp_config(mailbox, ca_pem=None))
    alert_event(engine, miner_id=farm.north_miner)
    with pytest.raises(NotifyFailed):
        run(engine, client, T0)
    assert mailbox.received == []
    assert "login refused (535)" in (channel(engine, bad_login).last_error or "")
    assert "nope" not in (channel(engine, bad_login).last_error or "")
    assert "TLS failed" in (channel(engine, untrusted).last_error or "")


# ---- what is sent, to whom, when ---------------------------------------------------------


def test_resolved_and_flapping_notices_say_so(engine, farm, receiver, client):
    webhook(engine, receiver)
    alert_event(engine, "alert_flapping", miner_id=farm.north_miner, ts=T0)
    alert_event(engine, "alert_resolved", miner_id=farm.north_miner, ts=T0, value=None)
    run(engine, client, T0)
    got = bodies(receiver, "/hook")
    assert [b["kind"] for b in got] == ["flapping", "resolved"]
    assert got[0]["title"].startswith("[WARNING] Flapping: temp_high")
    assert got[1]["title"].startswith("[WARNING] Resolved: temp_high")
    assert "Value: —" in got[1]["text"]


def test_routing_by_severity_site_and_tag(engine, farm, receiver, client):
    only_critical = webhook(engine, receiver, "/critical", filters=Filters(Severity.CRITICAL))
    only_north = webhook(engine, receiver, "/north", filters=Filters(sites=(farm.north_site,)))
    only_immersion = webhook(engine, receiver, "/immersion", filters=Filters(tags=("immersion",)))
    warning_up = webhook(engine, receiver, "/all", filters=Filters(Severity.WARNING))
    south_warning = alert_event(engine, severity="warning", miner_id=farm.south_miner)
    north_critical = alert_event(engine, severity="critical", miner_id=farm.north_miner)
    job_info = alert_event(engine, severity="info", subject="job:pool_sync", rule="job_failing")
    sentry_warning = alert_event(
        engine, severity="warning", sentry_id=farm.north_sentry, subject="sentry:1", rule="silent"
    )
    run(engine, client, T0)

    def got(path: str) -> list[int]:
        return [b["notice"]["event_id"] for b in bodies(receiver, path)]

    assert got("/critical") == [north_critical]
    assert got("/north") == [north_critical, sentry_warning]
    assert got("/immersion") == [south_warning]
    assert got("/all") == [south_warning, north_critical, sentry_warning]
    assert job_info not in got("/all")
    assert {only_critical, only_north, only_immersion, warning_up}


def test_silenced_notices_are_not_sent(engine, farm, receiver, client):
    webhook(engine, receiver)
    alert_event(engine, miner_id=farm.north_miner, silenced=True)
    run(engine, client, T0)
    assert hits(receiver, "/hook") == []


def test_quiet_hours_hold_all_but_critical_until_they_end_in_the_channels_zone(
    engine, farm, receiver, client
):
    # 22:00-07:00 in Berlin (CET, UTC+1 in March): 23:30 local is 22:30 UTC.
    chan = webhook(engine, receiver, timezone="Europe/Berlin", quiet=("22:00", "07:00"))
    night = datetime(2025, 3, 14, 22, 30, tzinfo=UTC)
    alert_event(engine, severity="warning", miner_id=farm.north_miner, ts=night)
    alert_event(engine, severity="critical", miner_id=farm.south_miner, ts=night)
    run(engine, client, night)
    assert [b["severity"] for b in bodies(receiver, "/hook")] == ["critical"]
    held = [r for r in outbox(engine, chan) if r.state is DeliveryState.HELD]
    assert [r.next_try_at for r in held] == [datetime(2025, 3, 15, 6, 0, tzinfo=UTC)]

    run(engine, client, datetime(2025, 3, 15, 5, 59, tzinfo=UTC))
    assert len(hits(receiver, "/hook")) == 1
    run(engine, client, datetime(2025, 3, 15, 6, 0, tzinfo=UTC))
    assert [b["severity"] for b in bodies(receiver, "/hook")] == ["critical", "warning"]


def test_digest_collects_for_n_minutes_then_sends_one_message(engine, farm, receiver, client):
    chan = webhook(engine, receiver, digest_minutes=15)
    for minutes in (0, 1, 5):
        at = T0 + timedelta(minutes=minutes)
        alert_event(engine, severity="warning", miner_id=farm.north_miner, ts=at)
        run(engine, client, at)
    urgent = alert_event(engine, severity="critical", miner_id=farm.south_miner, ts=T0)
    run(engine, client, T0 + timedelta(minutes=6))
    assert [b["notice"]["event_id"] for b in bodies(receiver, "/hook")] == [urgent]
    run(engine, client, T0 + timedelta(minutes=14, seconds=59))
    assert len(hits(receiver, "/hook")) == 1

    run(engine, client, T0 + timedelta(minutes=15))
    digest = bodies(receiver, "/hook")[1]
    assert digest["kind"] == "digest" and digest["digest"]["count"] == 3
    assert digest["title"] == "rigwatch digest: 3 notices (3 firing)"
    assert digest["text"].count("[WARNING] Firing: temp_high") == 3
    states = [r.state for r in outbox(engine, chan)]
    assert states.count(DeliveryState.FOLDED) == 3 and states.count(DeliveryState.SENT) == 2
    run(engine, client, T0 + timedelta(minutes=40))
    assert len(hits(receiver, "/hook")) == 2


def test_notices_held_over_quiet_hours_are_folded_into_the_digest(engine, farm, receiver, client):
    webhook(engine, receiver, timezone="UTC", quiet=("22:00", "06:00"), digest_minutes=10)
    night = datetime(2025, 3, 14, 23, 0, tzinfo=UTC)
    alert_event(engine, severity="warning", miner_id=farm.north_miner, ts=night)
    alert_event(engine, "alert_resolved", severity="info", miner_id=farm.south_miner, ts=night)
    run(engine, client, night)
    run(engine, client, night + timedelta(minutes=30))  # the digest window closed, still quiet
    assert hits(receiver, "/hook") == []
    run(engine, client, datetime(2025, 3, 15, 6, 0, tzinfo=UTC))
    [digest] = bodies(receiver, "/hook")
    assert digest["kind"] == "digest"
    assert [i["kind"] for i in digest["digest"]["items"]] == ["firing", "resolved"]


def test_the_daily_summary_goes_once_at_the_chosen_local_time(engine, farm, receiver, client):
    # 08:00 in New York is 12:00 UTC on 2025-03-14 (EDT since March 9): it summarises the
    # last complete UTC day, 2025-03-13.
    chan = webhook(engine, receiver, timezone="America/New_York", summary_at="08:00")
    day = date(2025, 3, 13)
    with engine.begin() as conn:
        store_snapshot(
            conn,
            Snapshot(
                day=day,
                taken_at=T0 - timedelta(hours=11),
                hashrate_mean_hs=1.1e15,
                expected_mean_hs=1.2e15,
                power_mean_w=30_000.0,
                energy_kwh=720.0,
                efficiency_j_th=27.3,
                uptime_pct=98.5,
                miners_total=10,
                miners_online=9,
                miners_warning=0,
                miners_offline=1,
                accepted=123_456,
                rejected=789,
                shares_found=5,
                blocks_found=0,
                revenue=SnapshotRevenue.of(52_000, Basis.ACTUAL, price=80_000.0),
            ),
        )
    yesterday = datetime(2025, 3, 13, 15, 0, tzinfo=UTC)
    alert_event(engine, severity="critical", miner_id=farm.north_miner, ts=yesterday)
    alert_event(engine, severity="warning", miner_id=farm.north_miner, ts=yesterday)
    alert_event(engine, "alert_resolved", miner_id=farm.north_miner, ts=yesterday)

    run(engine, client, datetime(2025, 3, 14, 11, 59, tzinfo=UTC))
    assert [b["kind"] for b in bodies(receiver, "/hook")] == []
    run(engine, client, T0)
    run(engine, client, T0 + timedelta(minutes=10))
    [summary] = bodies(receiver, "/hook")
    assert summary["kind"] == "summary"
    assert summary["title"] == "rigwatch daily summary for 2025-03-13"
    figures = summary["summary"]
    assert figures["day"] == "2025-03-13" and figures["slot"] == "2025-03-14T08:00:00-04:00"
    assert (figures["hashrate_mean_hs"], figures["uptime_pct"]) == (1.1e15, 98.5)
    assert (figures["accepted"], figures["rejected"]) == (123_456, 789)
    assert figures["revenue"]["sat"] == 52_000 and figures["revenue"]["basis"] == "actual"
    assert figures["alerts"]["fired"] == 2 and figures["alerts"]["resolved"] == 1
    assert figures["alerts"]["by_severity"] == {"info": 0, "warning": 1, "critical": 1}
    text = summary["text"]
    assert "Hashrate: 1.10 PH/s (expected 1.20 PH/s)" in text
    assert "Uptime: 98.5 %" in text
    assert "Shares: 123,456 accepted, 789 rejected" in text
    assert "Revenue: 52,000 sat (actual) ≈ 41.60 USD" in text
    assert "Alerts: 2 fired (critical 1, warning 1, info 0), 1 resolved" in text
    # the next day, once more
    run(engine, client, T0 + timedelta(days=1))
    assert [b["kind"] for b in bodies(receiver, "/hook")] == ["summary", "summary"]
    assert len([r for r in outbox(engine, chan) if r.kind == "summary"]) == 2


def test_a_500_is_retried_with_backoff_until_it_succeeds(engine, farm, receiver, client):
    receiver.sequence(
        "/flaky",
        [Reply(500, b"boom"), Reply(502, b"bad gateway"), Reply(200, b"ok")],
    )
    chan = add_channel(engine, ChannelKind.WEBHOOK, {"url": receiver.url + "/flaky"})
    alert_event(engine, miner_id=farm.north_miner)
    with pytest.raises(NotifyFailed):
        run(engine, client, T0)
    [row] = outbox(engine, chan)
    assert (row.state, row.attempts, row.next_try_at) == (
        DeliveryState.PENDING,
        1,
        T0 + timedelta(seconds=30),
    )
    assert channel(engine, chan).consecutive_failures == 1
    assert channel(engine, chan).last_error == "webhook: HTTP 500: boom"

    run(engine, client, T0 + timedelta(seconds=29))
    assert len(hits(receiver, "/flaky")) == 1
    with pytest.raises(NotifyFailed):
        run(engine, client, T0 + timedelta(seconds=30))
    [row] = outbox(engine, chan)
    assert row.next_try_at == T0 + timedelta(seconds=90)  # 30 s, then 60 s
    run(engine, client, T0 + timedelta(seconds=90))
    [row] = outbox(engine, chan)
    assert (row.state, row.attempts, row.last_error) == (DeliveryState.SENT, 3, None)
    state = channel(engine, chan)
    assert (state.consecutive_failures, state.last_error) == (0, None)
    assert state.last_success_at == T0 + timedelta(seconds=90)
    assert len(hits(receiver, "/flaky")) == 3


def test_attempts_are_bounded(engine, farm, receiver, client):
    receiver.route("/down", status=503, body=b"", headers={"Retry-After": "45"})
    chan = add_channel(engine, ChannelKind.WEBHOOK, {"url": receiver.url + "/down"})
    alert_event(engine, miner_id=farm.north_miner)
    now = T0
    for _ in range(3):
        with pytest.raises(NotifyFailed):
            run(engine, client, now)
        now += timedelta(hours=1)
    [row] = outbox(engine, chan)
    assert (row.state, row.attempts) == (DeliveryState.FAILED, 3)
    run(engine, client, now + timedelta(days=1))
    assert len(hits(receiver, "/down")) == 3
    assert channel(engine, chan).consecutive_failures == 3


def test_retry_after_is_honoured_when_longer_than_the_backoff(engine, farm, receiver, client):
    receiver.sequence("/slow-down", [Reply(429, b"", headers={"Retry-After": "120"}), Reply(200)])
    chan = add_channel(engine, ChannelKind.WEBHOOK, {"url": receiver.url + "/slow-down"})
    alert_event(engine, miner_id=farm.north_miner)
    with pytest.raises(NotifyFailed):
        run(engine, client, T0)
    assert outbox(engine, chan)[0].next_try_at == T0 + timedelta(seconds=120)


def test_an_event_is_notified_once_per_channel_even_when_the_job_runs_twice(
    engine, farm, receiver, client
):
    webhook(engine, receiver, "/a")
    webhook(engine, receiver, "/b")
    alert_event(engine, miner_id=farm.north_miner)
    run(engine, client, T0)
    run(engine, client, T0)
    with engine.begin() as conn:  # forget the watermark: everything is read again
        conn.execute(notify_state.delete())
    run(engine, client, T0 + timedelta(seconds=1))
    assert len(hits(receiver, "/a")) == 1 and len(hits(receiver, "/b")) == 1
    with engine.connect() as conn:
        assert len(conn.execute(select(notifications.c.id)).all()) == 2


def test_an_event_committed_below_the_watermark_is_still_routed(engine, farm, receiver, client):
    webhook(engine, receiver)
    alert_event(engine, miner_id=farm.north_miner, event_id=1000)
    run(engine, client, T0)
    # PostgreSQL hands out ids before commit: id 900 can commit after 1000 was read.
    late = alert_event(engine, miner_id=farm.south_miner, event_id=900)
    run(engine, client, T0 + timedelta(seconds=10))
    assert [b["notice"]["event_id"] for b in bodies(receiver, "/hook")] == [1000, late]


def test_old_events_are_passed_over(engine, farm, receiver, client):
    webhook(engine, receiver)
    alert_event(engine, miner_id=farm.north_miner, ts=T0 - timedelta(days=1))
    run(engine, client, T0)
    assert hits(receiver, "/hook") == []


def test_the_job_fails_only_when_every_channel_it_tried_failed(engine, farm, receiver, client):
    receiver.route("/broken", status=500)
    add_channel(engine, ChannelKind.WEBHOOK, {"url": receiver.url + "/broken"}, name="broken")
    webhook(engine, receiver, "/fine", name="fine")
    alert_event(engine, miner_id=farm.north_miner)
    alert_event(engine, miner_id=farm.south_miner)
    detail = run(engine, client, T0)
    assert "2 sent" in detail and "failing: broken: webhook: HTTP 500" in detail
    assert len(hits(receiver, "/broken")) == 1  # no second try in the same run
    assert len(hits(receiver, "/fine")) == 2


# ---- the API ------------------------------------------------------------------------------


@pytest.fixture
def rc(tmp_path: Path, db_url: str, receiver: ReplayServer) -> Iterator[RunningCommander]:
    """A commander with the notify job (run only on request); Telegram's and ntfy's
    public services are the loopback receiver."""
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        telegram_url=receiver.url,
        ntfy_url=receiver.url,
        public_url=PUBLIC,
        notify_backoff_s=30.0,
    )
    job = dataclasses.replace(notify_job(settings), every_s=3600.0, first_after_s=3600.0)
    with serving(settings, [job]) as running:
        yield running


def test_only_admins_manage_channels_and_secrets_never_come_back(rc: RunningCommander, receiver):
    body = {
        "kind": "telegram",
        "name": "night shift",
        "config": {"token": BOT_TOKEN, "chat_id": "-100200"},
        "filters": {"min_severity": "warning", "tags": ["immersion"]},
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "timezone": "Europe/Berlin",
        "daily_summary_at": "08:30",
    }
    with (
        api_client(rc, Role.ADMIN) as admin,
        api_client(rc, Role.OPERATOR) as operator,
        api_client(rc, None) as anonymous,
    ):
        assert anonymous.get("/api/v1/channels").status_code == 401
        assert operator.get("/api/v1/channels").status_code == 403
        assert operator.post("/api/v1/channels", json=body).status_code == 403
        assert operator.get("/api/v1/notifications").status_code == 403

        created = admin.post("/api/v1/channels", json=body)
        assert created.status_code == 201, created.text
        chan = created.json()
        assert chan["config"] == {
            "token": "********",
            "chat_id": "-100200",
            "base_url": receiver.url,  # the setting's default, stored with the channel
        }
        assert (chan["quiet_hours"], chan["daily_summary_at"]) == (
            {"start": "22:00", "end": "07:00"},
            "08:30",
        )
        assert (chan["consecutive_failures"], chan["last_error"], chan["failing"]) == (
            0,
            None,
            False,
        )
        assert admin.post("/api/v1/channels", json=body).status_code == 409
        assert BOT_TOKEN not in admin.get("/api/v1/channels").text

        # an update that sends the mask back (or leaves the secret out) keeps the secret
        changed = admin.put(
            f"/api/v1/channels/{chan['id']}",
            json={**body, "name": "nights", "config": {"token": "********", "chat_id": "-100201"}},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["config"]["token"] == "********"
        with rc.engine.connect() as conn:
            stored = store.get_channel(conn, chan["id"])
        assert stored is not None and stored.config["token"] == BOT_TOKEN
        assert stored.config["chat_id"] == "-100201" and stored.name == "nights"

        assert operator.delete(f"/api/v1/channels/{chan['id']}").status_code == 403
        assert admin.delete(f"/api/v1/channels/{chan['id']}").status_code == 204
        assert admin.get(f"/api/v1/channels/{chan['id']}").status_code == 404
    with rc.engine.connect() as conn:
        audit = conn.execute(
            select(audit_log.c.action, audit_log.c.target, audit_log.c.detail)
        ).all()
    actions = [a.action for a in audit]
    assert actions.count("channel.add") == 1 and actions.count("channel.update") == 1
    assert actions.count("channel.delete") == 1
    assert all(BOT_TOKEN not in f"{a.target} {a.detail}" for a in audit)


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "pager", "name": "x", "config": {}},
        {"kind": "webhook", "name": "x", "config": {"url": "ftp://127.0.0.1/x"}},
        {"kind": "webhook", "name": "x", "config": {"url": "http://u:p@127.0.0.1/x"}},
        {"kind": "webhook", "name": "x", "config": {"url": "http://127.0.0.1/", "extra": 1}},
        {"kind": "telegram", "name": "x", "config": {"token": "nope", "chat_id": "1"}},
        {"kind": "ntfy", "name": "x", "config": {"topic": "a/b"}},
        {
            "kind": "email",
            "name": "x",
            "config": {
                "host": "127.0.0.1",
                "security": "none",
                "username": "u",
                "password": "p",
                "from_addr": "a@b.test",
                "to": ["c@d.test"],
            },
        },
        {"kind": "ntfy", "name": "x", "config": {"topic": "t"}, "timezone": "Mars/Olympus"},
        {"kind": "ntfy", "name": "x", "config": {"topic": "t"}, "daily_summary_at": "25:00"},
        {
            "kind": "ntfy",
            "name": "x",
            "config": {"topic": "t"},
            "quiet_hours": {"start": "01:00", "end": "01:00"},
        },
        {
            "kind": "ntfy",
            "name": "x",
            "config": {"topic": "t"},
            "filters": {"min_severity": "loud"},
        },
    ],
)
def test_bad_channels_are_refused(rc: RunningCommander, body: dict[str, Any]) -> None:
    with api_client(rc, Role.ADMIN) as admin:
        answer = admin.post("/api/v1/channels", json=body)
        assert answer.status_code == 422, answer.text
        if body["kind"] == "telegram":
            assert "nope" not in answer.text  # a refused secret is not echoed back
        assert admin.get("/api/v1/channels").json() == []


def test_a_test_send_reports_its_result_and_a_failing_channel_shows_in_the_api(
    rc: RunningCommander, receiver: ReplayServer
) -> None:
    receiver.route("/topic-ok", body=b"{}")
    receiver.route("/topic-down", status=500, body=b"server on fire")
    with api_client(rc, Role.ADMIN) as admin:
        good = admin.post(
            "/api/v1/channels", json={"kind": "ntfy", "name": "ok", "config": {"topic": "topic-ok"}}
        ).json()
        bad = admin.post(
            "/api/v1/channels",
            json={"kind": "ntfy", "name": "down", "config": {"topic": "topic-down"}},
        ).json()

        sent = admin.post(f"/api/v1/channels/{good['id']}/test")
        assert sent.status_code == 200, sent.text
        assert sent.json()["ok"] is True and sent.json()["state"] == "sent"
        [hit] = hits(receiver, "/topic-ok")
        assert hit.headers["title"] == "rigwatch test notice"
        assert "channel ok" in hit.body.decode()

        failed = admin.post(f"/api/v1/channels/{bad['id']}/test").json()
        assert failed["ok"] is False and failed["state"] == "failed"
        assert failed["error"] == "ntfy publish: HTTP 500: server on fire"
        shown = admin.get(f"/api/v1/channels/{bad['id']}").json()
        assert shown["consecutive_failures"] == 1 and shown["failing"] is True
        assert shown["last_error"] == "ntfy publish: HTTP 500: server on fire"

        listed = admin.get("/api/v1/notifications", params={"channel_id": bad["id"]}).json()
        assert [(n["kind"], n["state"], n["attempts"]) for n in listed] == [("test", "failed", 1)]
        assert (
            admin.get("/api/v1/notifications", params={"state": "sent"}).json()[0]["channel_id"]
            == good["id"]
        )
        assert admin.post("/api/v1/channels/999999/test").status_code == 404


def test_a_failing_channel_shows_on_the_admin_jobs_page(
    rc: RunningCommander, receiver: ReplayServer
) -> None:
    receiver.route("/hook-down", status=500, body=b"nope")
    receiver.route("/hook-up", body=b"ok")
    with api_client(rc, Role.ADMIN) as admin:
        down = admin.post(
            "/api/v1/channels",
            json={
                "kind": "webhook",
                "name": "down",
                "config": {"url": receiver.url + "/hook-down"},
            },
        ).json()
        alert_event(rc.engine, ts=datetime.now(UTC), subject="job:network", rule="job_failing")
        status = admin.post(f"/api/v1/admin/jobs/{JOB_NAME}/run").json()
        assert status["consecutive_failures"] == 1
        assert "every channel tried failed" in status["last_error"]
        assert "down: webhook: HTTP 500: nope" in status["last_error"]

        admin.post(
            "/api/v1/channels",
            json={"kind": "webhook", "name": "up", "config": {"url": receiver.url + "/hook-up"}},
        )
        alert_event(rc.engine, ts=datetime.now(UTC), subject="job:pools", rule="job_failing")
        status = admin.post(f"/api/v1/admin/jobs/{JOB_NAME}/run").json()
        assert status["consecutive_failures"] == 0 and status["last_error"] is None
        assert "failing: down: webhook: HTTP 500" in status["last_detail"]
        jobs = {j["name"]: j for j in admin.get("/api/v1/admin/jobs").json()}
        assert "failing: down" in jobs[JOB_NAME]["last_detail"]
        shown = admin.get(f"/api/v1/channels/{down['id']}").json()
        assert shown["failing"] is True and shown["consecutive_failures"] >= 1
        assert len(hits(receiver, "/hook-up")) == 1
