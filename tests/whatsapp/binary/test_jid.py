"""JID parsing, formatting and helpers."""

from __future__ import annotations

import pytest

from mautrix_whatsapp_py.whatsapp.binary import JID, InvalidJIDError


@pytest.mark.parametrize(
    ("text", "user", "server", "device", "agent"),
    [
        ("123@s.whatsapp.net", "123", "s.whatsapp.net", 0, 0),
        ("123:4@s.whatsapp.net", "123", "s.whatsapp.net", 4, 0),
        ("123.1:4@s.whatsapp.net", "123", "s.whatsapp.net", 4, 1),
        ("9876:12@lid", "9876", "lid", 12, 0),
        ("123-456@g.us", "123-456", "g.us", 0, 0),
        ("status@broadcast", "status", "broadcast", 0, 0),
        ("s.whatsapp.net", "", "s.whatsapp.net", 0, 0),
        ("120363@newsletter", "120363", "newsletter", 0, 0),
    ],
)
def test_parse_and_format(text: str, user: str, server: str, device: int, agent: int) -> None:
    jid = JID.parse(text)
    assert (jid.user, jid.server, jid.device, jid.agent) == (user, server, device, agent)
    assert str(jid) == text
    assert jid == text
    assert hash(jid) == hash(text)
    assert JID.parse(str(jid)) == jid


@pytest.mark.parametrize("bad", ["", "a@b@c", "1:x@s.whatsapp.net", "1.x@s.whatsapp.net", "a@"])
def test_parse_errors(bad: str) -> None:
    with pytest.raises(InvalidJIDError):
        JID.parse(bad)


def test_kinds_and_forms() -> None:
    device = JID.parse("123:4@s.whatsapp.net")
    assert device.to_non_ad() == "123@s.whatsapp.net"
    assert device.with_device(7) == "123:7@s.whatsapp.net"
    assert device.is_user and not device.is_group
    assert JID.parse("1-2@g.us").is_group
    assert JID.parse("status@broadcast").is_status_broadcast
    assert JID.parse("x@broadcast").is_broadcast_list
    assert JID.parse("1@newsletter").is_newsletter
    assert JID.parse("1:2@lid").is_lid
    assert JID.parse("s.whatsapp.net").is_server
    assert JID.parse("1:2@lid").signal_address_user() == "1_1"
    assert device.signal_address_user() == "123"
    with pytest.raises(AttributeError):
        device.user = "x"  # type: ignore[misc]


def test_from_ad_domains() -> None:
    assert JID.from_ad("1", 0, 3) == "1:3@s.whatsapp.net"
    assert JID.from_ad("1", 1, 3) == "1:3@lid"
    assert JID.from_ad("1", 128, 0) == "1@hosted"
    assert JID.from_ad("1", 129, 2) == "1:2@hosted.lid"
    assert JID.from_ad("1", 5, 2) == "1.5:2@s.whatsapp.net"


def test_ranges() -> None:
    with pytest.raises(InvalidJIDError):
        JID("1", "s.whatsapp.net", 70000)
