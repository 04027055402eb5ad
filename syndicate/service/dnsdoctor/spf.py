"""A small SPF evaluator (RFC 7208 check_host) over ``Resolver``.

Why not pyspf: its last release (2020) calls dnspython's deprecated ``dns.resolver.query``
and reaches DNS only through module globals, so it cannot be pointed at one name server
(``--nameserver``, split DNS, tests) without patching the process. This one covers what
a sender's record uses (ip4, ip6, a, mx, include, redirect, exists, all), counts DNS
look-ups against the limit of 10 and void look-ups against 2, and reports what it does
not evaluate (macros, ptr) instead of guessing.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from syndicate.service.dnsdoctor.resolver import Resolver

MAX_LOOKUPS = 10  # RFC 7208 4.6.4
MAX_VOID_LOOKUPS = 2
MAX_MX_HOSTS = 10
QUALIFIERS = {"+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}
LOOKUP_TERMS = ("include", "a", "mx", "ptr", "exists")
_DUAL_CIDR = re.compile(r"(?::(?P<domain>[^/]+))?(?:/(?P<v4>\d+))?(?://(?P<v6>\d+))?")


class SpfPermError(Exception):
    """The record cannot be evaluated: receivers answer permerror and DMARC sees SPF fail."""


class SpfUnsupported(Exception):
    """A valid record this evaluator does not evaluate (macros): the answer is unknown."""


def is_spf(text: str) -> bool:
    lowered = text.lower()
    return lowered == "v=spf1" or lowered.startswith("v=spf1 ")


@dataclass(frozen=True)
class Term:
    qualifier: str  # pass | fail | softfail | neutral
    name: str  # mechanism, lower case
    value: str  # what follows the name (":domain/24", "" ...)


@dataclass
class Record:
    text: str
    terms: list[Term] = field(default_factory=list)
    redirect: str | None = None


def parse(text: str) -> Record:
    """Split a ``v=spf1`` record into mechanisms and the redirect modifier."""
    record = Record(text)
    for word in text.split()[1:]:
        modifier = re.fullmatch(r"([a-zA-Z][\w.-]*)=(.*)", word)
        if modifier:
            if modifier.group(1).lower() == "redirect":
                record.redirect = modifier.group(2)
            continue
        qualifier = QUALIFIERS.get(word[0])
        body = word[1:] if qualifier else word
        name = re.match(r"[a-zA-Z0-9]*", body).group(0).lower()  # type: ignore[union-attr]
        if name not in ("all", "ip4", "ip6", *LOOKUP_TERMS):
            raise SpfPermError(f"unknown mechanism {word!r}")
        record.terms.append(Term(qualifier or "pass", name, body[len(name) :]))
    return record


class Evaluator:
    """One evaluation: the look-up counters span every include and redirect it follows."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.lookups = 0
        self.voids = 0
        self.notes: list[str] = []

    def record(self, domain: str) -> Record | None:
        """The domain's one SPF record; two are a permerror (RFC 7208 4.5)."""
        found = [text for text in self.resolver.txt(domain) if is_spf(text)]
        if len(found) > 1:
            raise SpfPermError(f"{domain} publishes {len(found)} SPF records; receivers need one")
        return parse(found[0]) if found else None

    def _count(self) -> None:
        self.lookups += 1
        if self.lookups > MAX_LOOKUPS:
            raise SpfPermError(f"needs more than {MAX_LOOKUPS} DNS look-ups; receivers stop at 10")

    def _void(self, found: list[str] | list[tuple[int, str]]) -> None:
        if not found:
            self.voids += 1
            if self.voids > MAX_VOID_LOOKUPS:
                raise SpfPermError(f"more than {MAX_VOID_LOOKUPS} look-ups found nothing")

    def check_host(self, ip: str, domain: str, depth: int = 0) -> str:
        """pass | fail | softfail | neutral | none for ``ip`` sending as ``domain``."""
        if depth > MAX_LOOKUPS:
            raise SpfPermError(f"include/redirect loop at {domain}")
        record = self.record(domain)
        if record is None:
            return "none"
        for term in record.terms:
            if self._matches(ip, domain, term, depth):
                return term.qualifier
        if record.redirect:
            self._count()
            result = self.check_host(ip, self._target(record.redirect, domain), depth + 1)
            if result == "none":
                raise SpfPermError(f"redirect={record.redirect} has no SPF record")
            return result
        return "neutral"

    def _target(self, spec: str, domain: str) -> str:
        if "%" in spec:
            raise SpfUnsupported(
                f"{domain} uses a macro ({spec}), which this check does not expand"
            )
        return spec.rstrip(".")

    def _matches(self, ip: str, domain: str, term: Term, depth: int) -> bool:
        if term.name == "all":
            return True
        if term.name in ("ip4", "ip6"):
            return _in_network(ip, term.value.removeprefix(":"))
        self._count()
        if term.name == "include":
            target = self._target(term.value.removeprefix(":"), domain)
            result = self.check_host(ip, target, depth + 1)
            if result == "none":
                raise SpfPermError(f"include:{target} has no SPF record")
            return result == "pass"
        if term.name == "ptr":
            self.notes.append(f"{domain}: ptr is deprecated (RFC 7208 5.5) and not evaluated here")
            return False
        spec = _DUAL_CIDR.fullmatch(term.value)
        if spec is None:
            raise SpfPermError(f"{domain}: cannot read {term.name}{term.value}")
        target = self._target(spec.group("domain") or domain, domain)
        if term.name == "exists":
            found = [r.address for r in self.resolver.query(target, "A")]  # RFC 7208 5.7
            self._void(found)
            return bool(found)
        if term.name == "a":
            hosts = [target]
        else:
            exchanges = self.resolver.mx(target)
            self._void(exchanges)
            if len(exchanges) > MAX_MX_HOSTS:
                raise SpfPermError(f"mx:{target} has more than {MAX_MX_HOSTS} MX hosts")
            hosts = [host for _, host in exchanges]
        for host in hosts:
            found = self.resolver.addresses(host)
            if term.name == "a":
                self._void(found)
            v4, v6 = spec.group("v4") or "32", spec.group("v6") or "128"
            if any(_in_network(ip, f"{a}/{v4 if ':' not in a else v6}") for a in found):
                return True
        return False

    def lookup_count(self, domain: str, depth: int = 0) -> int:
        """DNS look-ups the whole record costs when no term matches (its worst case)."""
        if depth > MAX_LOOKUPS:
            raise SpfPermError(f"include/redirect loop at {domain}")
        record = self.record(domain)
        if record is None:
            raise SpfPermError(f"{domain} has no SPF record")
        total = 0
        for term in record.terms:
            if term.name in LOOKUP_TERMS:
                total += 1
            if term.name == "include":
                total += self.lookup_count(self._target(term.value[1:], domain), depth + 1)
        if record.redirect:
            total += 1 + self.lookup_count(self._target(record.redirect, domain), depth + 1)
        return total

    def includes(self, domain: str, depth: int = 0) -> set[str]:
        """Every domain ``domain``'s record includes or redirects to, directly or not."""
        record = self.record(domain) if depth <= MAX_LOOKUPS else None
        if record is None:
            return set()
        targets = [t.value[1:].lower() for t in record.terms if t.name == "include"]
        targets += [record.redirect.lower()] if record.redirect else []
        found = set(targets)
        for target in targets:
            if "%" not in target:
                found |= self.includes(target.rstrip("."), depth + 1)
        return found


def _in_network(ip: str, cidr: str) -> bool:
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise SpfPermError(f"{cidr!r} is not an IP network") from None
    address = ipaddress.ip_address(ip)
    return address.version == network.version and address in network
