"""What changed between two versions (`reports.version_diff`, `govledger diff`), on real
stores, SQLite and PostgreSQL: 1.0 a training run fingerprinted as CSV text, 1.1 its
recalibration with other parameters, data, packages and a dirty work tree, 0.9 an older run
that recorded no environment."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.cli import app
from ledger.errors import UnknownModelVersion, VersionsOfDifferentModels
from ledger.log.entries import Entry, build_statement
from ledger.store import LedgerSettings, LedgerStore
from reports.card import build_card
from reports.documents import card_pdf
from reports.render import card_html
from reports.verify import verify_card
from reports.version_diff import version_diff
from tests.reports.builders import Signer

MODEL = "diff-pd"
FEATURES = ["income", "age", "utilisation"]


def _environment(packages: dict[str, str], git: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "scheme": "govledger-environment/1",
        "python": {"version": "3.11.7", "implementation": "CPython"},
        "platform": {"system": "Linux", "release": "6.8.0", "machine": "x86_64"},
        "packages": packages,
        "git": git,
    }


def _run(version: str, **payload: Any) -> Any:
    kind = "run.recalibration" if "parent_run" in payload else "run.training"
    return build_statement(
        kind=kind,
        model=MODEL,
        version=version,
        actor="dana",
        reason="recalibrated on 2026 Q3" if kind == "run.recalibration" else "",
        payload=payload,
    )


def _catalogue(version: str, income: str) -> Any:
    return build_statement(
        kind="catalogue.recorded",
        model=MODEL,
        version=version,
        actor="dana",
        reason="adverse-action reasons of this version",
        payload={
            "catalogue_version": f"{version}-r1",
            "entries": [
                {"feature": "income", "code": "R01", "statement": income},
                {"feature": "age", "code": "R02", "statement": "Length of credit history"},
            ],
        },
    )


@dataclass
class Story:
    store: LedgerStore
    settings: LedgerSettings
    old: Entry
    first: Entry
    second: Entry
    approvals: dict[str, Entry]


@pytest.fixture
def story(store: LedgerStore, settings: LedgerSettings) -> Story:
    vera, alice = Signer("vera"), Signer("alice")
    store.append(vera.register())
    store.append(alice.register())
    old = store.append(_run("0.9", params={"depth": 2}, features=FEATURES))
    first = store.append(
        _run(
            "1.0",
            algorithm="lightgbm",
            params={"depth": 3, "rate": 0.1},
            metrics={"auc": 0.78, "ks": 0.41},
            features=FEATURES,
            seeds={"numpy": 7},
            code_revision="a" * 40,
            datasets=[
                {"name": "train", "rows": 1000, "sha256": "1" * 64, "columns": FEATURES},
                {"name": "holdout", "rows": 200, "sha256": "2" * 64, "role": "test"},
            ],
            environment=_environment(
                {"numpy": "1.26.4", "pandas": "2.2.0", "xgboost": "2.0.0"},
                {"revision": "a" * 40, "dirty": False},
            ),
        )
    )
    second = store.append(
        _run(
            "1.1",
            parent_run=first.entry_hash.hex(),
            algorithm="lightgbm",
            params={"depth": 4, "rate": 0.1, "leaves": 31},
            metrics={"auc": 0.80, "ks": 0.41},
            features=[*FEATURES[:2], "utilisation", "months_employed"],
            seeds={"numpy": 8},
            code_revision="b" * 40,
            datasets=[
                {
                    "name": "train",
                    "rows": 1200,
                    "sha256": "3" * 64,
                    "columns": [*FEATURES, "months_employed"],
                    "fingerprint": "govledger-columns/1",
                },
                {"name": "holdout", "rows": 200, "sha256": "4" * 64, "role": "test"},
            ],
            environment=_environment(
                {"numpy": "2.1.0", "pandas": "2.1.0", "scikit-learn": "1.5.0"},
                {"revision": "b" * 40, "dirty": True, "diff_sha256": "5" * 64},
            ),
        )
    )
    store.append(_catalogue("1.0", "Income too low"))
    store.append(_catalogue("1.1", "Income insufficient for the amount"))
    approvals = {
        "first-vera": store.append(vera.decide(first, role="validator", reason="ok")),
        "first-alice": store.append(alice.decide(first, role="approver", reason="ok")),
        "second-vera": store.append(vera.decide(second, role="validator", reason="ok")),
    }
    store.checkpoint()
    return Story(store, settings, old, first, second, approvals)


def _changes(diff: Any, aspect: str) -> dict[str, tuple[str, Any, Any]]:
    return {d.item: (d.change, d.before, d.after) for d in diff.of(aspect)}


def test_every_aspect_that_changed_is_listed_with_the_entries_that_establish_it(
    story: Story,
) -> None:
    diff = version_diff(story.store, MODEL, "1.0", "1.1")
    assert _changes(diff, "params") == {
        "depth": ("changed", 3, 4),
        "leaves": ("added", None, 31),
    }
    assert _changes(diff, "metrics") == {"auc": ("changed", 0.78, 0.80)}
    assert _changes(diff, "features") == {"months_employed": ("added", None, "months_employed")}
    assert _changes(diff, "seeds") == {"numpy": ("changed", 7, 8)}
    assert _changes(diff, "datasets") == {
        "train fingerprint scheme": ("changed", "csv-text/1", "govledger-columns/1"),
        "train rows": ("changed", 1000, 1200),
        "train column months_employed": ("added", None, "months_employed"),
        "holdout sha256": ("changed", "2" * 64, "4" * 64),
    }
    assert _changes(diff, "environment") == {
        "package numpy": ("upgraded", "1.26.4", "2.1.0"),
        "package pandas": ("downgraded", "2.2.0", "2.1.0"),
        "package scikit-learn": ("added", None, "1.5.0"),
        "package xgboost": ("removed", "2.0.0", None),
        "git revision": ("changed", "a" * 40, "b" * 40),
        "git dirty": ("changed", False, True),
        "git diff_sha256": ("added", None, "5" * 64),
    }
    assert _changes(diff, "code") == {"code_revision": ("changed", "a" * 40, "b" * 40)}
    assert _changes(diff, "catalogue") == {
        "catalogue_version": ("changed", "1.0-r1", "1.1-r1"),
        "income": ("changed", "R01: Income too low", "R01: Income insufficient for the amount"),
    }
    assert _changes(diff, "approvals") == {"approver alice": ("removed", "granted", None)}
    runs = {story.first.seq, story.second.seq}
    for d in diff.differences:
        seqs = {e.seq for e in d.entries}
        if d.aspect == "approvals":
            assert seqs == {story.approvals["first-alice"].seq}
        elif d.aspect != "catalogue":
            assert seqs == runs, d
    assert [d.aspect for d in diff.differences] == sorted(
        (d.aspect for d in diff.differences),
        key=[
            "params",
            "metrics",
            "features",
            "seeds",
            "datasets",
            "environment",
            "code",
            "catalogue",
            "approvals",
        ].index,
    )
    assert version_diff(story.store, MODEL, "1.1", "1.1").differences == []


def test_an_older_run_without_an_environment_is_compared_and_the_gap_noted(story: Story) -> None:
    diff = version_diff(story.store, MODEL, "0.9", story.first.entry_hash.hex())
    assert diff.before == "0.9" and diff.after == "1.0"
    assert diff.of("environment") == [] and any(
        "0.9 records no environment" in n for n in diff.notes
    )
    assert any("0.9 records no reason catalogue" in n for n in diff.notes)


def test_unknown_versions_and_runs_of_other_models_are_refused_saying_what_exists(
    story: Story,
) -> None:
    with pytest.raises(
        UnknownModelVersion, match=r"diff-pd 2\.0 was never logged: .* 0\.9, 1\.0, 1\.1"
    ):
        version_diff(story.store, MODEL, "1.0", "2.0")
    with pytest.raises(UnknownModelVersion, match="'no-such-model' is not in the ledger"):
        version_diff(story.store, "no-such-model", "1.0", "1.1")
    other = story.store.append(
        build_statement(kind="run.training", model="other-pd", version="1.0", actor="dana")
    )
    with pytest.raises(VersionsOfDifferentModels, match="is of model 'other-pd', not 'diff-pd'"):
        version_diff(story.store, MODEL, "1.0", other.entry_hash.hex())


def _env(settings: LedgerSettings) -> dict[str, str]:
    return {
        "GOVLEDGER_DATABASE_URL": str(settings.database_url),
        "GOVLEDGER_HOME": str(settings.home),
    }


def test_govledger_diff_prints_a_table_and_json_and_one_line_for_a_bad_version(
    story: Story,
) -> None:
    env = {**_env(story.settings), "COLUMNS": "200"}
    table = CliRunner().invoke(app, ["diff", MODEL, "1.0", "1.1"], env=env)
    assert table.exit_code == 0, table.output
    assert table.output.startswith(f"{MODEL} 1.0 (run seq {story.first.seq}) -> 1.1")
    assert "numpy" in table.output and "upgraded" in table.output  # cells wrap at any width
    machine = CliRunner().invoke(app, ["diff", MODEL, "1.0", "1.1", "--json"], env=env)
    assert machine.exit_code == 0, machine.output
    found = json.loads(machine.output)
    assert found["after"]["run"]["entry_hash"] == story.second.entry_hash.hex()
    depth = next(d for d in found["differences"] if d["item"] == "depth")
    assert depth["before"] == 3 and depth["after"] == 4
    assert {e["seq"] for e in depth["entries"]} == {story.first.seq, story.second.seq}
    bad = CliRunner().invoke(app, ["diff", MODEL, "1.0", "9.9"], env=env)
    assert bad.exit_code == 1
    assert bad.output.startswith("error: diff-pd 9.9 was never logged")
    assert bad.output.count("\n") == 1


def test_the_card_of_a_recalibration_says_what_changed_and_what_it_ran_with_and_verifies(
    story: Story, tmp_path: Path
) -> None:
    card = build_card(story.store, None, MODEL, "1.1")
    section = next(s for s in card.extra_sections if s.anchor == "what-changed")
    assert "Compared with version 1.0 (its parent run" in section.intro
    rows = {(r[0], r[1]): r for r in section.tables[0].rows}
    assert rows[("environment", "package numpy")][2:5] == ["upgraded", "1.26.4", "2.1.0"]
    assert rows[("datasets", "holdout sha256")][3] == "2" * 16 + "…"
    cited = {e.seq for e in card.cited_entries()}
    assert {story.first.seq, story.second.seq, story.approvals["first-alice"].seq} <= cited
    html = card_html(card, for_print=False)
    assert "What changed" in html and "months_employed" in html
    first = build_card(story.store, None, MODEL, "1.0")  # compared with 0.9, the one before
    assert "the model&#39;s previous version" in card_html(first, for_print=False)
    repro = next(s for s in card.extra_sections if s.anchor == "reproducibility")
    recorded = dict(repro.tables[0].rows)
    assert recorded["Python"] == "CPython 3.11.7" and recorded["Seed: numpy"] == 8
    assert recorded["Git"] == f"{'b' * 40} (dirty work tree, diff SHA-256 {'5' * 64})"
    assert recorded["Distributions"].startswith("3 installed, listed in the run.recalibration")
    old = build_card(story.store, None, MODEL, "0.9")  # recorded before environments were
    assert not {"reproducibility", "what-changed"} & {s.anchor for s in old.extra_sections}
    assert "Reproducibility" not in card_html(old, for_print=False)
    rendered = card_pdf(story.store, None, MODEL, "1.1")
    path = tmp_path / "card.pdf"
    path.write_bytes(rendered.pdf)
    report = verify_card(path, verifier_key=story.store.meta()["verifier_key"])
    assert report.ok, report.summary()
