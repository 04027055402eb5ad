"""Feed build benchmark on generated articles imported through ``syndicate import``.

    .venv/bin/python benchmarks/bench_feeds.py [--articles 10000] [--runs 3] [--work DIR]

The store is bench_import's (``--work DIR``: reused when the previous step left it,
imported here otherwise): one feed ``all`` (RSS, 50 entries, full content) with
``per_tag`` feeds, the outputs Hugo's minimal site has (archive pages are off: Hugo has
none to compare them with). Measured in rounds, subject and reference
alternating, each the median of ``--runs``:

- ``syndicate feeds build`` (a whole process, feeds folder emptied first) beside Hugo
  building the same Markdown files as a minimal site whose only outputs are the home
  RSS and one RSS per tag (``services.rss.limit = 50``, pages listed, never rendered);
  CPU seconds of the whole process each (Hugo's threads included). Goal <= 0.7x.
- the full build in-process (``build_feeds``), with RFC 5005 archive pages of 50 so that
  every article is serialised, beside feedgen alone serialising the same pages' entries
  to RSS. Goal <= 1.5x.
- a rebuild with nothing changed beside the full build, both through the CLI. Goal < 3%.
  Beside it, the floor any command pays: ``python -c "import click"`` and
  ``syndicate --version`` (the interpreter, click and the CLI's own start-up).

The project's modules are byte-compiled first, as an installed wheel's are: with
``PYTHONDONTWRITEBYTECODE`` set every CLI start would otherwise compile them again,
a cost no installed copy pays.
"""

from __future__ import annotations

import argparse
import compileall
import shutil
import subprocess
import sys
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_import import import_run, prepare_corpus, syndicate
from feedgen.feed import FeedGenerator
from measure import Row, at_most, interleaved, print_rows

from syndicate.core.clock import FixedClock
from syndicate.core.config import load_settings
from syndicate.feeds import build_feeds
from syndicate.feeds.build import _Entries, _plan
from syndicate.service.context import App

HUGO_CONFIG = """
baseURL = "https://news.example.org/"
title = "Bench News"
languageCode = "en"
contentDir = "{content}"
publishDir = "{public}"
disableKinds = ["section", "taxonomy", "sitemap", "robotsTXT", "404"]
ignoreErrors = ["error-disable-taxonomy"]
[outputs]
home = ["rss"]
term = ["rss"]
[taxonomies]
tag = "tags"
[services.rss]
limit = 50
[[cascade]]
[cascade._build]
render = "never"
list = "always"
[cascade._target]
kind = "page"
"""
# The articles are dated from 2020 on; the store's clock stands after the newest.
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def feedgen_alone(app: App) -> None:
    """feedgen serialising every page's entries to RSS, as the build has them."""
    with app.engine.connect() as conn:
        plan = _plan(conn, app.settings, app.clock, None)
        entries = _Entries(conn)
        entries.load(plan.pages)
        pages = [(page, entries.of(page)) for page in plan.pages]

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for page, items in pages:
                generator = FeedGenerator()
                generator.id(page.spec.feed_id)
                generator.title(page.spec.title)
                generator.link(href=page.spec.home_url, rel="alternate")
                generator.description(page.spec.description)
                generator.updated(page.updated)
                for entry in items:
                    item = generator.add_entry(order="append")
                    item.id(entry.id)
                    item.title(entry.title)
                    item.link(href=entry.url)
                    item.published(entry.published)
                    item.updated(entry.updated)
                    item.author({"name": entry.author_name or "Desk"})
                    item.summary(entry.summary)
                    if entry.content_html is not None:
                        item.content(entry.content_html, type="html")
                    item.category([{"term": tag} for tag in entry.tags])
                generator.rss_str(pretty=True, encoding="UTF-8", xml_declaration=True)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    compileall.compile_dir(Path(__file__).resolve().parent.parent / "syndicate", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        store = work / "store"
        config = store / "config.toml"
        if not (store / "bench.db").is_file():
            import_run(store, prepare_corpus(work / "corpus", args.articles, 1_000))
        feeds = store / "feeds"
        site = work / "hugo"
        site.mkdir(parents=True, exist_ok=True)
        public = work / "hugo-public"
        (site / "hugo.toml").write_text(
            HUGO_CONFIG.format(content=work / "corpus", public=public), encoding="utf-8"
        )
        hugo = shutil.which("hugo")

        def wipe(name: str) -> None:
            if name == "full build (CLI)":
                shutil.rmtree(feeds, ignore_errors=True)
            if name == "full build (in-process)":
                shutil.rmtree(store / "feeds-archive", ignore_errors=True)
            if name == "hugo":
                shutil.rmtree(public, ignore_errors=True)

        def cli_build() -> None:
            subprocess.run(
                syndicate(config, "feeds", "build"), check=True, stdout=subprocess.DEVNULL
            )

        cases = {
            "full build (CLI)": cli_build,
            "no-change rebuild (CLI)": cli_build,
            "import click": lambda: subprocess.run(
                [sys.executable, "-c", "import click"], check=True
            ),
            "syndicate --version": lambda: subprocess.run(
                [sys.executable, "-m", "syndicate", "--version"],
                check=True,
                stdout=subprocess.DEVNULL,
            ),
        }
        if hugo:
            cases["hugo"] = lambda: subprocess.run(
                [hugo, "--quiet", "-s", str(site)], check=True, stdout=subprocess.DEVNULL
            )
        cli = interleaved(cases, args.runs, before=wipe)
        files = sum(1 for p in feeds.rglob("*.xml"))
        hugo_files = sum(1 for p in public.rglob("*.xml")) if hugo else 0

        # The in-process comparison adds RFC 5005 archive pages of 50 (the same store):
        # feedgen then serialises every article, as the full build does.
        archived = store / "config-archive.toml"
        archived.write_text(
            config.read_text(encoding="utf-8")
            .replace('feeds = "feeds"', 'feeds = "feeds-archive"')
            .replace("per_tag = true", "per_tag = true\narchive = true\narchive_page_size = 50"),
            encoding="utf-8",
        )
        with App(load_settings(archived), clock=FixedClock(NOW)) as app:
            serialise = feedgen_alone(app)
            inproc = interleaved(
                {
                    "full build (in-process)": lambda: build_feeds(
                        app.engine, app.settings, clock=app.clock
                    ),
                    "feedgen alone": serialise,
                },
                args.runs,
                before=wipe,
            )
    full, nochange = cli["full build (CLI)"], cli["no-change rebuild (CLI)"]
    click_floor, version_floor = cli["import click"], cli["syndicate --version"]
    rows: list[Row] = []
    if hugo:
        ref = cli["hugo"]
        rows.append(
            at_most(
                f"full feed build, {args.articles:,} articles, RSS per feed and tag "
                f"({files} files: the feed and one per tag)",
                full.cpu_median,
                ref.cpu_median,
                0.7,
                measured=f"syndicate feeds build: {full.describe()}",
                reference=f"Hugo {hugo_version(hugo)}, home + per-tag RSS only "
                f"({hugo_files} files): {ref.describe()}",
                reason=f"{full.cpu_median:.2f} s vs Hugo {ref.cpu_median:.2f} s of CPU",
            )
        )
    else:
        rows.append(
            Row("full feed build vs Hugo", "", "", None, "<= 0.7x", None, "hugo not installed")
        )
    build, alone = inproc["full build (in-process)"], inproc["feedgen alone"]
    rows.append(
        at_most(
            "full feed build (in-process), with archive pages: every article serialised",
            build.cpu_median,
            alone.cpu_median,
            1.5,
            measured=f"build_feeds: {build.describe()}",
            reference=f"feedgen alone serialising the same pages' entries: {alone.describe()}",
            reason=f"{build.cpu_median - alone.cpu_median:.2f} CPU s beyond feedgen: planning, "
            "loading entries, fingerprints, writing",
        )
    )
    rows.append(
        at_most(
            "no-change rebuild through the CLI",
            nochange.cpu_median,
            full.cpu_median,
            0.03,
            measured=f"{nochange.describe()}; the floor beside it: "
            f"python -c 'import click' CPU {click_floor.cpu_median:.3f} s, "
            f"syndicate --version CPU {version_floor.cpu_median:.3f} s",
            reference=f"full build through the CLI: {full.describe()}",
            reason=f"{nochange.cpu_median:.3f} CPU s against a floor of "
            f"{version_floor.cpu_median:.3f} s (syndicate --version: Python, click and the "
            f"CLI's start-up) = {version_floor.cpu_median / full.cpu_median:.1%} of the full "
            f"build; the check itself adds "
            f"{nochange.cpu_median - version_floor.cpu_median:.3f} s",
        )
    )
    print_rows(rows)


def hugo_version(hugo: str) -> str:
    out = subprocess.run([hugo, "version"], capture_output=True, text=True).stdout
    return out.split()[1] if out else "?"


if __name__ == "__main__":
    main()
