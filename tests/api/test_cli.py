"""The `govledger` command line, run as a real subprocess against a SQLite ledger in tmp.

Every failure prints one line on stderr and exits 1; bad input writes nothing.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ledger.store import LedgerSettings, open_ledger

GOVLEDGER = Path(sys.executable).parent / "govledger"


@dataclass
class Cli:
    """One ledger (database file + home folder) and a way to run `govledger` on it."""

    folder: Path
    base_env: dict[str, str]
    api_key: str | None = None
    """The API key `govledger log` writes with (GOVLEDGER_API_KEY), once a user exists."""
    admin_key: str | None = None
    """Admin adam's API key: access changes after the initial access set are made with it."""
    base: int = 0
    """The ledger's size once set up: its initial access set (users, roles, keys, policy)."""

    @property
    def database(self) -> Path:
        return self.folder / "ledger.db"

    @property
    def home(self) -> Path:
        return self.folder / "home"

    def env(self, api_key: str | None = None) -> dict[str, str]:
        env = {k: v for k, v in self.base_env.items() if not k.startswith("GOVLEDGER_")}
        env.update(
            GOVLEDGER_DATABASE_URL=f"sqlite:///{self.database}",
            GOVLEDGER_HOME=str(self.home),
            NO_COLOR="1",
        )
        key = api_key if api_key is not None else self.api_key
        if key:
            env["GOVLEDGER_API_KEY"] = key
        return env

    def run(
        self, *args: str | Path, stdin: str | None = None, api_key: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(GOVLEDGER), *map(str, args)],
            env=self.env(api_key),
            cwd=self.folder,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def ok(self, *args: str | Path, stdin: str | None = None, api_key: str | None = None) -> str:
        result = self.run(*args, stdin=stdin, api_key=api_key)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def grown(self) -> int:
        """Entries appended since the ledger was set up."""
        return self.size() - self.base

    def size(self) -> int:
        store = open_ledger(
            LedgerSettings(database_url=f"sqlite:///{self.database}", home=self.home)
        )
        try:
            return store.size()
        finally:
            store.engine.dispose()

    def statement_file(self, content: Any, name: str = "statement.json") -> Path:
        path = self.folder / name
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return path


def make_cli(
    folder: Path, env: dict[str, str], user: str = "dana", *, register: bool = True
) -> Cli:
    """A new ledger whose initial access set is admin adam and one data scientist, whose
    API key `log` writes with; with `register`, model credit-scoring is registered (a
    user's run is refused for a model nobody registered)."""
    folder.mkdir(parents=True, exist_ok=True)
    cli = Cli(folder, env)
    cli.ok("init", "--origin", "bank.example/credit-models")
    cli.admin_key = add_user(cli, "adam", "admin")
    cli.api_key = add_user(cli, user, "data_scientist")
    if register:
        registration = {"kind": "model.registered", "model": "credit-scoring"}
        cli.ok("log", cli.statement_file(registration, "registration.json"))
    cli.base = cli.size()
    return cli


def add_user(cli: Cli, name: str, *roles: str) -> str:
    """Create a user with `govledger users add`; return the API key it printed. Part of the
    initial access set while the ledger is being set up, then made by admin adam."""
    args = ["users", "add", name, *[a for role in roles for a in ("--role", role)]]
    if cli.base:
        out = cli.ok(*args, api_key=cli.admin_key)
    else:
        out = subprocess.run(
            [str(GOVLEDGER), *args],
            env={k: v for k, v in cli.env().items() if k != "GOVLEDGER_API_KEY"},
            cwd=cli.folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    return out.strip().splitlines()[-1]


def run_statement(version: str = "1.0") -> dict[str, Any]:
    return {
        "kind": "run.training",
        "model": "credit-scoring",
        "version": version,
        "payload": {"params": {"depth": 3}, "metrics": {"auc": 0.81}},
    }


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory, child_python_env: dict[str, str]) -> Cli:
    """A ledger with one run, for commands that must not write (bad input)."""
    cli = make_cli(tmp_path_factory.mktemp("shared"), child_python_env)
    cli.ok("log", cli.statement_file(run_statement("1.0")))
    return cli


@pytest.fixture
def cli(tmp_path: Path, child_python_env: dict[str, str]) -> Cli:
    return make_cli(tmp_path / "ledger", child_python_env)


# --- init and log --------------------------------------------------------------------------------


def test_init_creates_the_ledger_and_its_private_key(
    tmp_path: Path, child_python_env: dict[str, str]
) -> None:
    cli = Cli(tmp_path, child_python_env)
    out = cli.ok("init", "--origin", "bank.example/credit-models")
    assert "bank.example/credit-models" in out
    assert stat.S_IMODE((cli.home / "ledger.key").stat().st_mode) == 0o600
    assert (cli.home / "ledger.pub").read_text().startswith("bank.example/credit-models+")
    assert "entries:      0" in cli.ok("init")  # again: nothing changes
    assert cli.size() == 0


def test_log_appends_a_statement_from_a_json_file(cli: Cli) -> None:
    out = cli.ok("log", cli.statement_file(run_statement()))
    assert out.startswith(f"seq {cli.base}  run.training  ")
    assert len(out.split()[-1]) == 64
    out = cli.ok("log", "-", stdin=json.dumps([run_statement("2.0"), run_statement("3.0")]))
    assert [int(line.split()[1]) for line in out.splitlines()] == [cli.base + 1, cli.base + 2]
    assert cli.grown() == 3


def test_log_writes_as_the_user_of_the_api_key(cli: Cli) -> None:
    """Not the login (the old `--actor` default): the actor is who the API key belongs to."""
    cli.api_key = add_user(cli, "dora", "data_scientist")
    cli.base_env = {**cli.base_env, "USER": "root", "LOGNAME": "root"}
    cli.ok("log", cli.statement_file(run_statement()))
    store = open_ledger(LedgerSettings(database_url=f"sqlite:///{cli.database}", home=cli.home))
    try:
        assert store.entry(store.size() - 1).statement.actor == "dora"
    finally:
        store.engine.dispose()


@pytest.mark.parametrize(
    ("api_key", "expected"),
    [
        (None, "error: set GOVLEDGER_API_KEY to your API key"),
        ("glk_0123456789abcdef_" + "x" * 43, "error: API key is unknown or revoked"),
        ("not-a-key", "error: malformed API key"),
    ],
    ids=["none", "unknown", "malformed"],
)
def test_log_without_a_valid_api_key_is_one_line_and_writes_nothing(
    shared: Cli, api_key: str | None, expected: str
) -> None:
    before = shared.size()
    anonymous = Cli(shared.folder, shared.base_env, api_key=api_key)
    line = one_line_error(anonymous.run("log", shared.statement_file(run_statement("8.0"))))
    assert line.startswith(expected)
    assert shared.size() == before


def test_log_with_a_revoked_api_key_is_refused(cli: Cli) -> None:
    cli.ok("users", "revoke", "dana")
    line = one_line_error(cli.run("log", cli.statement_file(run_statement())))
    assert line == "error: API key is unknown or revoked"
    assert cli.grown() == 1  # the revocation, and nothing else


def test_log_refuses_a_statement_naming_another_actor(cli: Cli) -> None:
    named = {**run_statement(), "actor": "fiona"}
    line = one_line_error(cli.run("log", cli.statement_file(named)))
    assert line.startswith("error: dana cannot submit a statement as fiona")
    assert cli.grown() == 0
    assert cli.ok("log", cli.statement_file({**run_statement(), "actor": "dana"}))


def test_log_with_an_idempotency_key_writes_once(cli: Cli) -> None:
    path = cli.statement_file(run_statement())
    first = cli.ok("log", path, "--idempotency-key", "job-17")
    assert cli.ok("log", path, "--idempotency-key", "job-17") == first
    assert cli.grown() == 1


NAN_RUN = (
    '{"kind": "run.training", "model": "credit-scoring", "version": "9.0", '
    '"payload": {"metrics": {"auc": NaN}}}'
)
BAD_INPUT: dict[str, tuple[Callable[[Cli], list[str | Path]], str]] = {
    "nan": (lambda c: ["log", c.statement_file(NAN_RUN)], "NaN"),
    "unknown-kind": (
        lambda c: ["log", c.statement_file({**run_statement("9.0"), "kind": "run.magic"})],
        "unknown statement kind",
    ),
    "missing-reason": (
        lambda c: [
            "log",
            c.statement_file(
                {"kind": "model.retired", "model": "credit-scoring", "version": "1.0"}
            ),
        ],
        "requires a reason",
    ),
    "not-json": (lambda c: ["log", c.statement_file("{kind: run.training")], "not valid JSON"),
    "missing-file": (lambda c: ["log", c.folder / "nowhere.json"], "nowhere.json"),
    "version-logged-twice": (
        lambda c: ["log", c.statement_file(run_statement("1.0"))],
        "already logged",
    ),
    "bad-statement-in-a-batch": (
        lambda c: [
            "log",
            c.statement_file([run_statement("9.0"), {**run_statement("9.1"), "kind": "nope"}]),
        ],
        "unknown statement kind",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_prints_one_line_exits_1_and_writes_nothing(shared: Cli, case: str) -> None:
    arguments, expected = BAD_INPUT[case]
    before = shared.size()
    line = one_line_error(shared.run(*arguments(shared)))
    assert line.startswith("error: ")
    assert expected in line
    assert shared.size() == before


def test_commands_on_a_folder_without_a_ledger_say_to_run_init(
    tmp_path: Path, child_python_env: dict[str, str]
) -> None:
    line = one_line_error(Cli(tmp_path, child_python_env).run("verify"))
    assert "govledger init" in line


# --- verify, checkpoint, export, verify-bundle, import --------------------------------------------


def _tamper_reason(database: Path, seq: int) -> None:
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER entries_no_update")
        conn.execute("UPDATE entries SET reason = 'edited' WHERE seq = ?", (seq,))


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, child_python_env: dict[str, str]) -> Cli:
    """A ledger with three runs, for commands that read it (verify, export...)."""
    cli = make_cli(tmp_path_factory.mktemp("populated"), child_python_env)
    cli.ok("log", "-", stdin=json.dumps([run_statement(v) for v in ("1.0", "2.0", "3.0")]))
    return cli


def test_verify_exits_0_on_an_honest_ledger(populated: Cli) -> None:
    assert populated.ok("verify").startswith(f"OK: {populated.size()} entries")
    report = json.loads(populated.ok("verify", "--json"))
    assert report["ok"] is True and report["size"] == populated.base + 3


def test_verify_exits_1_after_tampering_naming_the_seq(cli: Cli) -> None:
    cli.ok("log", "-", stdin=json.dumps([run_statement("1.0"), run_statement("2.0")]))
    _tamper_reason(cli.database, cli.base + 1)
    line = one_line_error(cli.run("verify"))
    assert line.startswith(f"FAILED at seq {cli.base + 1}: hash-mismatch")


def test_a_kept_checkpoint_catches_a_truncated_ledger(cli: Cli) -> None:
    cli.ok("log", "-", stdin=json.dumps([run_statement(str(v)) for v in range(4)]))
    note = cli.ok("checkpoint")
    assert note.splitlines()[:2] == ["bank.example/credit-models", str(cli.base + 4)]
    kept = cli.folder / "kept.checkpoint"
    kept.write_text(note)
    with sqlite3.connect(cli.database) as conn:
        for trigger in ("entries_no_delete", "checkpoints_no_delete"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("DELETE FROM entries WHERE seq >= ?", (cli.base + 2,))
        conn.execute("DELETE FROM checkpoints")
        conn.execute("UPDATE ledger_head SET size = ?", (cli.base + 2,))
    line = one_line_error(cli.run("verify", "--checkpoint", kept))
    assert f"FAILED at seq {cli.base + 2}: truncated" in line


def test_export_then_verify_bundle_offline(populated: Cli, tmp_path: Path) -> None:
    bundle = tmp_path / "evidence.jsonl"
    size = populated.size()
    assert f"Exported {size} entries" in populated.ok("export", "--out", bundle)
    key = (populated.home / "ledger.pub").read_text().strip()
    offline = Cli(tmp_path / "elsewhere", populated.base_env)  # no database, no home
    offline.folder.mkdir()
    assert f"OK: {size} entries" in offline.ok("verify-bundle", bundle, "--key", key)
    lines = bundle.read_text().splitlines(keepends=True)
    lines[-1] = lines[-1].replace('"depth": 3', '"depth": 4')
    bundle.write_text("".join(lines))
    line = one_line_error(offline.run("verify-bundle", bundle, "--key", key))
    assert line.startswith(f"FAILED at seq {size - 1}: hash-mismatch")


def test_import_copies_a_bundle_into_a_second_ledger(populated: Cli, tmp_path: Path) -> None:
    bundle = tmp_path / "evidence.jsonl"
    populated.ok("export", "--out", bundle)
    key = (populated.home / "ledger.pub").read_text().strip()
    copy = Cli(tmp_path / "copy", populated.base_env)  # a new, empty ledger
    copy.folder.mkdir()
    copy.ok("init", "--origin", "bank.example/credit-models")
    size = populated.size()
    assert f"Imported {size} entries" in copy.ok("import", bundle, "--key", key)
    original = json.loads(bundle.read_text().splitlines()[1])["note"].splitlines()[2]
    report = json.loads(copy.ok("verify", "--json"))
    assert report["ok"] is True and report["size"] == size
    assert base64.b64decode(original).hex() == report["root"]
    assert copy.size() == size
