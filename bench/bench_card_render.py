"""Benchmark: the demo's full model cards rendered to PDF/A-3b, cold and warm.

    python -m bench.bench_card_render [--ledger DIR] [--version V ...] [--warm 5]

The typical full card is the demo's (`examples/credit_demo.py`): 1.1.0 holds every section
with its charts (ROC, calibration, decisions, SHAP importance, selection rates by group,
PSI), its serving, the champion/challenger comparison and what changed from 1.0.0; 1.0.0
adds its six months of monitoring, charted per measure. Without `--ledger` the demo is run
into a temporary folder first (a minute or two); `--ledger demo-output` reuses `make demo`'s.

Each version is timed in a child process of its own: the imports, the first
`reports.documents.card_pdf` in that fresh process (cold: fontconfig, matplotlib's and
WeasyPrint's caches, templates compiled) and then `--warm` renders in the same process
(median), with the charts remembered from the card before (`reports.render._chart_memo`),
and as many with the memo emptied first (the first card of a version in a warm process).
Wall and CPU seconds (process time) are both printed: on a shared machine CPU seconds are
the steady figure, and the target is judged on them. One more warm pass is split into its
steps (card data; evidence and CycloneDX; charts drawn afresh; HTML with its table widths;
WeasyPrint layout; PDF drawing and writing) to show where the time goes, and the cold card
is checked with `verify-card` against the ledger's key. Target: a warm card within 1.5 CPU
seconds; exits 1 when a card misses it or fails verification.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from bench import machine

MODEL = "credit-scoring"
VERSIONS = ("1.1.0", "1.0.0")
TARGET_SECONDS = 1.5
BEFORE_CPU = {"1.1.0": 5.99, "1.0.0": 6.52}
"""Warm CPU seconds (median of 5) of each card before hashes broke at `<wbr>`, print tables
were sized from their text and charts were remembered: the code of 2026-12-06 on this
2-core machine, run back to back with the code after at load average 2.5. Printed beside
each run's figure so the change stays visible; a later machine needs its own baseline."""
console = Console(width=140)
T = TypeVar("T")


def _timed(step: Callable[[], T]) -> tuple[T, float, float]:
    """The result of `step`, its wall seconds and its CPU (process) seconds."""
    started, cpu = time.perf_counter(), time.process_time()
    result = step()
    return result, time.perf_counter() - started, time.process_time() - cpu


def breakdown(store: Any, artifacts: Any, version: str) -> dict[str, list[float]]:
    """One warm card, step by step: [wall, CPU] seconds per step.

    The steps are those of `card_pdf` and `render_pdf`, called one by one; WeasyPrint's
    layout and its PDF writing are timed apart through its own API (attachments aside)."""
    import weasyprint

    from reports.card import build_card, build_evidence, cyclonedx_json
    from reports.render import card_charts, card_html
    from reports.render._chart_memo import forget

    steps: dict[str, list[float]] = {}

    def step(name: str, run: Callable[[], T]) -> T:
        result, wall, cpu = _timed(run)
        steps[name] = [wall, cpu]
        return result

    card = step("card data", lambda: build_card(store, artifacts, MODEL, version))
    step("evidence, CycloneDX", lambda: (build_evidence(store, card), cyclonedx_json(card)))
    forget()
    step("charts (matplotlib SVG, drawn afresh)", lambda: card_charts(card))
    # the charts are remembered now: this step is the templates and the table widths
    html = step("HTML (Jinja, table widths)", lambda: card_html(card, for_print=True))
    document = step(
        "WeasyPrint: parse, style, layout",
        lambda: weasyprint.HTML(string=html).render(pdf_variant="pdf/a-3b"),
    )
    step("WeasyPrint: draw, fonts, write", lambda: document.write_pdf(pdf_variant="pdf/a-3b"))
    return steps


def measure(ledger: Path, version: str, warm: int, profile: Path | None) -> dict[str, Any]:
    """Time one version's card in this (fresh) process: imports, cold, warm, steps.

    With `profile`, one more warm card is rendered under cProfile and its statistics are
    written there (`card-VERSION-warm.prof`; read them with `python -m pstats`)."""
    started, cpu = time.perf_counter(), time.process_time()
    import pypdf

    from ledger.store import ArtifactStore, LedgerSettings, open_ledger
    from reports.documents import card_pdf
    from reports.render._chart_memo import forget
    from reports.verify import verify_card

    imports = [time.perf_counter() - started, time.process_time() - cpu]
    settings = LedgerSettings(
        database_url=f"sqlite:///{ledger / 'ledger.db'}", home=ledger / ".govledger"
    )
    store, artifacts = open_ledger(settings), ArtifactStore(settings.artifacts_path)
    rendered, wall, cpu_s = _timed(lambda: card_pdf(store, artifacts, MODEL, version))
    cold = [wall, cpu_s]
    warm_runs = []
    for _ in range(warm):
        _, wall, cpu_s = _timed(lambda: card_pdf(store, artifacts, MODEL, version))
        warm_runs.append([wall, cpu_s])
    fresh_runs = []
    for _ in range(warm):
        forget()
        _, wall, cpu_s = _timed(lambda: card_pdf(store, artifacts, MODEL, version))
        fresh_runs.append([wall, cpu_s])
    if profile is not None:  # profiled apart: the profiler's overhead stays out of the figures
        _profiled(
            profile / f"card-{version}-warm.prof",
            lambda: card_pdf(store, artifacts, MODEL, version),
        )
    steps = breakdown(store, artifacts, version)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "card.pdf"
        path.write_bytes(rendered.pdf)
        pages = len(pypdf.PdfReader(path).pages)
        report = verify_card(path, verifier_key=settings.ledger_public_key_path.read_text().strip())
    store.engine.dispose()
    return {
        "version": version,
        "imports": imports,
        "cold": cold,
        "warm": [statistics.median(r[i] for r in warm_runs) for i in (0, 1)],
        "warm_runs": warm_runs,
        "fresh": [statistics.median(r[i] for r in fresh_runs) for i in (0, 1)],
        "steps": steps,
        "pages": pages,
        "bytes": len(rendered.pdf),
        "verified": report.ok,
    }


def _profiled(path: Path, run: Callable[[], object]) -> None:
    """Run `run` under cProfile and write its statistics to `path`."""
    import cProfile

    path.parent.mkdir(parents=True, exist_ok=True)
    profiler = cProfile.Profile()
    profiler.runcall(run)
    profiler.dump_stats(path)


def demo_ledger(folder: Path) -> Path:
    """Run the demo into `folder` (a real service, witness, model training) for its ledger."""
    out = folder / "demo-output"
    console.print(f"running the demo into {out} for its ledger (a minute or two) ...")
    child = subprocess.run(
        [sys.executable, "-m", "examples.credit_demo", "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if not (out / "ledger.db").exists():
        raise SystemExit(f"the demo failed: {child.stderr.strip().splitlines()[-1:]}")
    return out


def _pair(value: list[float]) -> str:
    return f"{value[0]:.2f} / {value[1]:.2f}"


def report(results: list[dict[str, Any]]) -> int:
    """Print the tables and the machine; 1 when a card missed the target or did not verify."""
    table = Table(
        title="full model card PDF of the demo, seconds wall / CPU "
        f"(target {TARGET_SECONDS} CPU s warm)"
    )
    for column in ("version", "pages", "PDF", "imports", "cold first card", "warm (median)",
                   "warm runs (CPU)", "warm, charts drawn", "before (CPU)", "verify-card",
                   "target"):  # fmt: skip
        table.add_column(column, justify="left" if column == "version" else "right")
    failed = 0
    for r in results:
        met = r["warm"][1] <= TARGET_SECONDS
        failed |= not met or not r["verified"]
        table.add_row(
            f"{MODEL} {r['version']}",
            str(r["pages"]),
            f"{r['bytes'] / 1024:,.0f} KiB",
            _pair(r["imports"]),
            _pair(r["cold"]),
            _pair(r["warm"]),
            " ".join(f"{c:.2f}" for _, c in r["warm_runs"]),
            _pair(r["fresh"]),
            f"{BEFORE_CPU[r['version']]:.2f}" if r["version"] in BEFORE_CPU else "n/a",
            "ok" if r["verified"] else "FAILED",
            "met" if met else "MISSED",
        )
    console.print(table)
    steps = Table(title="one warm card step by step, seconds wall / CPU")
    steps.add_column("step")
    for r in results:
        steps.add_column(r["version"], justify="right")
    for name in results[0]["steps"] if results else []:
        steps.add_row(name, *(_pair(r["steps"][name]) for r in results))
    console.print(steps)
    grid = Table(title="machine", show_header=False)
    grid.add_column()
    grid.add_column()
    for label, value in machine.describe():
        grid.add_row(label, value)
    console.print(grid)
    console.print("command: python -m bench.bench_card_render " + " ".join(sys.argv[1:]))
    return int(failed)


def main(argv: list[str] | None = None) -> int:
    """Time each version's card in a child process of its own and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ledger", type=Path, help="a demo output folder (default: run the demo)")
    parser.add_argument("--version", action="append", help="default: 1.1.0 and 1.0.0")
    parser.add_argument("--warm", type=int, default=5, help="warm renders per version")
    parser.add_argument("--profile", type=Path, help="write cProfile statistics to this folder")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.ledger, args.one, args.warm, args.profile)))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        ledger = args.ledger or demo_ledger(Path(folder))
        results = []
        for version in args.version or VERSIONS:
            command = [sys.executable, "-m", "bench.bench_card_render", "--one", version]
            command += ["--ledger", str(ledger), "--warm", str(args.warm)]
            command += ["--profile", str(args.profile)] if args.profile else []
            child = subprocess.run(command, capture_output=True, text=True, check=False)
            if child.returncode != 0:
                console.print(f"[red]{version} failed:[/] {child.stderr.strip().splitlines()[-1:]}")
                return 1
            results.append(json.loads(child.stdout.strip().splitlines()[-1]))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
