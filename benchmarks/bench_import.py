"""Import benchmark: generated Markdown articles through ``syndicate import``.

    .venv/bin/python benchmarks/bench_import.py [--articles 10000] [--chunk 1000]
        [--runs 3] [--work DIR]

The corpus (``corpus.py``: varied length, tags, dates) is split into folders of
``--chunk`` files, imported one ``syndicate import`` process after another into one
fresh SQLite store; each process's CPU and wall seconds are recorded (start-up
included). Then the whole corpus is imported by one ``syndicate import`` into another
fresh store, as a site would. Goals, per run and then the median over runs:
- the last chunk within 1.2x the first (no per-file scan that grows with the table);
- >= 150 files per CPU-second for the one-process import (start-up included).
With ``--work DIR`` the last run's store and corpus stay in DIR for bench_feeds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from corpus import write_corpus
from measure import Row, Runs, print_rows, run_once

CONFIG = """
[site]
title = "Bench News"
url = "https://news.example.org/"
description = "Benchmark"
timezone = "UTC"
author = {{ name = "Desk", email = "desk@news.example.org" }}

[database]
url = "sqlite:///{db}"

[paths]
feeds = "feeds"

[[feeds]]
name = "all"
path = "all"
formats = ["rss"]
limit = 50
per_tag = true

[mail]
from = "Bench <bench@news.example.org>"
"""


def syndicate(config: Path, *args: str) -> list[str]:
    base = [sys.executable, "-m", "syndicate", "--config", str(config), "--log-level", "error"]
    return base + list(args)


def prepare_corpus(folder: Path, articles: int, chunk: int) -> list[Path]:
    """Chunk folders of the corpus (written once; reused when already there)."""
    folders = []
    for first in range(1, articles + 1, chunk):
        part = folder / f"part-{first // chunk:03d}"
        count = min(chunk, articles - first + 1)
        if not part.is_dir() or len(list(part.iterdir())) != count:
            shutil.rmtree(part, ignore_errors=True)
            write_corpus(part, count, first=first)
        folders.append(part)
    return folders


def fresh_store(store: Path) -> Path:
    """An empty, migrated store in ``store``; its config file."""
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    config = store / "config.toml"
    config.write_text(CONFIG.format(db=store / "bench.db"), encoding="utf-8")
    subprocess.run(syndicate(config, "db", "upgrade"), check=True, stdout=subprocess.DEVNULL)
    return config


def import_whole(store: Path, corpus: Path) -> Runs:
    """One ``syndicate import`` of the whole corpus into a fresh store (one run)."""
    config = fresh_store(store)
    runs = Runs()
    run_once(
        lambda: subprocess.run(
            syndicate(config, "import", str(corpus)), check=True, stdout=subprocess.DEVNULL
        ),
        runs,
    )
    return runs


def import_run(store: Path, folders: list[Path]) -> list[Runs]:
    """One import of every chunk into a fresh store; one Runs (one run) per chunk."""
    config = fresh_store(store)
    chunks = []
    for folder in folders:
        runs = Runs(units=len(list(folder.iterdir())))
        run_once(
            lambda f=folder: subprocess.run(
                syndicate(config, "import", str(f)), check=True, stdout=subprocess.DEVNULL
            ),
            runs,
        )
        chunks.append(runs)
    return chunks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--chunk", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        folders = prepare_corpus(work / "corpus", args.articles, args.chunk)
        ratios, rates, firsts, lasts = [], [], [], []
        for _ in range(args.runs):
            chunks = import_run(work / "store", folders)
            first, last = chunks[0].cpu[0], chunks[-1].cpu[0]
            ratios.append(last / first)
            firsts.append(first)
            lasts.append(last)
            whole = import_whole(work / "store-whole", work / "corpus")
            rates.append(args.articles / whole.cpu[0])
            print(
                "run: CPU s per chunk "
                + " ".join(f"{c.cpu[0]:.2f}" for c in chunks)
                + f"; wall s {sum(c.wall[0] for c in chunks):.1f}; one process: CPU "
                f"{whole.cpu[0]:.1f} s, wall {whole.wall[0]:.1f} s",
                flush=True,
            )
    size = f"{args.chunk:,}"
    rows = [
        Row(
            f"import {args.articles:,} Markdown files: the last {size}",
            f"CPU {statistics.median(lasts):.2f} s ({min(lasts):.2f}-{max(lasts):.2f})",
            f"the first {size} of the same run: CPU {statistics.median(firsts):.2f} s "
            f"({min(firsts):.2f}-{max(firsts):.2f})",
            statistics.median(ratios),
            "<= 1.2x",
            statistics.median(ratios) <= 1.2,
            f"ratios per run {', '.join(f'{r:.2f}' for r in ratios)}",
        ),
        Row(
            f"import {args.articles:,} Markdown files: files per CPU-second",
            f"{statistics.median(rates):.0f} files/CPU-s ({min(rates):.0f}-{max(rates):.0f}): "
            "one `syndicate import` of the whole corpus (start-up and its per-file table "
            "included)",
            "150 files/CPU-s",
            statistics.median(rates) / 150,
            ">= 1x (>= 150 files/CPU-s)",
            statistics.median(rates) >= 150,
            f"{statistics.median(rates):.0f} files/CPU-s",
        ),
    ]
    print(f"median of {args.runs} runs")
    print_rows(rows)


if __name__ == "__main__":
    main()
