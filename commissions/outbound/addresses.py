"""Where deliveries may not go: a cloud's instance-metadata service and addresses no receiver can have.

A subscription's URL is set by an admin or finance, and every delivery is a signed POST from the server, so a
URL aimed at the machine's own cloud metadata endpoint (``http://169.254.169.254/...``) would make the server
call it. Refused: link-local (169.254.0.0/16, fe80::/10, where the metadata services live), the known metadata
addresses outside it, multicast, unspecified and reserved addresses. Loopback and private networks stay
allowed (a receiver on this machine or the company's network is normal for a self-hosted app). A URL with an
address is checked when saved; a host name is checked again at each delivery, on the addresses it resolves to.
"""

from __future__ import annotations

import ipaddress
import socket

#: Metadata services outside link-local: AWS over IPv6, Alibaba Cloud.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})


def refusal(address: str) -> str | None:
    """Why deliveries may not go to ``address`` (an IP address, brackets allowed); None if they may, or if it is
    a host name rather than an address."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES or ip.is_link_local:
        return f"{address} is a link-local or cloud metadata address: deliveries never go there"
    if ip.is_multicast or ip.is_unspecified or ip.is_reserved:
        return f"{address} is not an address a receiver can have"
    return None


def resolved_refusal(host: str, port: int) -> str | None:
    """``refusal`` of the first address ``host`` resolves to that deliveries may not go to; None when none
    (a name that does not resolve is left to the request, which fails and is logged like any)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    for info in infos:
        reason = refusal(str(info[4][0]))
        if reason is not None:
            return f"{host} resolves to {info[4][0]}: {reason}"
    return None
