"""A real authoritative DNS server on loopback (dnslib), answering from zone-file text.

It answers NXDOMAIN for names it does not hold, NOERROR with no records for a name it
holds under another type (as real servers do), and SERVFAIL for every name under a
label ``servfail``. UDP and TCP listen on the same ephemeral port.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dnslib import QTYPE, RCODE, RR, DNSLabel
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class ZoneResolver(BaseResolver):
    def __init__(self, zone: str) -> None:
        self.records = RR.fromZone(zone)
        self.names = {rr.rname for rr in self.records}

    def resolve(self, request, handler):  # type: ignore[no-untyped-def]  # dnslib's API
        reply = request.reply()
        qname: DNSLabel = request.q.qname
        if b"servfail" in qname.label:
            reply.header.rcode = RCODE.SERVFAIL
            return reply
        for rr in self.records:
            if rr.rname == qname and (rr.rtype == request.q.qtype or rr.rtype == QTYPE.CNAME):
                reply.add_answer(rr)
        if qname not in self.names:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


@contextmanager
def dns_server(zone: str) -> Iterator[str]:
    """Serve ``zone`` on 127.0.0.1; yields ``127.0.0.1:PORT`` for ``--nameserver``."""
    resolver = ZoneResolver(zone)
    logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
    udp = DNSServer(resolver, address="127.0.0.1", port=0, logger=logger)
    port = udp.server.server_address[1]
    tcp = DNSServer(resolver, address="127.0.0.1", port=port, tcp=True, logger=logger)
    udp.start_thread()
    tcp.start_thread()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        udp.stop()
        tcp.stop()
        udp.server.server_close()
        tcp.server.server_close()
