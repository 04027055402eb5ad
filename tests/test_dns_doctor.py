"""``syndicate check --dns`` against a real authoritative DNS server on loopback.

One zone holds a correctly set-up domain and one broken domain per mistake an operator
makes; each test points the CLI at it with ``--nameserver`` and reads the findings and
the records to publish, as a user would.
"""

from __future__ import annotations

import base64
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_httpserver import HTTPServer

from syndicate.cli import main
from syndicate.core.config import load_settings
from syndicate.core.db import transaction
from syndicate.readers import subscribers as subs
from syndicate.service.context import App
from syndicate.service.dnsdoctor.resolver import Resolver
from syndicate.service.dnsdoctor.spf import Evaluator, SpfPermError
from syndicate.web import create_app
from tests.support import T0, free_port
from tests.support.dnsserver import dns_server
from tests.support.webserver import running

SMTP_IP = "203.0.113.25"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _p(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _quoted(value: str) -> str:
    """A TXT value as zone-file strings of at most 255 characters each."""
    return " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))


def _healthy(domain: str, key: str, spf: str | None = "v=spf1 a:smtp.mail.test mx ~all") -> str:
    """Every record of a well set-up domain, less what a broken one leaves out."""
    lines = [
        f"{domain}. 300 IN MX 10 mx.mail.test.",
        f'{domain}. 300 IN TXT "google-site-verification=abc"',
        f"s1._domainkey.{domain}. 300 IN TXT {_quoted(f'v=DKIM1; k=rsa; p={key}')}",
        f'_dmarc.{domain}. 300 IN TXT "v=DMARC1; p=quarantine; rua=mailto:d@{domain}"',
    ]
    if spf:
        lines.append(f"{domain}. 300 IN TXT {_quoted(spf)}")
    return "\n".join(lines)


def _zone(good: str, other: str) -> str:
    includes = " ".join(f"include:l{n}.lookups.test" for n in range(11))
    parts = [
        f"smtp.mail.test. 300 IN A {SMTP_IP}",
        "mx.mail.test. 300 IN A 203.0.113.26",
        'mailgun.org. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
        _healthy("good.test", good),
        _healthy("nospf.test", good, spf=None),
        _healthy("wrongspf.test", good, spf="v=spf1 ip4:198.51.100.7 -all"),
        _healthy("twospf.test", good),
        'twospf.test. 300 IN TXT "v=spf1 include:mailgun.org -all"',
        _healthy("lookups.test", good, spf=f"v=spf1 {includes} -all"),
        *(f'l{n}.lookups.test. 300 IN TXT "v=spf1 ip4:198.51.100.{n} -all"' for n in range(11)),
        _healthy("badkey.test", other),
        _healthy("macro.test", good, spf="v=spf1 exists:%{i}._spf.macro.test -all"),
        _healthy("nodmarc.test", good).replace("_dmarc.nodmarc.test", "_nothing.nodmarc.test"),
        _healthy("pnone.test", good).replace("p=quarantine", "p=none"),
        _healthy("nomx.test", good).replace("nomx.test. 300 IN MX 10 mx.mail.test.", ""),
        _healthy("orgpolicy.test", good).replace("p=quarantine", "p=reject; sp=none"),
        _healthy("news.orgpolicy.test", good).replace("_dmarc.news.orgpolicy.test", "_x.x"),
        # Mailgun sends as mg.elsewhere.test: neither SPF nor DKIM aligns with brand.test.
        _healthy("brand.test", good, spf="v=spf1 include:mailgun.org ~all"),
        _healthy("mg.elsewhere.test", good, spf="v=spf1 include:mailgun.org ~all"),
        # Mailgun sends as mg.strict.test: aligned only under relaxed alignment.
        _healthy("strict.test", good, spf="v=spf1 include:mailgun.org ~all").replace(
            "p=quarantine;", "p=reject; adkim=s; aspf=s;"
        ),
        _healthy("mg.strict.test", good, spf="v=spf1 include:mailgun.org ~all"),
    ]
    return "\n".join(parts) + "\n"


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    good, other = _key(), _key()
    (folder / "good.pem").write_bytes(_pem(good))
    (folder / "zone").write_text(_zone(_p(good), _p(other)), encoding="utf-8")
    return {"good": folder / "good.pem", "zone": folder / "zone"}


@pytest.fixture(scope="module")
def nameserver(keys: dict[str, Path]) -> Iterator[str]:
    with dns_server(keys["zone"].read_text(encoding="utf-8")) as address:
        yield address


def write(
    tmp_path: Path,
    key: Path,
    domain: str,
    *,
    provider: str = "smtp",
    mailgun: str | None = None,
    base_url: str | None = None,
    smtp_host: str = "smtp.mail.test",
) -> Path:
    base_url = base_url or f"http://127.0.0.1:{free_port()}/"
    text = f"""\
[site]
title = "Test News"
url = "https://news.example.org/"

[database]
url = "sqlite:///{tmp_path / "store.db"}"

[mail]
provider = "{provider}"
from = "News <news@{domain}>"

[mail.smtp]
host = "{smtp_host}"

[mail.dkim]
domain = "{domain}"
selector = "s1"
private_key_file = "{key}"

[web]
base_url = "{base_url}"
"""
    if mailgun:
        text += f'\n[mail.mailgun]\ndomain = "{mailgun}"\n'
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def invoke(config: Path, nameserver: str, *args: str) -> Result:
    result = CliRunner(env={"COLUMNS": "160"}).invoke(
        main,
        ["--config", str(config), "check", "--dns", "--nameserver", nameserver, *args],
    )
    assert "Traceback" not in result.output, result.output
    return result


def doctor(config: Path, nameserver: str, *args: str) -> tuple[int, str]:
    result = invoke(config, nameserver, *args)
    return result.exit_code, result.output


def findings(config: Path, nameserver: str, *args: str) -> tuple[int, list[dict[str, str]]]:
    result = invoke(config, nameserver, "--json", *args)
    return result.exit_code, json.loads(result.stdout)["findings"]


def test_a_well_set_up_domain_passes_with_the_unsubscribe_round_trip(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    config = write(tmp_path, keys["good"], "good.test")
    with App(load_settings(config)) as app:
        with transaction(app.engine) as conn:
            reader, _ = subs.add(conn, "ann@example.org", digests=[], now=T0)
        with running(create_app(app)) as url:
            config = write(tmp_path, keys["good"], "good.test", base_url=url + "/")
            code, found = findings(config, nameserver)
            table_code, table = doctor(config, nameserver)
        with app.engine.connect() as conn:
            assert subs.get(conn, reader.id).status == "active"  # nobody was unsubscribed
    assert code == 0 and table_code == 0, table
    by_check = {(f["check"], f["severity"]) for f in found}
    assert {("spf", "ok"), ("dkim", "ok"), ("dmarc", "ok"), ("mx", "ok")} <= by_check
    assert not [f for f in found if f["severity"] == "error"]
    spf = next(f for f in found if f["check"] == "spf")
    assert f"smtp.mail.test ({SMTP_IP}): pass" in spf["message"]
    clicks = [f for f in found if f["check"] == "unsubscribe"]
    assert [f["severity"] for f in clicks] == ["warning", "ok"]  # http, then answered 200
    assert "answered 200 without a redirect" in clicks[1]["message"]
    assert "From good.test aligns with SPF good.test" in table
    assert "deliverability ok" in table.splitlines()[-1]


BROKEN = [
    (
        "nospf.test",
        "spf",
        "no SPF record",
        f'nospf.test. TXT "v=spf1 ip4:{SMTP_IP} ~all"',
    ),
    (
        "wrongspf.test",
        "spf",
        f"gives fail, not pass, for smtp.mail.test ({SMTP_IP})",
        f'wrongspf.test. TXT "v=spf1 ip4:198.51.100.7 ip4:{SMTP_IP} -all"',
    ),
    (
        "twospf.test",
        "spf",
        "2 SPF records",
        f'twospf.test. TXT "v=spf1 a:smtp.mail.test mx include:mailgun.org ip4:{SMTP_IP} ~all"',
    ),
    ("lookups.test", "spf", "needs 11 DNS look-ups; receivers stop at 10", None),
    (
        "badkey.test",
        "dkim",
        "not the public half of mail.dkim.private_key_file",
        's1._domainkey.badkey.test. TXT "v=DKIM1; k=rsa; p=',
    ),
    (
        "nodmarc.test",
        "dmarc",
        "no DMARC record",
        '_dmarc.nodmarc.test. TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@nodmarc.test"',
    ),
    ("nomx.test", "mx", "no MX and no address", "nomx.test. MX 10 <your inbound mail host>."),
]


@pytest.mark.parametrize(("domain", "check", "message", "record"), BROKEN)
def test_each_broken_domain_is_an_error_naming_the_record_to_publish(
    tmp_path: Path,
    keys: dict[str, Path],
    nameserver: str,
    domain: str,
    check: str,
    message: str,
    record: str | None,
) -> None:
    code, found = findings(write(tmp_path, keys["good"], domain), nameserver)
    assert code == 1
    errors = [f for f in found if f["severity"] == "error"]
    assert [f["check"] for f in errors] == [check], errors
    assert message in errors[0]["message"]
    if record is None:
        assert errors[0]["record"] is None
    else:
        assert errors[0]["record"].startswith(record)


def test_the_dkim_record_to_publish_holds_the_configured_key(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    code, output = doctor(write(tmp_path, keys["good"], "badkey.test"), nameserver)
    assert code == 1
    assert "not the public half of mail.dkim.private_key_file [record 1]" in output
    (line,) = [line for line in output.splitlines() if line.startswith("[record 1] ")]
    want = _p(serialization.load_pem_private_key(keys["good"].read_bytes(), None))  # type: ignore[arg-type]
    # One line to paste; DNS strings hold at most 255 characters, so the key is split.
    assert line.startswith('[record 1] s1._domainkey.badkey.test. TXT "v=DKIM1; k=rsa; p=')
    assert want == "".join(re.findall(r'"([^"]*)"', line)).split("p=")[1]
    assert "error: 1 DNS/deliverability error(s)" in output


def test_a_relay_on_this_machine_is_named_and_the_record_still_read(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    config = write(tmp_path, keys["good"], "good.test", smtp_host="127.0.0.1")
    code, found = findings(config, nameserver)
    spf = [(f["severity"], f["message"]) for f in found if f["check"] == "spf"]
    assert spf[0][0] == "info" and "127.0.0.1 is a relay on this machine" in spf[0][1]
    assert spf[1] == ("info", "one SPF record, 2 DNS look-ups of 10; not evaluated for 127.0.0.1")
    assert code == 0
    code, found = findings(write(tmp_path, keys["good"], "nospf.test", smtp_host="::1"), nameserver)
    (error,) = [f for f in found if f["severity"] == "error"]
    assert error["message"] == "no SPF record (TXT v=spf1)" and error["record"] is None
    assert code == 1


def test_a_record_with_macros_is_reported_as_not_evaluated(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    code, found = findings(write(tmp_path, keys["good"], "macro.test"), nameserver)
    (spf,) = [f for f in found if f["check"] == "spf"]
    assert spf["severity"] == "warning"
    assert "not evaluated: macro.test uses a macro (%{i}._spf.macro.test)" in spf["message"]
    assert code == 0


def test_p_none_is_a_warning_with_the_enforcing_record(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    code, found = findings(write(tmp_path, keys["good"], "pnone.test"), nameserver)
    assert code == 0  # a warning alone does not fail the check
    (warning,) = [f for f in found if f["check"] == "dmarc" and f["severity"] == "warning"]
    assert "p=none only monitors" in warning["message"]
    assert warning["record"] == (
        '_dmarc.pnone.test. TXT "v=DMARC1; p=quarantine; rua=mailto:d@pnone.test"'
    )


def test_a_subdomain_without_dmarc_uses_its_organizations_subdomain_policy(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    code, found = findings(write(tmp_path, keys["good"], "news.orgpolicy.test"), nameserver)
    dmarc = [f for f in found if f["check"] == "dmarc"]
    assert dmarc[0]["subject"] == "_dmarc.orgpolicy.test"
    assert dmarc[0]["severity"] == "warning"  # sp=none applies to news.orgpolicy.test
    assert code == 0


def test_mail_sent_through_another_domain_does_not_align(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    config = write(
        tmp_path, keys["good"], "brand.test", provider="mailgun", mailgun="mg.elsewhere.test"
    )
    code, found = findings(config, nameserver)
    assert code == 1
    (error,) = [f for f in found if f["severity"] == "error"]
    assert error["check"] == "dmarc"
    assert (
        "aligns with neither SPF mg.elsewhere.test (relaxed), DKIM mg.elsewhere.test"
        in (error["message"])
    )
    assert error["record"] is None  # no DMARC setting fixes another organization's domain
    spf = [f for f in found if f["check"] == "spf"]
    assert [f["subject"] for f in spf] == ["brand.test", "mg.elsewhere.test"]
    assert all("includes mailgun.org for mailgun" in f["message"] for f in spf)
    assert [f["subject"] for f in found if f["check"] == "mx"] == ["mg.elsewhere.test"]


def test_strict_alignment_suggests_relaxed_when_that_aligns(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    config = write(
        tmp_path, keys["good"], "strict.test", provider="mailgun", mailgun="mg.strict.test"
    )
    code, found = findings(config, nameserver)
    (error,) = [f for f in found if f["severity"] == "error"]
    assert "(strict)" in error["message"]
    assert error["record"] == (
        '_dmarc.strict.test. TXT "v=DMARC1; p=reject; adkim=r; aspf=r; rua=mailto:d@strict.test"'
    )
    assert code == 1


def test_servfail_and_timeouts_are_findings_not_tracebacks(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    code, found = findings(write(tmp_path, keys["good"], "news.servfail.test"), nameserver)
    assert code == 1
    failed = [f for f in found if "SERVFAIL" in f["message"]]
    assert {f["check"] for f in failed} == {"spf", "dkim", "dmarc", "mx"}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # takes queries, never answers
        port = silent.getsockname()[1]
        config = write(tmp_path, keys["good"], "good.test")
        code, found = findings(config, f"127.0.0.1:{port}", "--dns-timeout", "0.2")
    assert code == 1
    messages = [f["message"] for f in found if f["severity"] == "error"]
    assert "mail.smtp.host: could not look up: smtp.mail.test A: no answer within 0.2 s" in messages
    assert "could not look up: _dmarc.good.test TXT: no answer within 0.2 s" in messages


def test_the_unsubscribe_url_must_answer_itself(
    tmp_path: Path, keys: dict[str, Path], nameserver: str, httpserver: HTTPServer
) -> None:
    httpserver.expect_request(re.compile(r"/unsubscribe/.+"), method="POST").respond_with_data(
        "", status=301, headers={"Location": "https://elsewhere.test/"}
    )
    config = write(tmp_path, keys["good"], "good.test", base_url=httpserver.url_for("/"))
    code, found = findings(config, nameserver)
    assert code == 1
    (error,) = [f for f in found if f["severity"] == "error"]
    assert error["check"] == "unsubscribe"
    assert "answered 301 -> https://elsewhere.test/" in error["message"]


def test_a_web_app_signing_with_another_key_is_an_error(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    other = tmp_path / "other"
    other.mkdir()
    web_app = App(load_settings(write(other, keys["good"], "good.test")))
    with web_app, running(create_app(web_app)) as url:  # its own store, so its own key
        code, found = findings(
            write(tmp_path, keys["good"], "good.test", base_url=url + "/"), nameserver
        )
    assert code == 1
    (error,) = [f for f in found if f["severity"] == "error"]
    assert "refused a link signed with the key check sees" in error["message"]


def test_an_unreachable_web_app_is_a_warning(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    code, found = findings(write(tmp_path, keys["good"], "good.test"), nameserver)
    assert code == 0
    (skipped,) = [f for f in found if f["check"] == "unsubscribe" and "skipped" in f["message"]]
    assert skipped["severity"] == "warning"


def test_a_bad_nameserver_is_one_line(tmp_path: Path, keys: dict[str, Path]) -> None:
    code, output = doctor(write(tmp_path, keys["good"], "good.test"), "127.0.0.1:99999")
    assert code == 1
    assert "--nameserver 127.0.0.1:99999: the port must be a number from 1 to 65535" in output


SPF_CASES = [
    ("v=spf1 redirect=mailgun.org", "198.51.100.9", "pass"),
    ("v=spf1 ip6:2001:db8::/32 -all", "2001:db8::25", "pass"),
    ("v=spf1 mx/24 -all", "203.0.113.200", "pass"),
    ("v=spf1 include:mailgun.org ~all", SMTP_IP, "softfail"),
    ("v=spf1 ?all", SMTP_IP, "neutral"),
    ("v=spf1 exists:mx.mail.test -all", SMTP_IP, "pass"),
    ("v=spf1 exists:nothing.mail.test a ~all", SMTP_IP, "softfail"),
    ("v=spf1 a:mx.mail.test/16 -all", "203.0.200.1", "pass"),
    ("v=spf1 a:mx.mail.test -all", "203.0.113.27", "fail"),
    ("v=spf1 ip4:999.1.1.1 -all", SMTP_IP, "permerror"),
    (
        "v=spf1 exists:n1.mail.test exists:n2.mail.test exists:n3.mail.test -all",
        SMTP_IP,
        "permerror",
    ),
    ("v=spf1 foo:bar -all", SMTP_IP, "permerror"),
    ("v=spf1 include:mx.mail.test -all", SMTP_IP, "permerror"),  # no SPF record there
]


@pytest.fixture(scope="module")
def spf_zone() -> Iterator[str]:
    """One domain per case (case0.eval.test ...) on one server."""
    lines = [
        "mx.mail.test. 300 IN A 203.0.113.26",
        'mailgun.org. 300 IN TXT "v=spf1 ip4:198.51.100.0/24 -all"',
    ]
    for number, (record, _, _) in enumerate(SPF_CASES):
        lines.append(f'case{number}.eval.test. 300 IN TXT "{record}"')
        lines.append(f"case{number}.eval.test. 300 IN MX 10 mx.mail.test.")
    with dns_server("\n".join(lines) + "\n") as address:
        yield address


@pytest.mark.parametrize("number", range(len(SPF_CASES)))
def test_the_spf_evaluator_follows_rfc_7208(spf_zone: str, number: int) -> None:
    _, ip, result = SPF_CASES[number]
    evaluator = Evaluator(Resolver(spf_zone, 2.0))
    if result == "permerror":
        with pytest.raises(SpfPermError):
            evaluator.check_host(ip, f"case{number}.eval.test")
    else:
        assert evaluator.check_host(ip, f"case{number}.eval.test") == result


def test_json_report_shape_and_nameserver_needs_dns(
    tmp_path: Path, keys: dict[str, Path], nameserver: str
) -> None:
    config = write(tmp_path, keys["good"], "pnone.test")
    report = json.loads(invoke(config, nameserver, "--json").stdout)
    assert report["ok"] is True and report["worst"] == "warning"
    assert set(report["findings"][0]) == {"severity", "check", "subject", "message", "record"}
    result = CliRunner().invoke(
        main, ["--config", str(config), "check", "--nameserver", nameserver]
    )
    assert result.exit_code == 2 and "--nameserver goes with --dns" in result.output
