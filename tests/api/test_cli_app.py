"""The `govledger` command line is one Typer app built from its command modules (api.cli._app).

The modules are hung on the app in one place, so these tests pin what a user sees of that
assembly: every command and group, in the order `govledger --help` lists them, and the same
app behind every way of starting it (the console script, `python -m api`, `python -m api.cli`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command

from api.cli import app

GOVLEDGER = Path(sys.executable).parent / "govledger"

COMMANDS = {
    "": [
        "init",
        "verify",
        "export",
        "verify-bundle",
        "import",
        "log",
        "checkpoint",
        "import-mlflow",
        "deploy",
        "rollback",
        "retire",
        "status",
        "verify-model",
        "receipt",
        "verify-receipt",
        "monitor",
        "verify-card",
        "diff",
        "check",
        "approve",
        "serve",
        "notice",
        "report",
        "users",
        "policy",
        "keys",
        "runs",
        "webhooks",
        "witness",
    ],
    "report": ["card", "audit", "inventory"],
    "users": ["add", "grant", "confirm", "revoke-role", "key", "revoke", "list"],
    "policy": ["propose", "approve", "list"],
    "keys": ["create", "register"],
    "runs": ["search"],
    "webhooks": ["deliveries", "redeliver"],
    "witness": ["keygen", "serve"],
}


def _command_names(group: Any, prefix: str = "") -> dict[str, list[str]]:
    """Each group's sub-command names, in listing order, keyed by the group's path."""
    found = {prefix: list(group.commands)}
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            found.update(_command_names(command, f"{prefix} {name}".strip()))
    return found


def test_every_command_and_group_is_on_the_one_app_in_the_listed_order() -> None:
    assert _command_names(get_command(app)) == COMMANDS


@pytest.mark.parametrize(
    "start",
    [
        pytest.param([sys.executable, "-m", "api"], id="python -m api"),
        pytest.param([sys.executable, "-m", "api.cli"], id="python -m api.cli"),
    ],
)
def test_every_way_of_starting_it_runs_the_same_app(
    start: list[str], child_python_env: dict[str, str]
) -> None:
    """Only the program name in the usage line differs from the console script's help."""
    env = {**child_python_env, "COLUMNS": "100", "NO_COLOR": "1"}

    def help_of(command: list[str]) -> tuple[int, list[str]]:
        result = subprocess.run(
            [*command, "--help"], env=env, capture_output=True, text=True, timeout=120
        )
        lines = result.stdout.splitlines()
        assert "Usage:" in lines[1], result.stdout + result.stderr
        return result.returncode, lines[2:]

    script = help_of([str(GOVLEDGER)])
    assert script[0] == 0
    assert any(" verify-card " in line for line in script[1])
    assert help_of(start) == script


def _every_command_path() -> list[list[str]]:
    paths: list[list[str]] = [[]]
    for group, names in COMMANDS.items():
        prefix = group.split() if group else []
        paths += [[*prefix, name] for name in names if name not in COMMANDS]
    return paths


@pytest.mark.parametrize("path", _every_command_path(), ids=lambda p: " ".join(p) or "govledger")
def test_no_help_shows_a_python_type_placeholder(path: list[str]) -> None:
    """Options read TEXT, INTEGER, PATH as click writes them, and flags nothing."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0, result.output
    for placeholder in ("<str>", "<bool>", "<int", "<path>", "<float>", "<list["):
        assert placeholder not in result.output, f"{' '.join(path)} --help shows {placeholder}"
    assert "Usage:" in result.output
