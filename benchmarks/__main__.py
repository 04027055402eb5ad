"""``make bench``: run every benchmark and write benchmarks/RESULTS.md.

    python -m benchmarks [--quick]

Each script measures its figures beside a reference in the same run (these machines
are noisy, so ratios matter more than absolute numbers; see ``measure.py``) and prints
its rows; this runner prints them and records them with a description of the machine.
``--quick`` keeps the 10,000 articles (start-up would dominate fewer) but imports them
once, and sends to fewer recipients.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (title, script, full-size arguments, --quick arguments); "{work}" is a scratch folder
# shared by the import and feeds benchmarks (the feeds build reads the imported store).
SCRIPTS = [
    (
        "Import: Markdown files through `syndicate import`",
        "bench_import.py",
        ["--articles", "10000", "--chunk", "1000", "--runs", "3", "--work", "{work}"],
        ["--articles", "10000", "--chunk", "1000", "--runs", "1", "--work", "{work}"],
    ),
    (
        "Feeds: full build beside Hugo and feedgen",
        "bench_feeds.py",
        ["--articles", "10000", "--runs", "3", "--work", "{work}"],
        ["--articles", "10000", "--runs", "3", "--work", "{work}"],
    ),
    (
        "Fan-out: personalised messages from one edition",
        "bench_render.py",
        ["--recipients", "10000", "--naive", "30", "--runs", "5"],
        ["--recipients", "2000", "--naive", "10", "--runs", "3"],
    ),
    (
        "SMTP: drain beside a bare smtplib loop",
        "bench_delivery.py",
        ["--recipients", "10000", "--runs", "3"],
        ["--recipients", "1000", "--runs", "3"],
    ),
    (
        "Outbox: enqueue, HTTP batch delivery with 4 workers, memory",
        "bench_outbox.py",
        ["--enqueue", "100000", "--send", "20000", "--memory", "100000", "--runs", "3"],
        ["--enqueue", "20000", "--send", "4000", "--memory", "20000", "--runs", "2"],
    ),
    (
        "Topics: compose for 100,000 readers with random topics beside one selection",
        "bench_topics.py",
        ["--readers", "100000", "--topics", "8", "--runs", "3"],
        ["--readers", "20000", "--topics", "8", "--runs", "2"],
    ),
    ("Sources: pull a 1,000-entry feed beside feedparser", "bench_sources.py", [], []),
    ("CLI start-up: --version, --help, completion", "bench_startup.py", [], []),
    (
        "Console: pages on 100,000 subscribers and 1,000,000 deliveries",
        "bench_console.py",
        [],
        [],
    ),
]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{platform.system()} {platform.release()} on {platform.machine()}: {cpu}, "
        f"{os.cpu_count()} cores{memory}; Python {platform.python_version()}; "
        f"PostgreSQL rows {'on' if os.environ.get('SYNDICATE_TEST_DATABASE_URL') else 'off'}"
    )


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    sections = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="syndicate-bench-") as work:
        for title, script, full_args, quick_args in SCRIPTS:
            args = [a.format(work=work) for a in (quick_args if quick else full_args)]
            print(f"== {title} ({script} {' '.join(args)})", flush=True)
            started = time.monotonic()
            result = subprocess.run(
                [sys.executable, str(HERE / script), *args],
                capture_output=True,
                text=True,
                cwd=HERE,
            )
            elapsed = time.monotonic() - started
            table = result.stdout.rstrip()
            print(table, flush=True)
            if result.returncode != 0:
                failed = True
                print(result.stderr[-2000:], file=sys.stderr)
                table += f"\n\n(failed with exit code {result.returncode})"
            shown = " ".join(a if a != work else "DIR" for a in args)
            sections.append(
                f"## {title}\n\n`benchmarks/{script} {shown}`, {elapsed:.0f} s\n\n"
                f"```\n{table}\n```\n"
            )
    size = "`make bench` with --quick (smaller sizes)" if quick else "`make bench`"
    report = (
        "# Benchmark results\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with {size} on: {machine()}.\n\n"
        "Every figure is the median of several runs with its spread (min-max), CPU seconds\n"
        "beside wall seconds, measured beside its reference in the same run with the two\n"
        "alternating; each row ends with its goal and MET or MISSED with the measured\n"
        "reason. The machine is shared: wall seconds are noisy, CPU seconds less so.\n\n"
        + "\n".join(sections)
    )
    (HERE / "RESULTS.md").write_text(report, encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
