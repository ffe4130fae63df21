"""The client's address trusts only the configured proxies' X-Forwarded-For hops (RFC 7239 §7.4)."""

from __future__ import annotations

import ipaddress

import pytest

from sidecar.client_ip import client_ip_from, trusted_proxies_parse

NETWORKS = trusted_proxies_parse("10.0.0.0/8, 172.16.0.0/12, 2001:db8::/32")


@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        # No proxy configured: the header is the client's own words and is ignored.
        ("203.0.113.7", "1.2.3.4", 0, "203.0.113.7"),
        ("203.0.113.7", "", 0, "203.0.113.7"),
        # One nginx appending: the client controls every hop but the last.
        ("10.0.0.5", "6.6.6.6, 1.2.3.4", 1, "1.2.3.4"),
        ("10.0.0.5", "", 1, "10.0.0.5"),
        ("", "6.6.6.6, 1.2.3.4", 1, "1.2.3.4"),  # nginx over a unix socket
        ("10.0.0.5", "not-an-address", 1, "10.0.0.5"),
        # A CDN in front of nginx.
        ("10.0.0.5", "6.6.6.6, 198.51.100.9, 192.0.2.44", 2, "198.51.100.9"),
        # Networks: every hop inside them is a proxy, wherever it is.
        ("10.0.0.5", "6.6.6.6, 1.2.3.4, 172.16.0.9", NETWORKS, "1.2.3.4"),
        ("8.8.8.8", "1.2.3.4", NETWORKS, "8.8.8.8"),
        ("10.0.0.5", "10.1.1.1", NETWORKS, "10.1.1.1"),
        ("10.0.0.5", "junk, 10.0.0.7", NETWORKS, "10.0.0.7"),
        ("10.0.0.5", "[2001:db9::1]:443", NETWORKS, "2001:db9::1"),
        ("10.0.0.5", "192.0.2.1:80", NETWORKS, "192.0.2.1"),
        ("::ffff:10.0.0.5", "192.0.2.1", NETWORKS, "192.0.2.1"),
    ],
)
def test_the_client_is_the_first_hop_left_of_the_trusted_proxies(remote, forwarded, trusted, expected):
    assert client_ip_from(remote, forwarded, trusted) == expected


def test_an_attacker_cannot_choose_the_address_by_sending_the_header():
    seen = {client_ip_from("10.0.0.5", f"198.51.100.{n}, 203.0.113.1", 1) for n in range(30)}
    assert seen == {"203.0.113.1"}


@pytest.mark.parametrize(
    ("raw", "expected"), [("", 0), (" 2 ", 2), ("10.0.0.1", (ipaddress.ip_network("10.0.0.1/32"),))]
)
def test_the_setting_parses(raw, expected):
    assert trusted_proxies_parse(raw) == expected


@pytest.mark.parametrize("raw", ["nginx", "10.0.0.0/8, x", "11", "-1"])
def test_a_bad_setting_is_named(raw):
    with pytest.raises(ValueError, match="PROVENANT_TRUSTED_PROXIES"):
        trusted_proxies_parse(raw)
