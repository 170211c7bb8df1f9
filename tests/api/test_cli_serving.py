"""`govledger status` and `govledger verify-model`, run as real subprocesses on a SQLite
ledger holding the serving story of `tests.ledger.serving_story` (1.0, replaced by 1.1 at
seq 11 of the story, rolled back to 1.0 at 14; 1.1 retired)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.store import LedgerSettings, open_ledger
from ledger.verify import verify_serving_answer
from tests.api.test_cli import Cli, make_cli, one_line_error
from tests.ledger.serving_story import model_bytes, write_serving_story

STANDALONE = Path(__file__).parents[2] / "ledger" / "verify" / "standalone.py"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, child_python_env: dict[str, str]) -> Cli:
    """A CLI ledger (admin adam, data scientist dana) with the serving story after it."""
    cli = make_cli(tmp_path_factory.mktemp("served"), child_python_env, register=False)
    store = open_ledger(LedgerSettings(database_url=f"sqlite:///{cli.database}", home=cli.home))
    try:
        story = write_serving_story(store)
    finally:
        store.engine.dispose()
    assert story.base == cli.base  # the story's seqs, after the initial access set
    for version in ("1.0", "1.1"):
        (cli.folder / f"model-{version}.txt").write_bytes(model_bytes(version))
    (cli.folder / "model-other.txt").write_bytes(b"a model nobody approved")
    return cli


def test_status_shows_what_serves_now_and_the_history(served: Cli) -> None:
    out = served.ok("status", "credit-scoring")
    assert "credit-scoring in production now" in out
    assert "1.0 (rollback)" in out
    assert hashlib.sha256(model_bytes("1.0")).hexdigest() in out
    assert f"replaced by 1.1 at seq {served.base + 11}" in out


def test_status_as_of_a_seq_and_a_time(served: Cli) -> None:
    at_seq = served.ok("status", "credit-scoring", "--seq", str(served.base + 12), "--json")
    answer = json.loads(at_seq)
    assert [t["version"] for t in answer["serving"]] == ["1.1"]
    promoted = answer["serving"][0]["since"]
    at_time = json.loads(served.ok("status", "credit-scoring", "--at", promoted, "--json"))
    assert at_time["as_of_seq"] == served.base + 11
    assert [t["version"] for t in at_time["serving"]] == ["1.1"]
    shadow = json.loads(served.ok("status", "credit-scoring", "--env", "shadow", "--json"))
    assert [t["version"] for t in shadow["serving"]] == ["1.0"]


def test_status_out_writes_an_answer_that_verifies_offline(served: Cli, tmp_path: Path) -> None:
    out = tmp_path / "answer.json"
    served.ok("status", "credit-scoring", "--seq", str(served.base + 13), "--out", out)
    key = (served.home / "ledger.pub").read_text().strip()
    assert verify_serving_answer(json.loads(out.read_text()), key).ok
    result = subprocess.run(
        [sys.executable, "-I", STANDALONE, "serving", out, "--key", served.home / "ledger.pub"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("OK: credit-scoring in production as of seq")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["status", "fraud-model"], "error: model 'fraud-model' is not in the ledger"),
        (["status", "credit-scoring", "--env", "canary"], "error: unknown environment 'canary'"),
        (["status", "credit-scoring", "--seq", "99999"], "error: seq 99999 is beyond the log"),
        (["status", "credit-scoring", "--at", "2999-01-01"], "error: at 2999-01-01: that day"),
        (["status", "credit-scoring", "--at", "soon"], "error: at: 'soon' is neither"),
    ],
)
def test_status_of_what_cannot_be_answered_is_one_line(
    served: Cli, args: list[str], says: str
) -> None:
    assert one_line_error(served.run(*args)).startswith(says)


def test_verify_model_accepts_the_serving_file(served: Cli) -> None:
    before = served.size()
    out = served.ok("verify-model", served.folder / "model-1.0.txt", "--model", "credit-scoring")
    assert out.startswith("accepted: model-1.0.txt (sha256 ")
    assert "is credit-scoring 1.0's model file, serving in production since seq" in out
    assert served.size() == before  # nothing recorded without --record


def test_verify_model_refuses_the_replaced_file_naming_what_serves(served: Cli) -> None:
    result = served.run(
        "verify-model", served.folder / "model-1.1.txt", "--model", "credit-scoring"
    )
    line = one_line_error(result)
    digest_11 = hashlib.sha256(model_bytes("1.1")).hexdigest()
    digest_10 = hashlib.sha256(model_bytes("1.0")).hexdigest()
    assert line == (
        f"refused: model-1.1.txt (sha256 {digest_11[:12]}…) is credit-scoring 1.1's model "
        f"file, which was replaced by 1.0 at seq {served.base + 14}; production serves 1.0 "
        f"(sha256 {digest_10[:12]}…)"
    )


def test_verify_model_refuses_an_unknown_file(served: Cli) -> None:
    line = one_line_error(
        served.run("verify-model", served.folder / "model-other.txt", "--model", "credit-scoring")
    )
    assert "is no model file of credit-scoring that ever served in production" in line
    assert "production serves 1.0" in line


def test_verify_model_record_appends_serving_checked_for_both_outcomes(served: Cli) -> None:
    before = served.size()
    served.ok(
        "verify-model",
        served.folder / "model-1.0.txt",
        "--model",
        "credit-scoring",
        "--record",
        "--host",
        "scorer-01",
    )
    refused = served.run(
        "verify-model", served.folder / "model-1.1.txt", "--model", "credit-scoring", "--record"
    )
    assert refused.returncode == 1 and "recorded: seq" in refused.stdout
    store = open_ledger(
        LedgerSettings(database_url=f"sqlite:///{served.database}", home=served.home)
    )
    try:
        accepted_entry, refused_entry = store.entry(before), store.entry(before + 1)
        serving_now = store.entry(served.base + 14)
    finally:
        store.engine.dispose()
    assert served.size() == before + 2
    for entry in (accepted_entry, refused_entry):
        assert entry.statement.kind == "serving.checked"
        assert entry.statement.actor == "dana"  # the user of GOVLEDGER_API_KEY
        assert entry.statement.payload["promotion"] == serving_now.entry_hash.hex()
    accepted = accepted_entry.statement.payload
    assert (accepted["outcome"], accepted["host"]) == ("accepted", "scorer-01")
    assert accepted_entry.statement.version == "1.0"
    assert refused_entry.statement.payload["outcome"] == "refused"
    assert refused_entry.statement.version == ""  # 1.1, whose file it is, is retired
    assert refused_entry.statement.payload["host"]  # this host's name by default


def test_verify_model_record_without_an_api_key_writes_nothing(served: Cli) -> None:
    before = served.size()
    result = served.run(
        "verify-model",
        served.folder / "model-1.0.txt",
        "--model",
        "credit-scoring",
        "--record",
        api_key="",
    )
    assert one_line_error(result).startswith("error: set GOVLEDGER_API_KEY")
    assert served.size() == before


def test_verify_model_with_another_ledgers_key_fails(served: Cli, tmp_path: Path) -> None:
    from ledger.log import signing
    from ledger.log.checkpoint import verifier_key

    other = verifier_key("bank.example/credit-models", signing.generate_private_key())
    line = one_line_error(
        served.run(
            "verify-model",
            served.folder / "model-1.0.txt",
            "--model",
            "credit-scoring",
            "--key",
            other,
        )
    )
    assert line.startswith("error: the ledger's answer does not verify: FAILED")
