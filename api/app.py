"""The FastAPI application: wiring only (routers, problem handlers, limits, context).

`create_app(settings)` builds an app over an initialised ledger. `govledger serve` runs
`api.app:app_from_environment` under uvicorn (a factory, so each worker process opens its own
connections). The service is stateless: any number of processes or hosts can share one
PostgreSQL database, the sequencer lock keeps one chain.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api.service import (
    MAX_SCORING_BATCH_BODY,
    SCORING_BATCHES_PATH,
    BodySizeLimit,
    ControlCharacterGuard,
    Cosigner,
    Health,
    HtmlSecurityHeaders,
    IdentityStore,
    NameSegments,
    Notifier,
    ServiceContext,
    ServiceSettings,
    access_router,
    install_docs_page,
    install_openapi,
    install_problem_handlers,
    read_router,
    regulatory_router,
    reports_router,
    scoring_router,
    webhooks_router,
    write_router,
)
from ledger.store import ArtifactStore, open_ledger
from reports.regulatory import promotion_gaps

API_DESCRIPTION = """Append-only, hash-chained, signed ledger of ML model governance events.

Authenticate with `Authorization: Bearer <API key>` (create keys with `govledger users add`).
Every write accepts an `Idempotency-Key` header. Errors are RFC 9457 problem+json."""


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """Build the service over the ledger the settings point to."""
    settings = settings or ServiceSettings()
    store = open_ledger(settings)
    store.regime_gaps = promotion_gaps(store)  # policies may require a regime without gaps
    context = ServiceContext(
        settings=settings,
        store=store,
        identities=IdentityStore(store),
        artifacts=ArtifactStore(settings.artifacts_path),
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """The notifier and the cosigner run while the app serves, in each worker process,
        when webhooks or witnesses are configured (api.service._notifier, ._cosigner)."""
        notifier = Notifier(store, settings) if settings.webhooks else None
        cosigner = Cosigner(store, settings) if settings.witnesses else None
        for task in (notifier, cosigner):
            if task is not None:
                task.start()
        context.cosign_now = None if cosigner is None else cosigner.cosign_now
        try:
            yield
        finally:
            context.cosign_now = None
            for task in (notifier, cosigner):
                if task is not None:
                    await task.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="govledger",
        version="1",
        description=API_DESCRIPTION,
        docs_url=None,  # api.docs_page serves it without a CDN
        redoc_url=None,
    )
    app.state.context = context
    install_problem_handlers(app)
    install_docs_page(app)
    install_openapi(app)
    app.include_router(write_router)
    app.include_router(scoring_router)
    app.include_router(access_router)
    app.include_router(reports_router)
    app.include_router(regulatory_router)
    app.include_router(read_router)
    app.include_router(webhooks_router)

    @app.get(
        "/healthz",
        tags=["health"],
        summary="Liveness and ledger size (no auth)",
        responses={200: {"model": Health, "description": "The service answers"}},
    )
    def healthz() -> dict[str, Any]:
        return {"status": "ok", "size": store.size()}

    _install_web(app)
    app.add_middleware(
        BodySizeLimit,
        large_paths=("/v1/artifacts",),
        large_limit=settings.max_artifact_bytes,
        path_limits=((SCORING_BATCHES_PATH, MAX_SCORING_BATCH_BODY),),
    )
    app.add_middleware(NameSegments)  # a name is one path segment, even `a/b` (api.path_names)
    app.add_middleware(ControlCharacterGuard)  # before any route reads path or query
    app.add_middleware(HtmlSecurityHeaders)  # outermost: on every response, refusals too
    return app


def _install_web(app: FastAPI) -> None:
    """Mount the web pages when their module is present."""
    try:
        from api.web import install
    except ImportError:
        return
    install(app)


GC_THRESHOLDS = (20_000, 50, 100)
"""Cyclic garbage collection in a serving process: every request allocates thousands of
short-lived objects (parsed JSON, pydantic models, statements) that reference counting frees,
and at CPython's default (700, 10, 10) the collector still runs every few requests and walks
the young objects each time. Fewer, larger young collections cost about 5% less server CPU
per logged run (bench/bench_api.py, PostgreSQL, 8 clients); cycles still get collected."""


def app_from_environment() -> FastAPI:
    """uvicorn factory: settings from GOVLEDGER_* variables.

    Also tunes the process's garbage collector for serving (`GC_THRESHOLDS`); the objects
    of start-up (modules, routes, schemas) are frozen out of every later collection.
    """
    app = create_app(ServiceSettings())
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return app
