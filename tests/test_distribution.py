"""The distribution has a name of its own on the package index; every install line uses it.

`syndicate` on PyPI is an unrelated project (versions up to 3.0.0): an install line
naming it would install someone else's code.
"""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import distribution

from syndicate import __version__
from syndicate.core.errors import DISTRIBUTION, install_hint
from tests.support import REPO

# `pip install syndicate`, `'syndicate[all]'`, `syndicate==1.0`: the other project's name
WRONG_NAME = re.compile(r"""pip install\b[^\n]*?(?<![\w./-])['"]?syndicate(?![\w-])""")


def test_the_project_is_published_under_its_own_name() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == DISTRIBUTION == "syndicate-feeds"
    assert f"{DISTRIBUTION}[all]" in project["optional-dependencies"]["test"]
    assert not any(
        re.match(r"syndicate\b(?!-)", dep)
        for deps in project["optional-dependencies"].values()
        for dep in deps
    )
    assert project["scripts"] == {"syndicate": "syndicate.cli:main"}  # the command stays
    assert distribution(DISTRIBUTION).version == __version__


def test_install_hints_name_the_distribution() -> None:
    assert install_hint("s3") == "pip install 'syndicate-feeds[s3]'"


def test_no_install_line_names_the_other_project() -> None:
    files = [REPO / "README.md", REPO / "Makefile", *sorted((REPO / "docs").glob("*.md"))]
    files += sorted((REPO / "syndicate").rglob("*.py"))
    offenders = [
        f"{path.relative_to(REPO)}: {match[0]}"
        for path in files
        for match in WRONG_NAME.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
    assert WRONG_NAME.search("pip install 'syndicate[s3]'")  # the pattern does catch it
    assert WRONG_NAME.search("pip install -U syndicate")
    assert not WRONG_NAME.search("pip install 'syndicate-feeds[s3]'")
