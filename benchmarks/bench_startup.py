"""Start-up of the command line, beside Python importing click alone.

    .venv/bin/python benchmarks/bench_startup.py [--runs 15]

Each case is a fresh process (as a shell or a completion TAB starts one), run
interleaved with the reference ``python -c "import click"``; CPU seconds (the child's
user + system time) beside wall seconds. The goal (issue #19): ``syndicate --version``
costs at most 2x the reference, because the lazy command group imports no command
module (and so no SQLAlchemy, pydantic or rich) for it. ``--help`` and a completion
TAB share the goal: a shell pays them as often.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.measure import at_most, interleaved, print_rows

GOAL = 2.0
SYNDICATE = str(Path(sys.executable).parent / "syndicate")  # the installed console script
REFERENCE: tuple[str, list[str], dict[str, str]] = (
    "python -c 'import click'",
    [sys.executable, "-c", "import click"],
    {},
)
CASES = [
    ("syndicate --version", [SYNDICATE, "--version"], {}),
    ("syndicate --help", [SYNDICATE, "--help"], {}),
    (
        "completion TAB: syndicate su<TAB>",
        [SYNDICATE],
        {"_SYNDICATE_COMPLETE": "bash_complete", "COMP_WORDS": "syndicate su", "COMP_CWORD": "1"},
    ),
]


def runner(command: list[str], env: dict[str, str]) -> Callable[[], None]:
    def run() -> None:
        subprocess.run(command, check=True, capture_output=True, env={**os.environ, **env})

    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"{args.runs} runs of each, fresh process per run; load average {os.getloadavg()[0]:.1f}")
    rows = []
    for label, command, env in CASES:
        cases = {label: runner(command, env), REFERENCE[0]: runner(REFERENCE[1], REFERENCE[2])}
        for case in cases.values():
            case()  # warm the file cache
        runs = interleaved(dict(cases), args.runs)
        subject, reference = runs[label], runs[REFERENCE[0]]
        rows.append(
            at_most(
                f"{label}: CPU",
                subject.cpu_median,
                reference.cpu_median,
                GOAL,
                measured=subject.describe(),
                reference=f"{REFERENCE[0]}: {reference.describe()}",
                reason=f"{subject.cpu_median - reference.cpu_median:.3f} CPU s over importing "
                "click: the imports `python -X importtime` lists for this command",
            )
        )
    print_rows(rows)


if __name__ == "__main__":
    main()
