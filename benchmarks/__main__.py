"""``make bench``: run every benchmark and write benchmarks/RESULTS.md.

Each script measures its figures beside a reference in the same run (these machines
are noisy, so ratios matter more than absolute numbers) and prints its own table;
this runner prints them and records them with a description of the machine.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    ("Feeds: build from a 10,000-article store", "bench_feeds.py", []),
    ("Digest: render once vs per recipient", "bench_render.py", []),
    ("Delivery: personalising, SMTP, batch HTTP", "bench_delivery.py", []),
    ("Outbox: enqueue, workers, memory", "bench_outbox.py", []),
    ("Sources: pull a 1,000-entry feed beside feedparser", "bench_sources.py", []),
    ("CLI start-up: --version, --help, completion", "bench_startup.py", []),
    ("Console: pages on 100,000 subscribers and 1,000,000 deliveries", "bench_console.py", []),
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
    sections = []
    failed = False
    for title, script, args in SCRIPTS:
        print(f"== {title} ({script})", flush=True)
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, str(HERE / script), *args],
            capture_output=True,
            text=True,
            cwd=HERE.parent,
        )
        elapsed = time.monotonic() - started
        table = "\n".join(
            line
            for line in result.stdout.splitlines()
            if "━" not in line and "Ctrl-C" not in line and not line.startswith("syndicate running")
        )
        print(table, flush=True)
        if result.returncode != 0:
            failed = True
            print(result.stderr[-2000:], file=sys.stderr)
            table += f"\n\n(failed with exit code {result.returncode})"
        sections.append(
            f"## {title}\n\n`benchmarks/{script}`, {elapsed:.0f} s\n\n```\n{table}\n```\n"
        )
    report = (
        "# Benchmark results\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `make bench` on: {machine()}.\n\n"
        "Every figure stands beside its reference measured in the same run; where a goal\n"
        "is missed the table says so.\n\n" + "\n".join(sections)
    )
    (HERE / "RESULTS.md").write_text(report, encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
