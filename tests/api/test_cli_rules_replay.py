"""`govledger verify --rules` and `govledger verify-bundle --rules`, run as real
subprocesses on SQLite and PostgreSQL ledgers: the OK lines, the first violation (exit 1),
a ledger with no access set, a partial bundle, and an access grant edited in the database.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ledger.store import LedgerSettings, LedgerStore
from tests.access import add_user_by_admins
from tests.ledger.factories import training
from tests.ledger.rules_history import History, make_history
from tests.ledger.tamper import disable_append_only_triggers, set_columns

GOVLEDGER = Path(sys.executable).parent / "govledger"

Govledger = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def history(store: LedgerStore) -> History:
    """Signing keys of victor and alice (not gated), then the initial access set."""
    return make_history(store)


@pytest.fixture
def govledger(child_python_env: dict[str, str]) -> Govledger:
    """Run `govledger` on the ledger of some settings, as a real subprocess."""

    def run(settings: LedgerSettings, *args: str | Path) -> subprocess.CompletedProcess[str]:
        return _run(child_python_env, settings, *args)

    return run


def _run(
    base_env: dict[str, str], settings: LedgerSettings, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in base_env.items() if not k.startswith("GOVLEDGER_")}
    env.update(
        GOVLEDGER_DATABASE_URL=settings.database_url,
        GOVLEDGER_HOME=str(settings.home),
        NO_COLOR="1",
    )
    return subprocess.run(
        [str(GOVLEDGER), *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_verify_rules_prints_the_ok_line(
    history: History, settings: LedgerSettings, govledger: Govledger
) -> None:
    add_user_by_admins(history.store, "victor", ["validator"])
    history.register()
    history.approvals(history.run("1.0"))

    result = govledger(settings, "verify", "--rules")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"OK: {history.store.size()} entries")
    assert lines[1].startswith("OK: 8 gated entries replayed, 0 violations")
    body = json.loads(govledger(settings, "verify", "--rules", "--json").stdout)
    assert body["ok"] is True and body["rules"]["ok"] is True and body["rules"]["gated"] == 8


def test_verify_rules_exits_1_at_the_first_violation(
    history: History, settings: LedgerSettings, govledger: Govledger
) -> None:
    history.register()
    early = history.store.append(history.victor.approve(history.run("1.0"), role="validator"))

    result = govledger(settings, "verify", "--rules")

    assert result.returncode == 1
    assert result.stdout.startswith("OK: ")  # the entries verify ...
    (line,) = result.stderr.strip().splitlines()  # ... the rules do not
    assert line.startswith(f"FAILED at seq {early.seq}: forbidden: approval.granted")
    assert "victor cannot decide as validator" in line
    assert govledger(settings, "verify").returncode == 0  # without --rules: entries only


def test_verify_rules_without_an_access_set_says_how_to_record_one(
    store: LedgerStore, settings: LedgerSettings, govledger: Govledger
) -> None:
    store.append(training("1.0"))

    result = govledger(settings, "verify", "--rules")

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: no rules to replay")
    assert "govledger init" in line and "initial access set" in line


def test_verify_bundle_rules_replays_offline_and_refuses_a_partial_bundle(
    history: History, settings: LedgerSettings, govledger: Govledger, tmp_path: Path
) -> None:
    history.register()
    early = history.store.append(history.victor.approve(history.run("1.0"), role="validator"))
    bundle = tmp_path / "ledger.jsonl"
    assert govledger(settings, "export", "--out", bundle).returncode == 0
    offline = LedgerSettings(database_url="sqlite:///nowhere.db", home=tmp_path / "elsewhere")

    result = govledger(offline, "verify-bundle", bundle, "--rules")

    assert result.returncode == 1
    assert "OK: " in result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"FAILED at seq {early.seq}: forbidden: approval.granted")

    lines = bundle.read_text(encoding="utf-8").splitlines(keepends=True)
    bundle.write_text("".join(lines[:-1]), encoding="utf-8")
    cut = govledger(offline, "verify-bundle", bundle, "--rules")
    assert cut.returncode == 1
    (line,) = cut.stderr.strip().splitlines()
    assert line.startswith("FAILED") and "truncated" in line  # no replay of a partial bundle


def test_an_edited_access_grant_is_named_by_verify_as_a_hash_mismatch(
    history: History, settings: LedgerSettings, govledger: Govledger
) -> None:
    add_user_by_admins(history.store, "victor", ["validator"])
    grant = next(
        g
        for g in history.store.rules().grants.values()
        if (g.user, g.role.value) == ("victor", "validator")
    )
    disable_append_only_triggers(history.store.engine)
    set_columns(
        history.store.engine,
        grant.seq,
        payload=json.dumps({"role": "admin", "user": "victor"}, separators=(",", ":")),
    )

    result = govledger(settings, "verify", "--rules")

    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"FAILED at seq {grant.seq}: hash-mismatch")
    plain = govledger(settings, "verify")
    assert plain.returncode == 1 and f"FAILED at seq {grant.seq}: hash-mismatch" in plain.stderr
