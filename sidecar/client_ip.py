"""The client's address behind reverse proxies, trusting only the proxies the operator configured.

``X-Forwarded-For`` is a list the client starts and each proxy appends to, so only the hops added by
our own proxies can be believed; the leftmost hop is whatever the client chose. This follows the
right-to-left rule of RFC 7239 section 7.4 and MDN's X-Forwarded-For guidance: walk the chain
``X-Forwarded-For hops + REMOTE_ADDR`` from the right, skip the trusted proxies, and the first address
left is the client. ``PROVENANT_TRUSTED_PROXIES`` says who is trusted, either

- a count: ``0`` (default: no proxy, ``REMOTE_ADDR`` only, the header ignored), ``1`` for one nginx in
  front, ``2`` for a CDN in front of nginx; or
- a comma-separated list of addresses and networks (``10.0.0.0/8,2001:db8::/32``): every hop inside
  them is a proxy, whatever its position.

Hand-written: Django has no client-IP helper, and django-ipware's default trusts the leftmost hop.
"""

from __future__ import annotations

import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
TrustedProxies = int | tuple[Network, ...]


def trusted_proxies_parse(raw: str) -> TrustedProxies:
    """``PROVENANT_TRUSTED_PROXIES`` as a count or networks; raises ValueError naming what is wrong."""
    text = (raw or "").strip()
    if not text:
        return 0
    if text.isdigit():
        count = int(text)
        if count > 10:
            raise ValueError(f"PROVENANT_TRUSTED_PROXIES={count}: more than 10 proxies is not a real chain")
        return count
    networks = []
    for part in text.split(","):
        part = part.strip()
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(
                f"PROVENANT_TRUSTED_PROXIES: {part!r} is neither a proxy count nor an address or network"
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 192.0.2.1:443
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_ip_from(remote_addr: str, forwarded_for: str, trusted: TrustedProxies) -> str:
    """The client's address from ``REMOTE_ADDR`` and ``X-Forwarded-For`` under ``trusted``.

    A client hop that is not an address is replaced by the nearest real address to its right (the
    proxy that reported it), so the result is always an address or empty.
    """
    chain: list[str] = [hop for hop in forwarded_for.split(",") if hop.strip()] if trusted else []
    chain.append(remote_addr)
    addresses = [_address(hop) for hop in chain]
    if isinstance(trusted, int):
        # The last ``trusted`` entries were added by our proxies (whatever they hold, e.g. an empty
        # REMOTE_ADDR over a unix socket); the entry before them is the client.
        return _text(addresses, max(len(addresses) - 1 - trusted, 0))
    for position in range(len(addresses) - 1, -1, -1):
        address = addresses[position]
        if address is None:
            return _text(addresses, position)
        if position == 0 or not any(address in network for network in trusted):
            return str(address)
    return ""


def _text(addresses: list, position: int) -> str:
    """The address at ``position``, or the nearest real one to its right (a proxy we trust)."""
    for address in addresses[position:]:
        if address is not None:
            return str(address)
    return ""


def client_ip(request) -> str:
    """The client's address of a Django request under ``settings.TRUSTED_PROXIES``."""
    from django.conf import settings

    if request is None:
        return ""
    meta = request.META
    return client_ip_from(
        meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", ""), settings.TRUSTED_PROXIES
    )[:64]
