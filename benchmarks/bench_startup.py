"""Start-up time of the command line, beside Python importing click alone.

    .venv/bin/python benchmarks/bench_startup.py [--runs 15]

Each case is a fresh process (as a shell or a completion TAB starts one); the table
shows the median and best wall time of --runs runs. The goal: `syndicate --version`
and `--help` under 0.3 s, i.e. no more than a few tens of milliseconds over
`python -c "import click"`, because the lazy group imports no command module
(and so no SQLAlchemy, pydantic or rich) for them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL_SECONDS = 0.3

SYNDICATE = str(Path(sys.executable).parent / "syndicate")  # the installed console script
CASES = [
    ("python -c 'import click' (reference)", [sys.executable, "-c", "import click"], {}),
    ("syndicate --version", [SYNDICATE, "--version"], {}),
    ("syndicate --help", [SYNDICATE, "--help"], {}),
    (
        "completion TAB: syndicate su<TAB>",
        [SYNDICATE],
        {"_SYNDICATE_COMPLETE": "bash_complete", "COMP_WORDS": "syndicate su", "COMP_CWORD": "1"},
    ),
    (
        "python -c 'import syndicate.service.jobs' (what a command used to pay)",
        [sys.executable, "-c", "import syndicate.service.jobs, syndicate.cli"],
        {},
    ),
]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    results = []
    for label, command, env in CASES:
        timed(command, env)  # warm the file cache
        runs = [timed(command, env) for _ in range(args.runs)]
        results.append((label, statistics.median(runs), min(runs)))
    reference = results[0][1]
    load = os.getloadavg()[0]
    print(f"{args.runs} runs each, fresh process per run; load average {load:.1f}")
    print(f"{'case':<62} {'median s':>9} {'best s':>8} {'over ref':>9}")
    for label, median, best in results:
        print(f"{label:<62} {median:>9.3f} {best:>8.3f} {median - reference:>+9.3f}")
    for label, median, _ in results[1:4]:
        met = "met" if median < GOAL_SECONDS else "MISSED"
        print(f"{label}: {median:.3f} s ({met}: < {GOAL_SECONDS} s)")


if __name__ == "__main__":
    main()
