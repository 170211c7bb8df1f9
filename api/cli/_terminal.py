"""What every `govledger` command prints with, and how a failure becomes one line.

The CLI's error contract (docs/architecture.md, "The command line"): a failure prints one readable
line on stderr, `error: <what happened and what to do>`, and exits non-zero; a traceback
is never shown for a failure the user can fix. Commands decorate themselves with
`friendly_errors` and call `fail` for the checks they make themselves.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from ledger.errors import GovledgerError

console = Console(highlight=False, soft_wrap=True)
"""Standard output: results, one line per fact, no syntax highlighting."""

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
"""Standard error: failures and failed verifications."""

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line on stderr and exit with `code` (1 unless the command documents another)."""
    err_console.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def friendly_errors(func: F) -> F:
    """Turn govledger errors (and unreadable files, and bad JSON) into one line and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GovledgerError as exc:
            fail(exc.message)
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except json.JSONDecodeError as exc:
            fail(f"not valid JSON: {exc.msg} at line {exc.lineno}")

    return wrapper  # type: ignore[return-value]
