"""`syndicate subscribers import` with files the csv and zip modules give up on: one
line naming the file (and the line), never a traceback, nothing imported."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syndicate.cli import main

GOOD = "email,name\nann@example.com,Ann\n"


@pytest.fixture
def config_extra() -> str:
    return '[[digests]]\nname = "weekly"\ntitle = "Weekly"\nschedule = "0 8 * * MON"\n'


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


def nobody_imported(config_file: Path) -> bool:
    result = run(config_file, "subscribers", "list", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output) == []


def _one_line_error(result: Result) -> str:
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result.output.splitlines()[0]


def test_a_field_over_the_csv_limit_names_file_and_line(config_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(GOOD + 'bob@example.com,"' + "x" * 200_000 + '"\n', encoding="utf-8")
    line = _one_line_error(run(config_file, "subscribers", "import", str(path)))
    assert line.startswith(f"error: {path}:3: broken CSV (field larger than field limit")
    assert nobody_imported(config_file)


def _zip(tmp_path: Path, method: int = zipfile.ZIP_DEFLATED) -> tuple[Path, bytearray]:
    archive = tmp_path / "audience.zip"
    with zipfile.ZipFile(archive, "w", compression=method) as out:
        out.writestr("subscribed.csv", GOOD * 50)
    return archive, bytearray(archive.read_bytes())


def _patch_headers(data: bytearray, local: int, central: int, value: int, size: int) -> None:
    """Set a field of the one member's local and central directory headers."""
    start = data.index(b"PK\x03\x04")
    data[start + local : start + local + size] = value.to_bytes(size, "little")
    start = data.index(b"PK\x01\x02")
    data[start + central : start + central + size] = value.to_bytes(size, "little")


def test_an_encrypted_member_is_one_line(config_file: Path, tmp_path: Path) -> None:
    archive, data = _zip(tmp_path)
    _patch_headers(data, 6, 8, 0x1, 2)  # general purpose flag: encrypted
    archive.write_bytes(bytes(data))
    line = _one_line_error(run(config_file, "subscribers", "import", str(archive)))
    assert line == f"error: {archive}:subscribed.csv: the file is encrypted"
    assert nobody_imported(config_file)


def test_an_unsupported_compression_is_one_line(config_file: Path, tmp_path: Path) -> None:
    archive, data = _zip(tmp_path)
    _patch_headers(data, 8, 10, 1, 2)  # method 1: "shrunk", which Python cannot read
    archive.write_bytes(bytes(data))
    line = _one_line_error(run(config_file, "subscribers", "import", str(archive)))
    assert line.startswith(f"error: {archive}:subscribed.csv: cannot be read from the zip (")
    assert nobody_imported(config_file)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_corrupt_compressed_data_is_one_line(
    config_file: Path, tmp_path: Path, method: int
) -> None:
    archive, data = _zip(tmp_path, method)
    start = data.index(b"PK\x03\x04")
    name_len = int.from_bytes(data[start + 26 : start + 28], "little")
    extra_len = int.from_bytes(data[start + 28 : start + 30], "little")
    body = start + 30 + name_len + extra_len
    for offset in range(body + 2, body + 40):  # damage the compressed stream itself
        data[offset] ^= 0x5A
    archive.write_bytes(bytes(data))
    line = _one_line_error(run(config_file, "subscribers", "import", str(archive)))
    assert line.startswith(f"error: {archive}:subscribed.csv: cannot be read from the zip (")
    assert nobody_imported(config_file)


def test_a_bad_crc_is_one_line(config_file: Path, tmp_path: Path) -> None:
    archive, data = _zip(tmp_path, zipfile.ZIP_STORED)
    data[data.index(b"ann@example.com")] = ord("b")
    archive.write_bytes(bytes(data))
    line = _one_line_error(run(config_file, "subscribers", "import", str(archive)))
    assert line.startswith(f"error: {archive}:subscribed.csv: cannot be read from the zip (")
    assert "CRC" in line
    assert nobody_imported(config_file)
