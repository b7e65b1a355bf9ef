"""`--rig SOFTWARE=URL[#TOKEN]` parsing and the table of supported programs."""

from __future__ import annotations

import httpx
import pytest

from rigwatch.domain.models import MinerKind
from rigwatch.sentry.pollers.rigs import RIG_SOFTWARE, make_rig_poller, parse_rig_arg


def test_every_program_the_sentry_knows_is_listed():
    assert set(RIG_SOFTWARE) == {
        "xmrig",
        "xmrig-proxy",
        "trex",
        "lolminer",
        "srbminer",
        "gminer",
        "nbminer",
        "teamredminer",
    }
    assert RIG_SOFTWARE["xmrig"].kind is MinerKind.CPU
    assert RIG_SOFTWARE["xmrig"].port is None  # XMRig has no default API port
    assert RIG_SOFTWARE["trex"].port == 4067
    assert RIG_SOFTWARE["teamredminer"].port == 4028
    assert all(spec.key == key for key, spec in RIG_SOFTWARE.items())


def test_an_xmrig_url_with_a_token():
    target = parse_rig_arg("xmrig=http://127.0.0.1:18080#s3cret")
    assert (target.software, target.host, target.port) == ("xmrig", "127.0.0.1", 18080)
    assert target.token == "s3cret"
    assert target.base_url == "http://127.0.0.1:18080"
    assert target.key == "xmrig@127.0.0.1:18080"
    assert "s3cret" not in repr(target)


def test_a_default_port_and_a_missing_scheme_are_filled_in():
    assert parse_rig_arg("trex=127.0.0.1").base_url == "http://127.0.0.1:4067"
    assert parse_rig_arg("TeamRedMiner=127.0.0.2").port == 4028
    assert parse_rig_arg("nbminer=http://127.0.0.3/").port == 22333


def test_ipv6_and_a_path_prefix_are_kept():
    target = parse_rig_arg("xmrig=https://[::1]:8443/miner/")
    assert target.base_url == "https://[::1]:8443/miner"
    assert target.key == "xmrig@[::1]:8443"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("xmrig", "SOFTWARE=URL"),
        ("=http://127.0.0.1:1", "SOFTWARE=URL"),
        ("xmrig=", "SOFTWARE=URL"),
        ("cgminer=127.0.0.1", "unknown mining software 'cgminer'"),
        ("xmrig=http://127.0.0.1", "no default API port"),
        ("gminer=127.0.0.1#pw", "no default API port"),
        ("lolminer=http://127.0.0.1:4444#pw", "no API password"),
        ("xmrig=ftp://127.0.0.1:21", "scheme must be http or https"),
        ("teamredminer=http://127.0.0.1:4028", "scheme must be tcp"),
        ("xmrig=http://:80", "no host"),
        ("xmrig=http://127.0.0.1:99999", "bad URL"),
        ("xmrig=http://127.0.0.1:1/?token=x", "query"),
        ("xmrig=http://u:p@127.0.0.1:1", "query or user"),
    ],
)
def test_bad_arguments_say_what_is_wrong(text, message):
    with pytest.raises(ValueError, match=message):
        parse_rig_arg(text)


async def test_each_program_gets_a_poller_with_its_kind():
    async with httpx.AsyncClient() as client:
        for key, spec in RIG_SOFTWARE.items():
            target = parse_rig_arg(f"{key}=127.0.0.1:{spec.port or 1234}")
            poller = make_rig_poller(target, client=client, timeout_s=1.0)
            assert poller.identity.kind is spec.kind
            assert poller.identity.key == f"{key}@127.0.0.1:{spec.port or 1234}"
            assert poller.identity.make == spec.name
