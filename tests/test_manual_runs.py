"""Manual CLI runs show in ``status`` and ``/metrics`` like scheduled ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from syndicate.cli import main
from syndicate.core.config import load_settings
from syndicate.service.context import App
from syndicate.web import create_app
from tests.support import EXAMPLES, write_config

SITE = """
[[feeds]]
name = "all"
path = "all"

[[digests]]
name = "weekly"
title = "Weekly"
feed = "all"
schedule = "0 8 * * MON"
lookback = "3650d"
"""


def run(config: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, ["--config", str(config), *args], env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_runs_are_recorded_for_status_and_metrics(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, SITE)
    run(config, "import", str(EXAMPLES))
    run(config, "subscribers", "add", "ada@example.org")
    before = json.loads(run(config, "status", "--json"))
    assert all(job["last"] is None for job in before["jobs"])

    run(config, "feeds", "build")
    run(config, "digest", "send", "weekly")
    run(config, "deliver", "--once")

    report = json.loads(run(config, "status", "--json"))
    jobs = {job["job"]: job for job in report["jobs"]}
    assert jobs["feeds"]["last"]["status"] == "ok"
    assert jobs["feeds"]["last"]["slot"].startswith("manual:")
    assert jobs["feeds"]["last"]["counts"]["build_files_written"] > 0
    assert jobs["digest:weekly"]["last"]["counts"]["queued"] == 1
    assert jobs["deliver"]["last"]["counts"]["sent"] == 1
    assert report["workers"] == []  # the finished `deliver --once` is not a worker

    text = run(config, "status", env={"COLUMNS": "60"})
    written = jobs["feeds"]["last"]["counts"]["build_files_written"]
    flat = re.sub(r"\s+", " ", text)
    assert f"ok: {written} written" in flat and "ok: 1 queued" in flat and "ok: 1 sent" in flat
    assert "(manual)" in flat
    assert "bytes_written" not in text  # the rest of the counts are in --json
    assert max(len(line) for line in text.splitlines()) <= 60

    with App(load_settings(config)) as app:
        metrics = create_app(app).test_client().get("/metrics").get_data(as_text=True)
    [last_build] = re.findall(r"^syndicate_last_feed_build_timestamp_seconds (\S+)$", metrics, re.M)
    assert float(last_build) > 0


def test_a_failed_manual_run_is_recorded_as_failed(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///s.db", SITE)
    (tmp_path / "feeds").write_text("a file where the folder should be", encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(config), "feeds", "build"])
    assert result.exit_code == 1 and "cannot write the feeds folder" in result.output
    report = json.loads(run(config, "status", "--json"))
    last = next(job for job in report["jobs"] if job["job"] == "feeds")["last"]
    assert last["status"] == "failed" and "cannot write the feeds folder" in last["error"]


def test_run_once_prints_the_headline_numbers(tmp_path: Path) -> None:
    config = write_config(tmp_path, "sqlite:///s.db", SITE)
    run(config, "import", str(EXAMPLES))
    output = run(config, "--log-level", "error", "run", "--once")
    flat = re.sub(r"\s+", " ", output)
    assert re.search(r"feeds │ ok: \d+ written", flat), output
    assert "build_bytes_written" not in output and "manual:" not in output  # in --json
