"""What a run records of its environment ("govledger-environment/1"), captured by the client.

Pure: no service. The client against a real service is tests/api/test_run_reproducibility.py."""

from __future__ import annotations

import subprocess
import warnings
from pathlib import Path

import pytest

from ledger.client import run_environment
from ledger.client._environment import git_checkout, installed_distributions, lock_file_record
from ledger.errors import InvalidStatement, LockFileInvalid
from ledger.log.kinds import Kind
from ledger.log.payloads import RunEnvironment, validate_payload


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def test_the_environment_names_python_platform_and_every_distribution_sorted() -> None:
    env = run_environment(lock_file=None, git=None)
    RunEnvironment.model_validate(env)
    assert env["scheme"] == "govledger-environment/1"
    assert env["python"]["implementation"] == "CPython" and env["python"]["version"][:2] == "3."
    assert env["platform"]["machine"] and env["platform"]["system"]
    packages = env["packages"]
    assert list(packages) == sorted(packages)
    assert "pydantic" in packages and "lock_file" not in env and env["git"] is None
    assert installed_distributions() == packages  # kept while sys.path is unchanged


def test_a_lock_file_is_recorded_by_name_and_digest_instead_of_the_distributions(
    tmp_path: Path,
) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text('version = 1\n[[package]]\nname = "numpy"\nversion = "2.1.0"\n')
    env = run_environment(lock_file=lock, git=None)
    assert "packages" not in env
    assert env["lock_file"]["name"] == "uv.lock" and env["lock_file"]["format"] == "toml"
    assert str(tmp_path) not in str(env)  # a file name, never a path (no user names)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# pip-compile\nnumpy==2.1.0 \\\n    --hash=sha256:ab\npandas>=2\n")
    assert lock_file_record(requirements)["format"] == "requirements"


@pytest.mark.parametrize(
    ("name", "text", "says"),
    [
        ("uv.lock", "version = [unclosed\n", "does not parse"),
        ("Pipfile.lock", "{not json", "does not parse"),
        ("requirements.txt", "numpy==1\nthis is not a requirement!\n", "line 2"),
    ],
)
def test_a_lock_file_that_does_not_parse_is_refused_saying_so(
    tmp_path: Path, name: str, text: str, says: str
) -> None:
    (tmp_path / name).write_text(text)
    with pytest.raises(LockFileInvalid, match=says):
        lock_file_record(tmp_path / name)
    with pytest.raises(LockFileInvalid, match="cannot be read"):
        lock_file_record(tmp_path / "missing.lock")


def test_git_state_is_the_revision_and_whether_the_tree_is_dirty_with_the_diff_digest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert git_checkout() is None  # not a checkout: absent, not an error
    _git(tmp_path, "init", "-q")
    assert git_checkout() is None  # no commit yet
    (tmp_path / "train.py").write_text("print(1)\n")
    _git(tmp_path, "add", "train.py")
    _git(tmp_path, "commit", "-q", "-m", "first")
    clean = git_checkout()
    assert clean is not None and not clean.dirty and clean.diff_sha256 is None
    (tmp_path / "train.py").write_text("print(2)\n")
    dirty = git_checkout()
    assert dirty is not None and dirty.dirty and dirty.revision == clean.revision
    assert dirty.diff_sha256 is not None
    (tmp_path / "train.py").write_text("print(3)\n")
    other = git_checkout()
    assert other is not None and other.diff_sha256 not in (None, dirty.diff_sha256)
    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    assert git_checkout() is None  # git not installed


def test_run_payloads_with_and_without_an_environment_validate() -> None:
    env = run_environment(lock_file=None, git=None)
    validate_payload(Kind.RUN_TRAINING, {"params": {}, "environment": env, "seeds": {"np": 7}})
    validate_payload(Kind.RUN_TRAINING, {"params": {"depth": 3}})  # an older run
    bad = {**env, "git": {"revision": "a" * 40, "dirty": False, "diff_sha256": "b" * 64}}
    with pytest.raises(InvalidStatement, match="clean work tree has no diff_sha256"):
        validate_payload(Kind.RUN_TRAINING, {"environment": bad})
    with pytest.raises(InvalidStatement, match="seed 'np' must be an integer up to"):
        validate_payload(Kind.RUN_TRAINING, {"seeds": {"np": 2**60}})
    with pytest.raises(InvalidStatement, match=r"environment\.hostname"):
        validate_payload(Kind.RUN_TRAINING, {"environment": {**env, "hostname": "x"}})


def test_a_run_outside_a_checkout_with_a_commit_says_it_records_no_code_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is sent when a run starts, so no service is needed: the warning comes from
    `LedgerClient.run` itself, before the data scientist's training code runs."""
    from ledger.client import LedgerClient, NoCodeRevision

    client = LedgerClient("http://127.0.0.1:9", "glk_unused")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(NoCodeRevision, match="records no code revision: .* not a git checkout"):
        client.run("credit-scoring", "1.0")
    _git(tmp_path, "init", "-q")  # a checkout without a commit is no revision either
    with pytest.warns(NoCodeRevision):
        client.run("credit-scoring", "1.0")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NoCodeRevision)
        client.run("credit-scoring", "1.0", code_revision="abc123")  # named: no warning
        (tmp_path / "train.py").write_text("print('fit')\n")
        _git(tmp_path, "add", "train.py")
        _git(tmp_path, "commit", "-qm", "the training script")
        assert client.run("credit-scoring", "1.0").code_revision is not None
