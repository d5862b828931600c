"""The client address a request is counted under (the status rate limit).

``X-Forwarded-For`` is believed only when the peer is one of the configured trusted proxies
(MAILROOM_TRUSTED_PROXIES). Then the header is read from the right: every entry a trusted
proxy appended is reliable, and the first address that is not itself a trusted proxy is the
client. Whatever lies further left was written by the client and could be anything, so it is
never used. A peer that is no trusted proxy is the client, whatever headers it sends.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

Network = IPv4Network | IPv6Network


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Sequence[Network]
) -> str:
    if not peer:
        return "unknown"
    if not _is_trusted(_parse(peer), trusted):
        return peer
    client = peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:  # not an address: no trusted proxy wrote it
            return client
        client = str(address)
        if not _is_trusted(address, trusted):
            return client
    return client  # every hop a trusted proxy: the leftmost one is as close as we get


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _is_trusted(address: IPv4Address | IPv6Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)
