"""Shared fixtures: real SQLite files and a real PostgreSQL database per test run.

PostgreSQL tests run against 127.0.0.1:5432 (user postgres, trust auth) in a database created
for this run and dropped at the end; each test gets its own schema-fresh ledger by creating a
database per test where isolation matters (`pg_url`). Without a reachable server they skip,
unless GOVLEDGER_REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger.store import ArtifactStore, LedgerSettings, LedgerStore, init_ledger

PG_ADMIN_URL = os.environ.get(
    "GOVLEDGER_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except Exception as exc:  # any failure means: no server for the tests
        return f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}"


_PG_PROBLEM = _pg_available()

FIGURES = pytest.StashKey[list[str]]()
"""Throughput and timing lines that tests report (printed in the summary, never asserted)."""
_CONFIG: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "concurrency: many concurrent writers; part of `make test`, each kept under ~60 s",
    )
    config.stash[FIGURES] = []
    global _CONFIG
    _CONFIG = config


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Collect the figures a test reported, from the report itself: with pytest-xdist the
    test ran in a worker, and only its reports (with their user_properties) reach here."""
    if report.when != "call":
        return
    for name, value in report.user_properties:
        if name == "figure" and _CONFIG is not None:
            _CONFIG.stash[FIGURES].append(f"{report.nodeid}: {value}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    figures = terminalreporter.config.stash.get(FIGURES, [])
    if figures:
        terminalreporter.write_sep("-", "figures (reported, not asserted)")
        for line in figures:
            terminalreporter.write_line(line)


@pytest.fixture
def report_figure(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Report a figure (e.g. throughput) in the run's summary, whether or not -s is given."""

    def report(text: str) -> None:
        request.node.user_properties.append(("figure", text))

    return report


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The admin URL of the test PostgreSQL server (skips or fails when it is down)."""
    if _PG_PROBLEM:
        if os.environ.get("GOVLEDGER_REQUIRE_POSTGRES") == "1":
            pytest.fail(_PG_PROBLEM)
        pytest.skip(_PG_PROBLEM)
    return PG_ADMIN_URL


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A brand-new PostgreSQL database for one test, dropped afterwards."""
    import psycopg

    name = f"govledger_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
    admin = pg_server.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in the test's temporary folder."""
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test using this runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def make_settings(tmp_path: Path) -> Callable[[str], LedgerSettings]:
    """Settings for a ledger at a database URL, with its home in the test's tmp folder."""

    def factory(url: str, **overrides: object) -> LedgerSettings:
        home = tmp_path / f"home-{uuid.uuid4().hex[:6]}"
        return LedgerSettings(database_url=url, home=home, **overrides)  # type: ignore[arg-type]

    return factory


@pytest.fixture
def settings(database_url: str, make_settings: Callable[..., LedgerSettings]) -> LedgerSettings:
    """Settings of the test's ledger (SQLite and PostgreSQL)."""
    return make_settings(database_url)


@pytest.fixture
def store(settings: LedgerSettings) -> Iterator[LedgerStore]:
    """An initialised, empty ledger (runs on SQLite and on PostgreSQL)."""
    ledger = init_ledger(settings, origin="test.example/govledger")
    yield ledger
    ledger.engine.dispose()


@pytest.fixture
def artifact_store(settings: LedgerSettings) -> ArtifactStore:
    """The artifact store of the test's ledger (`store`)."""
    return ArtifactStore(settings.artifacts_path)


@pytest.fixture
def make_ledger(
    make_settings: Callable[..., LedgerSettings],
) -> Iterator[Callable[..., LedgerStore]]:
    """Create further initialised ledgers in a test (a second ledger to import into...)."""
    made: list[LedgerStore] = []

    def factory(url: str, *, origin: str = "test.example/govledger") -> LedgerStore:
        ledger = init_ledger(make_settings(url), origin=origin)
        made.append(ledger)
        return ledger

    yield factory
    for ledger in made:
        ledger.engine.dispose()


@pytest.fixture(scope="session")
def child_python_env() -> dict[str, str]:
    """Environment for Python subprocesses (CLI runs, spawned writers) that caches bytecode.

    Where PYTHONDONTWRITEBYTECODE is set and the venv holds no .pyc files, every child would
    compile each module it imports (seconds per process); this keeps their bytecode in a cache
    folder outside the repository and the venv instead.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "govledger-tests-pycache")
    return env
