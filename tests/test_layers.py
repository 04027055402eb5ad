"""The one-way import rule of docs/architecture.md holds for every module.

import-linter builds the real import graph (including imports inside functions and
under TYPE_CHECKING) and checks the layers contract in pyproject.toml, so an import
that points up a layer (a stage reaching for the composition root, the service
reaching for the web app) fails here with the offending line.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.support import REPO


def test_no_module_imports_a_layer_above_it() -> None:
    lint = Path(sys.executable).parent / "lint-imports"  # installed with the test extra
    result = subprocess.run(
        [str(lint)], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_the_contract_lists_every_top_level_package() -> None:
    """A new top-level package must be placed in a layer, not slip past the rule."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = config["tool"]["importlinter"]["contracts"]
    layered = {
        name.strip().removeprefix("syndicate.")
        for layer in contract["layers"]
        for name in layer.split("|")
    }
    packages = {
        path.stem if path.suffix == ".py" else path.name
        for path in (REPO / "syndicate").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists())
        or (path.suffix == ".py" and not path.name.startswith("__"))
    }
    assert packages == layered
