"""Regulatory reads: a version's completeness per regime, and the model inventory.

Thin over `reports.compliance` and `reports.inventory` (viewer and up).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.service._context import Context, Reader
from api.service._path_names import ModelSegment, VersionSegment, name_from_segment
from api.service._responses import download, success
from api.service._responses_registry import ComplianceCheck, Inventory, RegimeList

router = APIRouter(prefix="/v1", tags=["regulatory"])

Model = ModelSegment
Version = VersionSegment
Regime = Annotated[
    str,
    Query(
        min_length=1,
        max_length=64,
        description="Checklist id: eu-ai-act, reg-b or sr-26-2 (GET /v1/regimes lists them)",
    ),
]


@router.get(
    "/regimes",
    summary="The regulatory checklists a version can be checked against",
    responses=success(RegimeList, "The checklists"),
)
def regimes(_: Reader) -> dict[str, Any]:
    from reports.regulatory.regimes import known_regimes, load_regime

    return {
        "regimes": [
            {"id": r, "title": load_regime(r).title, "items": len(load_regime(r).items)}
            for r in known_regimes()
        ]
    }


@router.get(
    "/models/{model}/versions/{version}/compliance",
    summary="Each checklist item of a regime: satisfied by named entries, or a gap",
    responses=success(ComplianceCheck, "The version's items, satisfied or gaps"),
)
def compliance(
    model: Model, version: Version, regime: Regime, context: Context, _: Reader
) -> dict[str, Any]:
    from reports.regulatory import check_version

    model, version = name_from_segment(model), name_from_segment(version)
    return check_version(context.store, model, version, regime).to_dict()


@router.get(
    "/inventory",
    summary="The model inventory (SR 26-2) as JSON",
    responses=success(Inventory, "A row per model"),
)
def inventory_json(context: Context, _: Reader) -> dict[str, Any]:
    from ledger.store import inventory

    return {"models": [row.to_dict() for row in inventory(context.store)]}


@router.get(
    "/inventory.csv",
    summary="The model inventory as CSV",
    response_class=Response,
    responses=download("text/csv", "The inventory, a row per model (RFC 4180)"),
)
def inventory_csv_route(context: Context, _: Reader) -> Response:
    from reports.inventory import build_inventory, inventory_csv

    return Response(
        inventory_csv(build_inventory(context.store)),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="inventory.csv"'},
    )


@router.get(
    "/inventory.pdf",
    summary="The model inventory as PDF/A-3b, with inventory.csv and evidence.json attached",
    response_class=Response,
    responses=download("application/pdf", "The inventory as PDF/A-3b"),
)
def inventory_pdf_route(context: Context, _: Reader) -> Response:
    from reports.inventory import inventory_pdf

    return Response(
        inventory_pdf(context.store)[1],
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="inventory.pdf"'},
    )
