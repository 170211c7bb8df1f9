"""Benchmark: the model card of the worst legal entries, rendered to PDF/A-3b.

    python -m bench.bench_card [--case NAME ...]

Every case builds a fresh SQLite ledger holding a version whose entries are as large as the
payload schema (`ledger.payloads`) and the 1 MiB statement limit (`ledger.records`) allow
in one field, then times `reports.documents.card_pdf` (card data, evidence, CycloneDX,
HTML, WeasyPrint) in a child process of its own, so that the peak RSS is that card's:

- params / metrics: as many training parameters (metrics) as fit in 1 MiB (short names);
- datasets: as many dataset fingerprints as fit; features: 5,000 names of 200 characters;
- text: a 5,000-character description, a 20,000-character run reason, note and approval
  reason, each one unbroken word (the layout worst case), and 2,000-character out-of-scope
  uses filling the registration;
- summary: one evaluation of a kind the card does not know, its 1 MiB summary spread over
  scalars, tables of objects, objects of scalars and 64-deep nesting;
- evaluations: 300 evaluations of distinct kinds; approvals: 300 signed decisions;
  notes: 200 notes of 20,000 characters.

Prints one row per case (entries, largest statement, seconds, CPU seconds, peak RSS, pages,
PDF bytes) and the machine. Before the limits of `reports.limits`, the params case took
123 s of CPU and 0.8 GB more memory on the attacker's machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import machine
from ledger.governance import Submission
from ledger.log import signing
from ledger.log.canonical import canonical_json
from ledger.log.entries import MAX_STATEMENT_BYTES, Entry, Statement, build_statement
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import ArtifactStore, LedgerSettings, LedgerStore, init_ledger

MODEL = "worst-case-pd"
VERSION = "1.0"
BUILDER = "dana"
ORIGIN = "bench.example/govledger"
HEADROOM = 4096
"""Bytes kept free below MAX_STATEMENT_BYTES for the statement's other fields."""
console = Console(width=130)


@dataclass
class Signer:
    """An approver with an Ed25519 key, signing on their own machine."""

    name: str
    key: Any

    @classmethod
    def new(cls, name: str) -> Signer:
        return cls(name, signing.generate_private_key())

    @property
    def key_id(self) -> str:
        return signing.key_id_for(signing.public_key_raw(self.key))

    def sign(self, statement: Statement) -> Submission:
        return Submission(statement, signing.sign(self.key, statement.signing_bytes()), self.key_id)

    def register(self) -> Submission:
        payload = {
            "algorithm": "ed25519",
            "key_id": self.key_id,
            "public_key": signing.public_key_b64(self.key),
        }
        return self.sign(
            build_statement(
                kind="key.registered",
                actor=self.name,
                payload=payload,
                issued_at=utc_now_rfc3339(),
            )
        )

    def decide(self, run: Entry, reason: str, *, granted: bool = True) -> Submission:
        return self.sign(
            build_statement(
                kind="approval.granted" if granted else "approval.rejected",
                model=MODEL,
                version=VERSION,
                actor=self.name,
                reason=reason,
                payload={"role": "validator", "run": run.entry_hash.hex()},
                issued_at=utc_now_rfc3339(),
            )
        )


def fitting(item: Callable[[int], Any], wrap: Callable[[list[Any]], dict[str, Any]]) -> int:
    """How many items `item(i)` fit in one payload `wrap(items)` under the 1 MiB limit."""
    budget = MAX_STATEMENT_BYTES - HEADROOM
    sample = [item(i) for i in range(1000)]
    per_item = (len(canonical_json(wrap(sample))) - len(canonical_json(wrap([])))) / 1000
    count = int((budget - len(canonical_json(wrap([])))) / per_item)
    while len(canonical_json(wrap([item(i) for i in range(count)]))) > budget:
        count = int(count * 0.99)
    return count


def _word(length: int, seed: str = "w") -> str:
    """An unbroken word: the layout's worst case (no break opportunity at all)."""
    return (seed + "x" * length)[:length]


def _sha(i: int) -> str:
    return f"{i:064x}"


def _run_payload(case: str) -> dict[str, Any]:
    if case == "params":
        count = fitting(lambda i: (f"p{i:05d}", 0), lambda items: {"params": dict(items)})
        return {"params": {f"p{i:05d}": 0 for i in range(count)}}
    if case == "metrics":
        count = fitting(lambda i: (f"m{i:05d}", 0.5), lambda items: {"metrics": dict(items)})
        return {"metrics": {f"m{i:05d}": 0.5 for i in range(count)}}
    if case == "datasets":

        def dataset(i: int) -> dict[str, Any]:
            return {"name": f"d{i}", "rows": 0, "sha256": _sha(i), "role": "training"}

        count = fitting(dataset, lambda items: {"datasets": items})
        return {"datasets": [dataset(i) for i in range(count)]}
    if case == "features":
        return {"features": [_word(200, f"f{i}_") for i in range(5000)]}
    return {"params": {"depth": 3}}


def _summary() -> dict[str, Any]:
    """A 1 MiB evaluation summary in every shape `reports.tables` knows, plus deep nesting."""
    nested: Any = 1
    for _ in range(60):
        nested = {"n": nested}
    quarter = (MAX_STATEMENT_BYTES - HEADROOM) // 4
    scalars = fitting(lambda i: (f"s{i:05d}", 1), lambda items: dict(items))
    summary: dict[str, Any] = {f"s{i:05d}": 1 for i in range(scalars // 4)}
    rows = [{f"c{j}": j for j in range(40)} for _ in range(quarter // 400)]
    summary["table"] = rows
    summary.update({f"t{i:04d}": [{"a": i}] for i in range(quarter // 40)})
    summary["pairs"] = {f"k{i:05d}": i for i in range(quarter // 16)}
    summary["deep"] = nested
    while (
        len(canonical_json({"evaluation": "x", "summary": summary}))
        > MAX_STATEMENT_BYTES - HEADROOM
    ):
        summary.pop(next(iter(summary)))
    return summary


def _statements(case: str, run: Entry, signers: list[Signer]) -> Iterator[Statement | Submission]:
    long_text = _word(20000)
    if case == "text":
        yield build_statement(
            kind="note",
            model=MODEL,
            version=VERSION,
            actor="carol",
            payload={"text": long_text},
        )
        yield signers[0].decide(run, long_text)
    elif case == "summary":
        yield build_statement(
            kind="evaluation.recorded",
            model=MODEL,
            version=VERSION,
            actor=BUILDER,
            payload={"evaluation": "hostile_summary", "summary": _summary()},
        )
    elif case == "evaluations":
        for i in range(300):
            yield build_statement(
                kind="evaluation.recorded",
                model=MODEL,
                version=VERSION,
                actor=BUILDER,
                payload={"evaluation": f"kind_{i:03d}", "summary": {"value": i, "name": _word(64)}},
            )
    elif case == "approvals":
        for i in range(300):  # each signer changes their mind every time: the same decision
            # twice in a row is refused, so this is the longest legal history of decisions
            yield signers[i % len(signers)].decide(
                run, f"decision {i}: " + _word(200), granted=(i // len(signers)) % 2 == 0
            )
    elif case == "notes":
        for i in range(200):
            yield build_statement(
                kind="note",
                model=MODEL,
                version=VERSION,
                actor="carol",
                payload={"text": _word(20000, f"n{i}")},
            )


def build_case(case: str, home: Path) -> tuple[LedgerStore, ArtifactStore, int, int]:
    """A fresh ledger holding the case; returns the stores, entries and largest statement."""
    settings = LedgerSettings(database_url=f"sqlite:///{home / 'ledger.db'}", home=home)
    store = init_ledger(settings, origin=ORIGIN)
    artifacts = ArtifactStore(settings.artifacts_path)
    registration: dict[str, Any] = {"description": "Worst-case card", "owner": "Risk"}
    if case == "text":
        registration = {
            "description": _word(5000),
            "decision": _word(2000),
            "intended_use": _word(5000),
            "out_of_scope_uses": [_word(2000, f"u{i}") for i in range(400)],
        }
    written = [
        build_statement(kind="model.registered", model=MODEL, actor=BUILDER, payload=registration)
    ]
    signers = [Signer.new(f"validator-{i}") for i in range(3)]
    written += [s.register() for s in signers]  # type: ignore[misc]
    store.append_batch(written)
    run = store.append(
        build_statement(
            kind="run.training",
            model=MODEL,
            version=VERSION,
            actor=BUILDER,
            reason=_word(20000) if case == "text" else "",
            payload=_run_payload(case),
        )
    )
    largest = len(run.statement.canonical_json().encode())
    for item in _statements(case, run, signers):
        entry = store.append(item)
        largest = max(largest, len(entry.statement.canonical_json().encode()))
    store.checkpoint()
    return store, artifacts, store.checkpoint().size, largest


def measure(case: str) -> dict[str, Any]:
    """Build the case, then time its card PDF here (run in a child process of its own)."""
    import pypdf

    from reports.documents import card_pdf
    from reports.render import render_pdf

    with tempfile.TemporaryDirectory() as folder:
        store, artifacts, entries, largest = build_case(case, Path(folder))
        render_pdf("<p>warm-up</p>", {})  # imports and font caches: not per-card work
        before = machine.peak_rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        rendered = card_pdf(store, artifacts, MODEL, VERSION)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = machine.peak_rss_mib()
        path = Path(folder) / "card.pdf"
        path.write_bytes(rendered.pdf)
        pages = len(pypdf.PdfReader(path).pages)
        store.engine.dispose()
    return {
        "case": case,
        "entries": entries,
        "largest": largest,
        "seconds": seconds,
        "cpu": cpu,
        "peak_rss": peak,
        "rss_growth": peak - before,
        "pages": pages,
        "bytes": len(rendered.pdf),
    }


CASES = ("params", "metrics", "datasets", "features", "text", "summary", "evaluations",
         "approvals", "notes")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """Run each case in its own process and print the table and the machine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", action="append", choices=CASES, help="default: every case")
    parser.add_argument("--one", choices=CASES, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one)))
        return 0
    table = Table(title="model card PDF of the worst legal entries (one process per case)")
    for column in ("case", "entries", "largest statement", "seconds", "CPU s", "peak RSS",
                   "RSS growth", "pages", "PDF"):  # fmt: skip
        table.add_column(column, justify="left" if column == "case" else "right")
    failed = 0
    for case in args.case or CASES:
        child = subprocess.run(
            [sys.executable, "-m", "bench.bench_card", "--one", case],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            failed = 1
            console.print(f"[red]{case} failed:[/] {child.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(child.stdout.strip().splitlines()[-1])
        table.add_row(
            case,
            f"{r['entries']:,}",
            f"{r['largest'] / 1024:,.0f} KiB",
            f"{r['seconds']:.1f}",
            f"{r['cpu']:.1f}",
            f"{r['peak_rss']:,.0f} MiB",
            f"{r['rss_growth']:,.0f} MiB",
            str(r["pages"]),
            f"{r['bytes'] / 1024:,.0f} KiB",
        )
    console.print(table)
    grid = Table(title="machine", show_header=False)
    grid.add_column()
    grid.add_column()
    for label, value in machine.describe():
        grid.add_row(label, value)
    console.print(grid)
    console.print("command: python -m bench.bench_card " + " ".join(argv or sys.argv[1:]))
    return failed


if __name__ == "__main__":
    sys.exit(main())
