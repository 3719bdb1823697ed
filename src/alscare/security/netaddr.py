"""Network addresses: who is really asking (behind trusted proxies only), and where a webhook may go.

``client_address`` believes ``X-Forwarded-For`` only when the TCP peer is a configured trusted proxy, and then
walks the list from the right, skipping further trusted proxies: the first untrusted hop is the client. Any
other client could otherwise pick its own address for the sign-in throttle and the audit trail.

``refused_address`` says why an IP may not receive a webhook: the worker would otherwise be a blind
server-side request forwarder into the clinic's own network (loopback, link-local cloud metadata, private
ranges). It is applied to every address a name resolves to, when the URL is saved and again just before each
call (a name can be re-pointed after it was checked: DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def _parse(raw: str) -> Address | None:
    try:
        return ipaddress.ip_address(raw.strip().strip("[]"))
    except ValueError:
        return None


def _trusted(addr: Address | None, proxies: Sequence[Network]) -> bool:
    return addr is not None and any(addr in net for net in proxies if addr.version == net.version)


def client_address(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str | None:
    """The client's address: the peer itself unless the peer is a trusted proxy."""
    if peer is None or not proxies or not _trusted(_parse(peer), proxies):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        addr = _parse(hop)
        if addr is None:
            # A malformed hop cannot be attributed: stop at the last address we could trust.
            return peer
        if not _trusted(addr, proxies):
            return str(addr)
        peer = str(addr)
    return peer


def refused_address(addr: Address) -> str | None:
    """Why ``addr`` is not a public unicast address, or None when it is."""
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return refused_address(addr.ipv4_mapped)
    checks = (
        (addr.is_unspecified, "an unspecified address"),
        (addr.is_loopback, "this machine (loopback)"),
        (addr.is_link_local, "a link-local address"),
        (addr.is_multicast, "a multicast address"),
        (addr.is_private, "a private network address"),
        (addr.is_reserved, "a reserved address"),
        (not addr.is_global, "an address that is not public"),
    )
    for bad, why in checks:
        if bad:
            return why
    return None


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to now (an IP literal resolves to itself)."""
    literal = _parse(host)
    if literal is not None:
        return [literal]
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[Address] = []
    for info in infos:
        addr = _parse(str(info[4][0]).split("%")[0])
        if addr is not None and addr not in out:
            out.append(addr)
    return out


def first_refusal(addresses: Iterable[Address]) -> tuple[Address, str] | None:
    for addr in addresses:
        why = refused_address(addr)
        if why is not None:
            return addr, why
    return None
