"""``syndicate check --dns``: the deliverability doctor.

For the From domains and the bounce (envelope sender) domain it reads SPF, the DKIM
key, DMARC and MX from DNS, and makes one RFC 8058 one-click round trip against the
running web app. Each finding names the record to publish. What is checked follows
from the config: which provider sends (its SPF include, or the SMTP host's addresses),
which key signs, which domains appear in From.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from pathlib import Path

from syndicate.core.config import Settings
from syndicate.core.tokens import Signer
from syndicate.service.dnsdoctor.findings import SEVERITIES, Finding
from syndicate.service.dnsdoctor.oneclick import round_trip
from syndicate.service.dnsdoctor.records import Sender, check_dkim, check_dmarc, check_mx, check_spf
from syndicate.service.dnsdoctor.resolver import DnsFailure, Resolver

# The SPF include each API provider documents for a custom sending domain.
PROVIDER_INCLUDES = {
    "mailgun": "mailgun.org",
    "sendgrid": "sendgrid.net",
    "postmark": "spf.mtasv.net",
    "ses": "amazonses.com",
}
# Providers that send the raw messages syndicate signs with mail.dkim (see config).
SIGNS_RAW = ("maildir", "smtp", "ses")

__all__ = ["Finding", "Plan", "Resolver", "plan_for", "run_doctor", "worst"]


def domain_of(address: str) -> str | None:
    return parseaddr(address)[1].rpartition("@")[2].strip().lower() or None


@dataclass
class Plan:
    """What the doctor looks at, derived from the config."""

    provider: str
    from_domains: list[str]
    # From domain -> the envelope (bounce) domain SPF is checked on; None = the provider's own
    envelope: dict[str, str | None] = field(default_factory=dict)
    dkim_domain: str | None = None  # d= of the signature, when known


def _bounce_domain(settings: Settings) -> str | None:
    """The domain of ``mail.bounce_address`` when this version of the config has one."""
    value = settings.mail.model_dump(by_alias=True).get("bounce_address")
    return domain_of(value) if isinstance(value, str) else None


def plan_for(settings: Settings) -> Plan:
    mail = settings.mail
    senders = [mail.from_, *(d.from_ for d in settings.digests if d.from_)]
    from_domains = list(dict.fromkeys(d for d in map(domain_of, senders) if d))
    bounce = _bounce_domain(settings)
    envelope: dict[str, str | None] = {}
    for domain in from_domains:
        if bounce:
            envelope[domain] = bounce
        elif mail.provider in ("smtp", "maildir"):
            envelope[domain] = domain  # the SMTP mailer's MAIL FROM is the From address
        elif mail.provider == "mailgun" and mail.mailgun is not None:
            envelope[domain] = mail.mailgun.domain
        else:
            envelope[domain] = None
    if mail.provider in SIGNS_RAW and mail.dkim is not None:
        dkim_domain: str | None = mail.dkim.domain
    elif mail.provider == "mailgun" and mail.mailgun is not None:
        dkim_domain = mail.mailgun.domain  # Mailgun signs as its sending domain
    else:
        dkim_domain = None
    return Plan(mail.provider, from_domains, envelope, dkim_domain)


def _sender(settings: Settings, resolver: Resolver) -> tuple[Sender | None, list[Finding]]:
    """Who SPF must authorize (None: nothing is sent), and what stood in the way of knowing."""
    provider = settings.mail.provider
    if provider == "maildir":
        message = "the maildir provider sends nothing; no SPF to check"
        return None, [Finding("info", "spf", "maildir", message)]
    if provider != "smtp":
        return Sender(provider, include=PROVIDER_INCLUDES[provider]), []
    host = settings.mail.smtp.host
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolver.addresses(host)
        except DnsFailure as failure:
            message = f"mail.smtp.host: could not look up: {failure}"
            return Sender(host), [Finding("error", "spf", host, message)]
        if not addresses:
            message = "mail.smtp.host has no A or AAAA record"
            return Sender(host), [Finding("error", "spf", host, message)]
    if all(ipaddress.ip_address(a).is_loopback for a in addresses):
        message = (
            f"mail.smtp.host {host} is a relay on this machine: SPF must authorize the "
            "address that relay sends from, which check cannot see"
        )
        return Sender(host), [Finding("info", "spf", host, message)]
    return Sender(host, addresses=tuple(addresses)), []


def _dkim(settings: Settings, resolver: Resolver) -> list[Finding]:
    mail = settings.mail
    if mail.provider not in SIGNS_RAW:
        message = (
            f"{mail.provider} signs with its own key: publish the DKIM record its dashboard shows"
        )
        return [Finding("info", "dkim", mail.provider, message)]
    if mail.dkim is None:
        message = (
            "mail.dkim is not set: messages go out unsigned and DMARC can pass only through SPF; "
            "set [mail.dkim] and run check --dns again for the record"
        )
        return [Finding("warning", "dkim", mail.provider, message)]
    path = Path(settings.resolve(mail.dkim.private_key_file))
    try:
        pem = path.read_bytes()
    except OSError as exc:
        return [
            Finding(
                "error",
                "dkim",
                str(path),
                f"mail.dkim.private_key_file: cannot read {path}: {exc.strerror}",
            )
        ]
    return check_dkim(resolver, mail.dkim.domain, mail.dkim.selector, pem)


def run_doctor(
    settings: Settings, resolver: Resolver, signer: Signer | None, now: datetime
) -> list[Finding]:
    """Every finding, domain by domain; the one-click round trip last (``signer`` None skips it)."""
    plan = plan_for(settings)
    sender, findings = _sender(settings, resolver)
    envelope_domains = [d for d in dict.fromkeys(plan.envelope.values()) if d]
    spf_domains = list(dict.fromkeys([*plan.from_domains, *envelope_domains]))
    if sender is not None:
        for domain in spf_domains:
            findings += check_spf(resolver, domain, sender)
    findings += _dkim(settings, resolver)
    for domain in plan.from_domains:
        findings += check_dmarc(resolver, domain, plan.envelope[domain], plan.dkim_domain)
    if envelope_domains and plan.provider != "maildir":
        for domain in envelope_domains:
            findings += check_mx(resolver, domain)
    elif plan.provider != "maildir":
        message = (
            f"{plan.provider} receives the bounces on its own domain; it reports them by webhook"
        )
        findings.append(Finding("info", "mx", plan.provider, message))
    if signer is not None:
        findings += round_trip(settings.web_base_url, signer, now)
    return findings


def worst(findings: list[Finding]) -> str:
    """The most severe severity among ``findings`` ("ok" for none)."""
    return min((f.severity for f in findings), key=SEVERITIES.index, default="ok")
