"""`syndicate subscribers import` with the exports of Mailchimp, Substack, Ghost,
Buttondown and listmonk: their columns, their statuses, suppressed never active."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from syndicate.cli import main

LISTS = Path(__file__).parent / "subscriber_exports"


@pytest.fixture
def config_extra() -> str:
    return '[[digests]]\nname = "weekly"\ntitle = "Weekly"\nschedule = "0 8 * * MON"\n'


def run(config_file: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_file), "--log-level", "error", *args])


def import_list(config_file: Path, name: str) -> dict:
    result = run(config_file, "subscribers", "import", "--json", str(LISTS / name))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def people(config_file: Path) -> dict[str, tuple[str, str]]:
    result = run(config_file, "subscribers", "list", "--json")
    assert result.exit_code == 0, result.output
    return {p["email"]: (p["status"], p["name"]) for p in json.loads(result.output)}


def test_mailchimp_audience_export_three_files(config_file: Path) -> None:
    subscribed = import_list(config_file, "subscribed_members_export_8f3c2a91d4.csv")
    assert subscribed["source"] == "Mailchimp"
    assert subscribed["added"] == 3 and subscribed["warnings"] == []
    unsubscribed = import_list(config_file, "unsubscribed_members_export_8f3c2a91d4.csv")
    assert (unsubscribed["suppressed"], unsubscribed["added"]) == (2, 0)
    cleaned = import_list(config_file, "cleaned_members_export_8f3c2a91d4.csv")
    assert cleaned["suppressed"] == 1
    assert people(config_file) == {
        "ana.silva@example.com": ("active", "Ana Silva"),
        "dup@example.org": ("active", "Dee"),
        # subscribed in the first file, unsubscribed in the second: the "no" wins
        "bo.chen@example.net": ("unsubscribed", "Bo Chen"),
        "carla.r@example.com": ("unsubscribed", "Carla Reyes"),
        "old.box@example.org": ("bounced", "Olu Bakare"),  # "cleaned" in Mailchimp
    }
    shown = run(config_file, "subscribers", "show", "--json", "ana.silva@example.com")
    assert json.loads(shown.output)["timezone"] == "Europe/Lisbon"
    again = run(
        config_file,
        "subscribers",
        "import",
        str(LISTS / "subscribed_members_export_8f3c2a91d4.csv"),
    )
    assert again.exit_code == 0
    # a re-import of the subscribed file does not reactivate the person who left
    assert people(config_file)["bo.chen@example.net"][0] == "unsubscribed"
    assert (
        "Mailchimp export:" in again.output
        and "bo.chen@example.net is unsubscribed" in again.output
    )


def test_substack_email_list(config_file: Path) -> None:
    report = import_list(config_file, "email_list.nighttrains.csv")
    assert report["source"] == "Substack"
    assert (report["added"], report["suppressed"]) == (2, 1)
    assert {k: v[0] for k, v in people(config_file).items()} == {
        "reader.one@example.com": "active",
        "free.reader@example.org": "active",  # a free reader, no paid plan: still subscribed
        "muted@example.net": "unsubscribed",  # email_disabled
    }


def test_ghost_members_export(config_file: Path) -> None:
    report = import_list(config_file, "member-export-2026-02-18.csv")
    assert report["source"] == "Ghost"
    assert people(config_file) == {
        "rosa.fan@example.com": ("active", "Rosa Fan"),
        "quiet.reader@example.org": ("unsubscribed", ""),
        "paid.member@example.net": ("active", "Pat Member"),
    }


def test_buttondown_subscriber_types(config_file: Path) -> None:
    report = import_list(config_file, "buttondown-subscribers.csv")
    assert report["source"] == "Buttondown"
    assert (report["added"], report["pending"], report["suppressed"]) == (2, 1, 3)
    assert {k: v[0] for k, v in people(config_file).items()} == {
        "early.bird@example.com": "active",
        "supporter@example.org": "active",
        "not.confirmed@example.net": "pending",  # never confirmed: not mailed
        "left@example.com": "unsubscribed",
        "bounced.box@example.org": "bounced",
        "spam.clicker@example.net": "complained",
    }


def test_listmonk_statuses(config_file: Path) -> None:
    report = import_list(config_file, "listmonk-subscribers.csv")
    assert report["source"] == "listmonk"
    assert people(config_file) == {
        "lena@example.com": ("active", "Lena Vogel"),
        "blocked@example.org": ("unsubscribed", "Blocked Person"),
        "paused@example.net": ("unsubscribed", "Paused Person"),
    }


def test_unknown_status_rejects_the_row_not_the_file(config_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "listmonk.csv"
    source.write_text(
        "uuid,email,name,attributes,status,created_at,updated_at\n"
        "1,a@example.org,A,{},enabled,,\n"
        "2,b@example.org,B,{},archived,,\n",
        encoding="utf-8",
    )
    result = run(config_file, "subscribers", "import", str(source))
    assert result.exit_code == 0
    assert "1 added" in result.output and "1 rejected" in result.output
    assert "unknown listmonk status 'archived'" in result.output
    assert set(people(config_file)) == {"a@example.org"}


def test_csv_without_an_email_column_is_one_line(config_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "contacts.csv"
    source.write_text("Full Name,E-Mail-Adresse\nAnn,ann@example.org\n", encoding="utf-8")
    result = run(config_file, "subscribers", "import", str(source))
    assert result.exit_code == 1 and "Traceback" not in result.output
    first = result.output.splitlines()[0]
    assert first == f"error: {source}: no email column (found: Full Name, E-Mail-Adresse)"
    assert people(config_file) == {}


def test_unknown_extra_columns_are_named_and_rows_still_imported(
    config_file: Path, tmp_path: Path
) -> None:
    source = tmp_path / "people.csv"
    source.write_text(
        "email,name,company,favourite colour\nann@example.org,Ann,ACME,green\n", encoding="utf-8"
    )
    result = run(config_file, "subscribers", "import", str(source))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning:")]
    assert warnings == [
        f"warning: {source}: read as a syndicate export; ignored unknown column(s) "
        "company, favourite colour"
    ]
    assert people(config_file) == {"ann@example.org": ("active", "Ann")}


def test_own_export_reimported_changes_no_status(config_file: Path, tmp_path: Path) -> None:
    import_list(config_file, "buttondown-subscribers.csv")
    exported = tmp_path / "ours.csv"
    assert run(config_file, "subscribers", "export", "--out", str(exported)).exit_code == 0
    before = people(config_file)
    result = run(config_file, "subscribers", "import", "--json", str(exported))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["source"] == "syndicate"
    assert (report["unchanged"], report["added"], report["rejected"]) == (6, 0, [])
    assert people(config_file) == before  # pending stays pending, suppressed stays suppressed


def test_semicolon_separated_csv_from_a_spreadsheet(config_file: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text("email;name\nann@example.org;Ann Example\n", encoding="utf-8")
    result = run(config_file, "subscribers", "import", str(source))
    assert result.exit_code == 0, result.output
    assert people(config_file) == {"ann@example.org": ("active", "Ann Example")}


def test_mailchimp_zip_of_three_lists_in_one_go(config_file: Path, tmp_path: Path) -> None:
    archive = tmp_path / "members_export_8f3c2a91d4.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for kind in ("subscribed", "unsubscribed", "cleaned"):
            name = f"{kind}_members_export_8f3c2a91d4.csv"
            out.write(LISTS / name, name)
    result = run(config_file, "subscribers", "import", "--json", str(archive))
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["source"] == "Mailchimp"
    assert (report["added"], report["suppressed"]) == (3, 3)
    assert {k: v[0] for k, v in people(config_file).items()} == {
        "ana.silva@example.com": "active",
        "dup@example.org": "active",
        "bo.chen@example.net": "unsubscribed",
        "carla.r@example.com": "unsubscribed",
        "old.box@example.org": "bounced",
    }


def test_a_zip_without_csv_files_is_one_line(config_file: Path, tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("a.jpg", b"\xff\xd8")
    result = run(config_file, "subscribers", "import", str(archive))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"error: {archive}: the zip holds no .csv file"
