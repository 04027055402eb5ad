"""docs/architecture.md describes this repository: every module it names exists, and it
points at no document outside the repository."""

from __future__ import annotations

import re

from tests.support import REPO

DOC = REPO / "docs" / "architecture.md"


def test_every_module_in_the_table_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    named = {
        name for row in rows for name in re.findall(r"`([\w/]+(?:\.py|/))`", row.split("|")[1])
    }
    assert len(named) > 20
    missing = [name for name in sorted(named) if not (REPO / "syndicate" / name).exists()]
    assert missing == []


def test_it_links_only_to_files_in_the_repository() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "DESIGN.md" not in text and "shared project folder" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith(("http://", "https://")):
            assert (DOC.parent / target).exists(), target
