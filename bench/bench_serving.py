"""As-of serving answers with proofs on a big ledger, and verify-model against sha256sum.

    python -m bench.bench_serving [--entries 1000000] [--promotions 1000] [--file-mib 200]
                                  [--backend sqlite|postgresql]

Builds a fresh ledger (a temporary SQLite folder, or a throwaway PostgreSQL database on
127.0.0.1:5432) with `append_batch` in batches of 10,000: the realistic filler of
`bench.workload` (runs, evaluations, notes of four models) and, spread evenly through it,
`--promotions` cycles of one model: a run citing its model file, a validator's and an
approver's signed approval, a promotion replacing the version serving in production. Then
measures, on the full ledger:

- `ledger.store.serving_answer` (what `govledger status --seq/--at` and GET
  /v1/models/{m}/serving compute: the fold of every promotion, the evidence entries and
  their inclusion proofs to the signed checkpoint), for random seqs and random times:
  median and p99 of 200 (target: median under 20 ms; the first question folds every
  promotion, later ones reuse the store's fold: `LedgerStore.serving_history`); and checking
  each answer
  (`ledger.verify.verify_serving_answer`);
- verify-model on a `--file-mib` file: the file's SHA-256 (`hashlib.file_digest`), the
  answer, its check and the verdict, against `sha256sum` on the same file (ratio, best of
  3 each; the page cache is warm for both).

Prints a table and the machine; exits 1 if the target was missed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench import machine
from bench.bench_ledger import machine_table, postgres_ledger, postgres_version, sqlite_ledger
from bench.workload import Workload
from ledger.governance import Submission
from ledger.log import signing
from ledger.log.entries import Entry, build_statement
from ledger.log.serving_answer import check_serving_answer, serving_tenure_for
from ledger.log.timestamps import utc_now_rfc3339
from ledger.store import LedgerStore, init_ledger, serving_answer
from ledger.verify import verify_serving_answer

BATCH = 10_000
MODEL = "credit-scoring-serving"
BUILDER = "dana@bank.example"
TARGET_MS = 20.0
console = Console()
if not console.is_terminal:
    console.width = 120


class Signer:
    def __init__(self, actor: str, role: str) -> None:
        self.actor, self.role = actor, role
        self.key = signing.generate_private_key()
        self.key_id = signing.key_id_for(signing.public_key_raw(self.key))

    def sign(self, statement: object) -> Submission:
        assert hasattr(statement, "signing_bytes")
        return Submission(
            statement,  # type: ignore[arg-type]
            signing.sign(self.key, statement.signing_bytes()),
            self.key_id,
        )

    def registration(self) -> Submission:
        return self.sign(
            build_statement(
                kind="key.registered",
                actor=self.actor,
                payload={"key_id": self.key_id, "public_key": signing.public_key_b64(self.key)},
                issued_at=utc_now_rfc3339(),
            )
        )


def model_digest(version: str) -> str:
    return hashlib.sha256(f"{MODEL} {version}".encode()).hexdigest()


def run_statement(version: str) -> Submission:
    return Submission(
        build_statement(
            kind="run.training",
            model=MODEL,
            version=version,
            actor=BUILDER,
            payload={
                "algorithm": "lightgbm",
                "metrics": {"auc": 0.8},
                "artifacts": [
                    {"name": "model.txt", "sha256": model_digest(version), "role": "model"}
                ],
            },
        )
    )


def approvals_of(run: Entry, signers: list[Signer]) -> list[Submission]:
    """A validator's and an approver's signed approvals of the run."""
    version = run.statement.version
    return [
        s.sign(
            build_statement(
                kind="approval.granted",
                model=MODEL,
                version=version,
                actor=s.actor,
                reason=f"{s.role} review of {version}",
                payload={"role": s.role, "run": run.entry_hash.hex()},
                issued_at=utc_now_rfc3339(),
            )
        )
        for s in signers
    ]


def promotion(version: str, approvals: list[Entry]) -> Submission:
    """The version's promotion into production, citing its approvals."""
    return Submission(
        build_statement(
            kind="deployment.promoted",
            model=MODEL,
            version=version,
            actor=BUILDER,
            reason="approved",
            payload={
                "environment": "production",
                "model_sha256": model_digest(version),
                "approvals": [a.entry_hash.hex() for a in approvals],
            },
        )
    )


def build(store: LedgerStore, entries: int, promotions: int) -> float:
    """Fill the ledger; return the seconds it took. Each promotion cycle is four entries: the
    run (with the batch's filler), its two approvals, its promotion (each a small batch)."""
    started = time.perf_counter()
    workload = Workload(approval_every=10**9)  # its filler only: no approvals, no deployments
    signers = [
        Signer("val.kim@bank.example", "validator"),
        Signer("appr.li@bank.example", "approver"),
    ]
    store.append_batch(
        [
            *[s.registration() for s in signers],
            Submission(
                build_statement(
                    kind="model.registered",
                    model=MODEL,
                    actor=BUILDER,
                    payload={"owner": "Retail Credit Risk", "materiality_tier": "high"},
                )
            ),
        ]
    )
    every = max(1, entries // promotions)
    done = 0
    while store.size() < entries:
        room = min(BATCH, entries - store.size())
        due = min(promotions - done, max(0, (store.size() + room) // every - done))
        due = min(due, room // 5)
        filler = workload.take(room - 4 * due)
        runs = [run_statement(f"{done + i + 1}.0.0") for i in range(due)]
        created = store.append_batch(filler + runs)
        workload.observe(created)
        new_runs = created[len(filler) :]
        if new_runs:
            approved = store.append_batch([a for r in new_runs for a in approvals_of(r, signers)])
            store.append_batch(
                [
                    promotion(run.statement.version, approved[2 * i : 2 * i + 2])
                    for i, run in enumerate(new_runs)
                ]
            )
        done += due
        if store.size() // 100_000 != (store.size() - room) // 100_000:
            console.log(f"{store.size():,} entries, {done} promotions")
    return time.perf_counter() - started


def time_answers(store: LedgerStore, samples: int) -> tuple[list[float], list[float], int]:
    """Milliseconds per answer (random seqs and times) and per check; evidence entries."""
    key = store.meta()["verifier_key"]
    store.checkpoint()
    size = store.size()
    first = store.first_entry_of(MODEL)
    assert first is not None
    rng = random.Random(5)
    answer_ms, check_ms, entries = [], [], 0
    for i in range(samples):
        seq = rng.randrange(first.seq, size)
        question = {"seq": seq} if i % 2 else {"at": store.entry(seq).recorded_at}
        tick = time.perf_counter()
        answer = serving_answer(store, MODEL, **question)  # type: ignore[arg-type]
        answer_ms.append((time.perf_counter() - tick) * 1000)
        tick = time.perf_counter()
        report = verify_serving_answer(answer, key)
        check_ms.append((time.perf_counter() - tick) * 1000)
        assert report.ok, report.summary()
        entries = max(entries, len(answer["evidence"]["entries"]))
    return answer_ms, check_ms, entries


def time_verify_model(store: LedgerStore, mib: int, folder: Path) -> tuple[float, float, float]:
    """(verify-model seconds, sha256sum seconds, the answer's share) on a `mib` MiB file
    that is the serving version's model file."""
    path = folder / "model.bin"
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1 << 20))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    key = store.meta()["verifier_key"]
    ours, theirs, answer_s = [], [], []
    for _ in range(3):
        tick = time.perf_counter()
        with path.open("rb") as handle:
            found = hashlib.file_digest(handle, "sha256").hexdigest()
        middle = time.perf_counter()
        answer = serving_answer(store, MODEL)
        check_serving_answer(answer, key)
        try:
            serving_tenure_for(answer, found, path.name)
        except Exception:
            pass
        ours.append(time.perf_counter() - tick)
        answer_s.append(time.perf_counter() - middle)
        assert found == digest
        sha256sum = shutil.which("sha256sum")
        assert sha256sum is not None, "sha256sum (coreutils) is needed for the comparison"
        tick = time.perf_counter()
        out = subprocess.run([sha256sum, str(path)], capture_output=True, text=True, check=True)
        theirs.append(time.perf_counter() - tick)
        assert out.stdout.split()[0] == digest
    path.unlink()
    return min(ours), min(theirs), min(answer_s)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--promotions", type=int, default=1_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--file-mib", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args(argv)
    pg_version = postgres_version()
    ledger = sqlite_ledger() if args.backend == "sqlite" else postgres_ledger()
    with ledger as settings, tempfile.TemporaryDirectory(prefix="govledger-bench-") as tmp:
        store = init_ledger(settings, origin="bench.example/serving")
        build_s = build(store, args.entries, args.promotions)
        promotions = len(store.serving_events(MODEL)[0])
        answer_ms, check_ms, evidence = time_answers(store, args.samples)
        ours, theirs, answer_s = time_verify_model(store, args.file_mib, Path(tmp))
        size = store.size()
        store.close()
    median = statistics.median(answer_ms)
    p99 = sorted(answer_ms)[int(len(answer_ms) * 0.99) - 1]
    ok = median < TARGET_MS
    grid = Table(
        title=f"serving answers ({args.backend}, {size:,} entries, {promotions} promotions)"
    )
    for column in ("measure", "target", "figure"):
        grid.add_column(column)
    mark = "[green]ok[/]" if ok else "[red]missed[/]"
    grid.add_row("build", "", f"{build_s:.0f} s")
    grid.add_row(
        "as-of answer with proofs (seq / at)",
        f"median < {TARGET_MS:.0f} ms",
        f"median {median:.1f} ms, p99 {p99:.1f} ms {mark}",
    )
    grid.add_row(
        "check of the answer",
        "",
        f"median {statistics.median(check_ms):.1f} ms ({evidence} entries max)",
    )
    grid.add_row(
        f"verify-model, {args.file_mib} MiB file",
        "",
        f"{ours:.2f} s (answer and check {answer_s * 1000:.0f} ms)",
    )
    grid.add_row("sha256sum, same file", "", f"{theirs:.2f} s")
    grid.add_row("verify-model / sha256sum", "", f"{ours / theirs:.2f}x")
    console.print(grid)
    console.print(machine_table(pg_version))
    console.print(f"peak RSS {machine.peak_rss_mib():.0f} MiB")
    console.print("command: python -m bench.bench_serving " + " ".join(sys.argv[1:]))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
