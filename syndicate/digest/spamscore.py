"""An edition's SpamAssassin score, before it is sent (``syndicate digest check``).

Runs the installed ``spamassassin`` (Debian package ``spamassassin``) on the exact
message a subscriber would get, in test mode with local tests only (``-t -L``: no DNS
blocklists, no network) and without creating a preferences file (``-x``). The first
run on a machine compiles the rules, hence a generous but bounded timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field

from syndicate.digest.check import Finding

PROGRAM = "spamassassin"
TIMEOUT_SECONDS = 180
_DETAILS = re.compile(
    r"Content analysis details:\s+\((-?\d+(?:\.\d+)?) points, (-?\d+(?:\.\d+)?) required\)"
)
_RULE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z][A-Z0-9_]+)\s+(.*)$")
_CONTINUATION = re.compile(r"^\s{6,}(\S.*)$")


@dataclass(frozen=True)
class SpamReport:
    """SpamAssassin's verdict: the score, its threshold and the rules hit."""

    score: float
    required: float
    rules: list[tuple[str, float, str]] = field(default_factory=list)  # name, points, what


def find_program() -> str | None:
    return shutil.which(PROGRAM)


def parse_report(output: str) -> SpamReport | None:
    """The score table of ``spamassassin -t`` output (its last report, after the message)."""
    start = output.rfind("Content analysis details:")
    if start < 0:
        return None
    details = _DETAILS.match(output[start:])
    if details is None:
        return None
    rules: list[tuple[str, float, str]] = []
    table = output[start:].split("\n")
    for line in table[1:]:
        rule = _RULE.match(line)
        if rule is not None:
            rules.append((rule.group(2), float(rule.group(1)), rule.group(3).strip()))
            continue
        more = _CONTINUATION.match(line)
        if more is not None and rules:
            name, points, what = rules[-1]
            rules[-1] = (name, points, f"{what} {more.group(1).strip()}")
    return SpamReport(float(details.group(1)), float(details.group(2)), rules)


def score_message(message: bytes, program: str, *, timeout: float = TIMEOUT_SECONDS) -> SpamReport:
    """Run SpamAssassin on ``message``; ``OSError``/``subprocess`` errors propagate."""
    done = subprocess.run(
        [program, "-x", "-t", "-L"],
        input=message,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    report = parse_report(done.stdout.decode("utf-8", "replace"))
    if report is None:
        error = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise RuntimeError(error[-1] if error else f"exit status {done.returncode}, no report")
    return report


def spam_findings(
    message: bytes, *, timeout: float = TIMEOUT_SECONDS
) -> tuple[list[Finding], SpamReport | None]:
    """The SpamAssassin findings for a message: its score and every rule that counted."""
    program = find_program()
    if program is None:
        return [
            Finding(
                "info",
                "spamassassin-missing",
                "SpamAssassin is not installed: the spam score was not checked",
                "install it (Debian: apt-get install spamassassin) and run the check again",
            )
        ], None
    try:
        report = score_message(message, program, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [
            Finding(
                "warning",
                "spamassassin-timeout",
                f"SpamAssassin did not answer within {timeout:g} s",
                "run the check again (the first run compiles the rules)",
            )
        ], None
    except (OSError, RuntimeError) as exc:
        return [
            Finding(
                "warning",
                "spamassassin-failed",
                f"SpamAssassin failed: {exc}",
                f"run `{program} -t -L < message.eml` to see why",
            )
        ], None
    counted = [f"{name} ({points:+g}: {what})" for name, points, what in report.rules if points]
    rules = "; ".join(counted) if counted else "no rule scored"
    if report.score >= report.required:
        severity, hint = "error", "the edition would be filed as spam: fix each rule listed"
    elif report.score > 0:
        severity, hint = "warning", "fix each rule listed until the score is 0 or less"
    else:
        severity, hint = "info", "nothing to do"
    return [
        Finding(
            severity,
            "spamassassin",
            f"SpamAssassin score {report.score:g} (spam at {report.required:g}): {rules}",
            hint,
        )
    ], report
