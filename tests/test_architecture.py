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


def test_a_core_module_importing_the_service_breaks_the_layers(tmp_path: Path) -> None:
    """The contract is not vacuous: the same configuration over a copy of the tree with one
    forbidden import (ledger -> api) reports it broken."""
    copy = tmp_path / "tree"
    for package in ("ledger", "explain", "reports", "api"):
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    kinds = copy / "ledger" / "log" / "kinds.py"
    kinds.write_text(kinds.read_text(encoding="utf-8") + "\nimport api.service.problems  # noqa\n")
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
    assert "BROKEN" in result.stdout and "ledger.log.kinds -> api.service.problems" in result.stdout
