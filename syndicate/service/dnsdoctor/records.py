"""Findings for one domain's SPF, DKIM, DMARC and MX records.

Every check turns what it reads into findings (never exceptions): a look-up that fails
is an error finding naming the name and the reason, and each problem carries the record
that fixes it, written as it goes in a zone file.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from publicsuffixlist import PublicSuffixList

from syndicate.service.dnsdoctor.findings import Finding, txt_record
from syndicate.service.dnsdoctor.resolver import DnsFailure, Resolver
from syndicate.service.dnsdoctor.spf import (
    MAX_LOOKUPS,
    Evaluator,
    SpfPermError,
    SpfUnsupported,
    is_spf,
)

_PSL = PublicSuffixList()  # ships its own copy of the list: no download


def organizational_domain(domain: str) -> str:
    """The registered domain (example.co.uk for a.b.example.co.uk), as relaxed alignment uses."""
    return _PSL.privatesuffix(domain.lower()) or domain.lower()


def aligned(from_domain: str, other: str, mode: str) -> bool:
    """DMARC identifier alignment: strict (``s``) needs the same name, relaxed the same
    organizational domain."""
    if mode == "s":
        return from_domain.lower() == other.lower()
    return organizational_domain(from_domain) == organizational_domain(other)


def tags(record: str) -> dict[str, str]:
    """``k=v; k=v`` (DKIM and DMARC syntax) as a dict with lower-case keys."""
    found = {}
    for part in record.split(";"):
        key, sep, value = part.partition("=")
        if sep:
            found[key.strip().lower()] = value.strip()
    return found


def _dns_error(check: str, subject: str, failure: DnsFailure) -> Finding:
    return Finding("error", check, subject, f"could not look up: {failure}")


# -- SPF --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sender:
    """Who sends as the domain: the SMTP host's addresses, or a provider's SPF include."""

    label: str  # "smtp.example.net" or "mailgun"
    addresses: tuple[str, ...] = ()
    include: str | None = None

    def terms(self) -> list[str]:
        if self.include:
            return [f"include:{self.include}"]
        return [("ip6:" if ":" in a else "ip4:") + a for a in self.addresses]


def with_terms(record: str, terms: list[str]) -> str:
    """``record`` with ``terms`` added before its ``all`` (or redirect), once each."""
    words = record.split()
    new = [t for t in terms if t.lower() not in (w.lower() for w in words)]
    tail = next(
        (
            i
            for i, w in enumerate(words)
            if i > 0 and (w.lstrip("+-~?").lower() == "all" or "=" in w)
        ),
        len(words),
    )
    return " ".join(words[:tail] + new + words[tail:])


def _merged(records: list[str], sender: Sender) -> str:
    """One record holding every mechanism of ``records`` (two SPF records are a permerror)."""
    words: list[str] = []
    for record in records:
        for word in record.split()[1:]:
            if word.lstrip("+-~?").lower() != "all" and word.lower() not in map(str.lower, words):
                words.append(word)
    return with_terms(" ".join(["v=spf1", *words, "~all"]), sender.terms())


def check_spf(resolver: Resolver, domain: str, sender: Sender) -> list[Finding]:
    """Is there one SPF record, within 10 look-ups, that authorizes ``sender``?"""
    terms = sender.terms()
    wanted = txt_record(domain, " ".join(["v=spf1", *terms, "~all"])) if terms else None
    try:
        records = [t for t in resolver.txt(domain) if is_spf(t)]
        if not records:
            return [Finding("error", "spf", domain, "no SPF record (TXT v=spf1)", wanted)]
        if len(records) > 1:
            return [
                Finding(
                    "error",
                    "spf",
                    domain,
                    f"{len(records)} SPF records; receivers treat that as permerror: "
                    "publish one that holds them all",
                    txt_record(domain, _merged(records, sender)),
                )
            ]
        return _spf_findings(resolver, domain, records[0], sender)
    except DnsFailure as failure:
        return [_dns_error("spf", domain, failure)]
    except SpfPermError as error:
        return [Finding("error", "spf", domain, f"permerror: {error}")]
    except SpfUnsupported as unknown:
        return [Finding("warning", "spf", domain, f"not evaluated: {unknown}")]


def _spf_findings(resolver: Resolver, domain: str, record: str, sender: Sender) -> list[Finding]:
    fixed = txt_record(domain, with_terms(record, sender.terms())) if sender.terms() else None
    try:
        lookups = Evaluator(resolver).lookup_count(domain)
    except SpfPermError as error:
        return [Finding("error", "spf", domain, f"{record!r}: {error}")]
    if lookups > MAX_LOOKUPS:
        return [
            Finding(
                "error",
                "spf",
                domain,
                f"{record!r} needs {lookups} DNS look-ups; receivers stop at {MAX_LOOKUPS} "
                "(permerror): replace includes you do not send through with ip4:/ip6: ranges",
            )
        ]
    findings = []
    if any(w.lower() in ("all", "+all") for w in record.split()):
        findings.append(
            Finding(
                "error",
                "spf",
                domain,
                "+all authorizes every server on the internet",
                txt_record(domain, record.replace("+all", "~all").replace(" all", " ~all")),
            )
        )
    if sender.include:
        if sender.include not in Evaluator(resolver).includes(domain):
            message = f"does not include:{sender.include}, so {sender.label} is not authorized"
            return [*findings, Finding("error", "spf", domain, message, fixed)]
        message = f"includes {sender.include} for {sender.label} ({_lookups(lookups)})"
        return [*findings, Finding("ok", "spf", domain, message)]
    if not sender.addresses:
        message = f"one SPF record, {_lookups(lookups)}; not evaluated for {sender.label}"
        findings.append(Finding("info", "spf", domain, message))
    for address in sender.addresses:
        evaluator = Evaluator(resolver)
        try:
            result = evaluator.check_host(address, domain)
        except SpfPermError as error:
            findings.append(Finding("error", "spf", domain, f"permerror: {error}"))
            continue
        findings += [Finding("warning", "spf", domain, note) for note in evaluator.notes]
        if result == "pass":
            message = f"authorizes {sender.label} ({address}): pass, {_lookups(lookups)}"
            findings.append(Finding("ok", "spf", domain, message))
        else:
            message = f"gives {result}, not pass, for {sender.label} ({address})"
            findings.append(Finding("error", "spf", domain, message, fixed))
    return findings


def _lookups(count: int) -> str:
    return f"{count} DNS look-up{'' if count == 1 else 's'} of {MAX_LOOKUPS}"


# -- DKIM -------------------------------------------------------------------------------


def public_key(private_pem: bytes) -> tuple[str, bytes]:
    """(``k=`` algorithm, the ``p=`` bytes) of a PEM private key, as DKIM publishes them."""
    key = serialization.load_pem_private_key(private_pem, password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return "rsa", der
    if isinstance(key, ed25519.Ed25519PrivateKey):
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return "ed25519", raw
    raise ValueError(f"a {type(key).__name__}; DKIM signs with RSA or Ed25519 keys")


def same_key(algorithm: str, ours: bytes, published: bytes) -> bool:
    """True when the published ``p=`` is our key (RSA as SubjectPublicKeyInfo or PKCS#1)."""
    if algorithm == "ed25519":
        return ours == published
    try:
        theirs = serialization.load_der_public_key(published)
    except ValueError:
        return False
    mine = serialization.load_der_public_key(ours)
    return (
        isinstance(theirs, rsa.RSAPublicKey)
        and isinstance(mine, rsa.RSAPublicKey)
        and theirs.public_numbers() == mine.public_numbers()
    )


def check_dkim(resolver: Resolver, domain: str, selector: str, private_pem: bytes) -> list[Finding]:
    """Does ``<selector>._domainkey.<domain>`` publish the public half of our key?"""
    name = f"{selector}._domainkey.{domain}"
    try:
        algorithm, ours = public_key(private_pem)
    except (ValueError, TypeError) as exc:
        return [
            Finding("error", "dkim", name, f"mail.dkim.private_key_file: not a usable key ({exc})")
        ]
    wanted = txt_record(name, f"v=DKIM1; k={algorithm}; p={base64.b64encode(ours).decode()}")
    try:
        keys = [tags(t) for t in resolver.txt(name)]
    except DnsFailure as failure:
        return [_dns_error("dkim", name, failure)]
    keys = [k for k in keys if "p" in k]
    if not keys:
        return [
            Finding(
                "error",
                "dkim",
                name,
                "no DKIM key record: receivers cannot verify the signature",
                wanted,
            )
        ]
    if len(keys) > 1:
        return [
            Finding("error", "dkim", name, f"{len(keys)} key records; publish exactly one", wanted)
        ]
    published = "".join(keys[0]["p"].split())
    if not published:
        return [Finding("error", "dkim", name, "the key is revoked (empty p=)", wanted)]
    try:
        published_bytes = base64.b64decode(published, validate=True)
    except (binascii.Error, ValueError):
        return [Finding("error", "dkim", name, "p= is not base64", wanted)]
    if keys[0].get("k", "rsa").lower() != algorithm or not same_key(
        algorithm, ours, published_bytes
    ):
        message = "the published key is not the public half of mail.dkim.private_key_file"
        return [Finding("error", "dkim", name, message, wanted)]
    return [
        Finding("ok", "dkim", name, f"publishes the {algorithm} key of mail.dkim.private_key_file")
    ]


# -- DMARC ------------------------------------------------------------------------------


def _dmarc_record(resolver: Resolver, domain: str) -> tuple[str, list[str]]:
    """(where the policy lives, its records): the From domain's, else its organization's."""
    where = domain
    for candidate in dict.fromkeys([domain, organizational_domain(domain)]):
        where = candidate
        found = [t for t in resolver.txt(f"_dmarc.{candidate}") if t.lower().startswith("v=dmarc1")]
        if found:
            return where, found
    return where, []


def _dmarc_text(policy: dict[str, str], **changes: str) -> str:
    merged = {**policy, **changes}
    merged.pop("v", None)
    return "; ".join(["v=DMARC1", *(f"{k}={v}" for k, v in merged.items())])


def check_dmarc(
    resolver: Resolver, domain: str, spf_domain: str | None, dkim_domain: str | None
) -> list[Finding]:
    """Is a DMARC policy published, is it enforced, and do SPF or DKIM align with From?"""
    org = organizational_domain(domain)
    starter = {"p": "none", "rua": f"mailto:dmarc-reports@{org}"}
    try:
        where, records = _dmarc_record(resolver, domain)
    except DnsFailure as failure:
        return [_dns_error("dmarc", f"_dmarc.{domain}", failure)]
    name = f"_dmarc.{where}"
    if not records:
        message = "no DMARC record: Gmail and Yahoo reject bulk mail without one"
        return [
            Finding(
                "error",
                "dmarc",
                f"_dmarc.{domain}",
                message,
                txt_record(f"_dmarc.{org}", _dmarc_text(starter)),
            )
        ]
    if len(records) > 1:
        message = f"{len(records)} DMARC records; receivers ignore them all"
        return [Finding("error", "dmarc", name, message, txt_record(name, records[0]))]
    policy = tags(records[0])
    effective = policy.get("sp", policy.get("p")) if where != domain else policy.get("p")
    findings = [_policy_finding(name, policy, effective)]
    findings.append(_alignment_finding(name, domain, policy, spf_domain, dkim_domain))
    return findings


def _policy_finding(name: str, policy: dict[str, str], effective: str | None) -> Finding:
    if effective not in ("none", "quarantine", "reject"):
        fixed = txt_record(name, _dmarc_text(policy, p="none"))
        return Finding("error", "dmarc", name, f"p={effective or ''} is not a DMARC policy", fixed)
    if effective == "none":
        message = (
            "p=none only monitors: receivers act on nothing that fails; "
            "move to quarantine once the reports show only your own mail"
        )
        return Finding(
            "warning", "dmarc", name, message, txt_record(name, _dmarc_text(policy, p="quarantine"))
        )
    return Finding("ok", "dmarc", name, f"policy p={effective}")


def _alignment_finding(
    name: str, domain: str, policy: dict[str, str], spf_domain: str | None, dkim_domain: str | None
) -> Finding:
    """Does the From domain align with the SPF (envelope) or the DKIM (d=) domain?"""
    modes = {"spf": policy.get("aspf", "r").lower(), "dkim": policy.get("adkim", "r").lower()}
    known = {k: v for k, v in (("spf", spf_domain), ("dkim", dkim_domain)) if v}
    passing = [k for k, other in known.items() if aligned(domain, other, modes[k])]
    described = ", ".join(
        f"{k.upper()} {v} ({'strict' if modes[k] == 's' else 'relaxed'})" for k, v in known.items()
    )
    if passing:
        return Finding("ok", "dmarc", name, f"From {domain} aligns with {described}")
    if not known:
        message = (
            f"alignment of From {domain} depends on the provider: set up its custom "
            "return path and DKIM signing for this domain"
        )
        return Finding("info", "dmarc", name, message)
    relaxed = [k for k, other in known.items() if aligned(domain, other, "r")]
    fixed = (
        txt_record(name, _dmarc_text(policy, **{f"a{k}": "r" for k in relaxed}))
        if relaxed
        else None
    )
    message = f"From {domain} aligns with neither {described}: DMARC fails for every message"
    return Finding("error", "dmarc", name, message, fixed)


# -- MX ---------------------------------------------------------------------------------


def check_mx(resolver: Resolver, domain: str) -> list[Finding]:
    """Can bounces reach the bounce domain?"""
    placeholder = f"{domain}. MX 10 <your inbound mail host>."
    try:
        hosts = resolver.mx(domain)
        if not hosts:
            if resolver.addresses(domain):
                message = "no MX: bounces go to its A/AAAA address (implicit MX); publish an MX"
                return [Finding("warning", "mx", domain, message, placeholder)]
            return [
                Finding(
                    "error",
                    "mx",
                    domain,
                    "no MX and no address: bounces cannot come back",
                    placeholder,
                )
            ]
        if any(host == "." for _, host in hosts):
            return [
                Finding(
                    "error",
                    "mx",
                    domain,
                    "null MX (RFC 7505): this domain accepts no mail, so no bounces",
                    placeholder,
                )
            ]
        dead = [host for _, host in hosts if not resolver.addresses(host)]
    except DnsFailure as failure:
        return [_dns_error("mx", domain, failure)]
    if dead:
        return [Finding("error", "mx", domain, f"MX host(s) with no address: {', '.join(dead)}")]
    listed = ", ".join(f"{pref} {host}" for pref, host in hosts)
    return [Finding("ok", "mx", domain, f"MX {listed}")]
