"""The client address behind trusted proxies: X-Forwarded-For only from them, the rightmost
address that is no trusted proxy, never what the client wrote further left."""

from ipaddress import ip_network

import pytest

from mailroom.api.client_address import client_address

PROXIES = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),  # untrusted peer: header ignored
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),  # local is not trusted by itself
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # left part is the client's
        ("10.0.0.2", ["6.6.6.6", "198.51.100.1, 10.0.0.3"], "198.51.100.1"),  # two headers
        ("10.0.0.2", ["junk, 10.0.0.3"], "10.0.0.3"),  # no address: stop at the last proxy
        ("10.0.0.2", ["10.0.0.4, 10.0.0.3"], "10.0.0.4"),  # every hop a proxy
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1:4711"], "198.51.100.1"),
        ("fd00::1", ["[2001:db8::7]:443"], "2001:db8::7"),
        (None, ["198.51.100.1"], "unknown"),
        ("testclient", ["198.51.100.1"], "testclient"),
    ],
)
def test_the_client_address(peer, forwarded, expected):
    assert client_address(peer, forwarded, PROXIES) == expected
