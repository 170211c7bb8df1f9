"""The dependency rules of docs/architecture.md, checked by import-linter on every test run.

The contracts live in pyproject.toml (`[tool.importlinter]`); this test runs `lint-imports`
over the installed tree so that an import that breaks a layer fails `make test`, naming the
contract and the import chain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    found = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("lint-imports is missing: run `make install` (import-linter is a dev extra)")
    return found


def test_every_architecture_contract_is_kept() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        (
            "ledger/log/kinds.py",
            "api.service._problems",
            "Top-level layers: api over reports over (explain | ledger)",
        ),
        (
            "api/cli/_terminal.py",
            "api.cli._reports",
            "Inside the CLI: the app over the command modules over what they share",
        ),
    ],
    ids=["core-imports-service", "cli-shared-module-imports-a-command-module"],
)
def test_one_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, forbidden: str, contract: str
) -> None:
    """The contracts are not vacuous: the same configuration over a copy of the tree with one
    forbidden import (ledger -> api; in the CLI, what the commands share -> a command
    module, the start of an import cycle) reports it broken."""
    copy = tmp_path / "tree"
    for package in ("ledger", "explain", "reports", "api"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    source = copy / module
    source.write_text(source.read_text(encoding="utf-8") + f"\nimport {forbidden}  # noqa\n")
    result = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=copy,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(copy)},
        check=False,
        timeout=300,
    )
    assert result.returncode != 0
    importer = module.removesuffix(".py").replace("/", ".")
    assert f"{contract} BROKEN" in result.stdout
    assert f"{importer} -> {forbidden}" in result.stdout
