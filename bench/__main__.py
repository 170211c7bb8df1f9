"""Run every benchmark in this package: `python -m bench [NAME ...]`.

A benchmark is any module `bench/bench_<name>.py` runnable as `python -m bench.bench_<name>`;
each runs as if from the command line with its own defaults, one after the other (on a
shared machine they would only slow each other down in parallel). Naming some
(`python -m bench ledger explain`) runs only those. Found by name, so a new
`bench_<name>.py` needs no registration here. Exits non-zero if any benchmark did.
"""

from __future__ import annotations

import pkgutil
import runpy
import sys
from pathlib import Path


def discover() -> list[str]:
    """Names of the benchmark modules present, e.g. ['bench_explain', 'bench_ledger']."""
    folder = Path(__file__).parent
    return sorted(
        info.name for info in pkgutil.iter_modules([str(folder)]) if info.name.startswith("bench_")
    )


def run(name: str) -> int:
    """Run one benchmark module as `python -m bench.<name>` would; return its exit code."""
    saved = sys.argv
    sys.argv = [f"bench.{name}"]
    try:
        runpy.run_module(f"bench.{name}", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the chosen (default: all) benchmarks; return the worst exit code."""
    wanted = {w.removeprefix("bench_") for w in (sys.argv[1:] if argv is None else argv)}
    names = discover()
    unknown = wanted - {n.removeprefix("bench_") for n in names}
    if unknown:
        print(f"no benchmark named {', '.join(sorted(unknown))}; have: {', '.join(names)}")
        return 2
    status = 0
    for name in names:
        if wanted and name.removeprefix("bench_") not in wanted:
            continue
        print(f"\n== python -m bench.{name} ==", flush=True)
        status = max(status, run(name))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
