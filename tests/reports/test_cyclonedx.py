"""model-card.cdx.json is a valid CycloneDX 1.6 ML-BOM with the card's numbers."""

from __future__ import annotations

import json

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from reports.card import build_card, cyclonedx_json
from tests.reports.builders import MODEL, CreditLedger, SmallLedger
from tests.reports.conftest import RenderedFile


def _validator() -> JsonStrictValidator:
    pytest.importorskip(
        "jsonschema",
        reason="the CycloneDX JSON validator needs cyclonedx-python-lib[json-validation]",
    )
    return JsonStrictValidator(SchemaVersion.V1_6)


def test_attached_bom_validates_against_the_cyclonedx_16_schema(card_file: RenderedFile) -> None:
    errors = _validator().validate_str(card_file.rendered.cyclonedx.decode("utf-8"))
    assert errors is None, errors


def test_model_card_carries_metrics_with_intervals_and_fairness_assessments(
    card_file: RenderedFile, credit: CreditLedger
) -> None:
    bom = json.loads(card_file.rendered.cyclonedx)
    component = bom["metadata"]["component"]
    assert component["type"] == "machine-learning-model"
    assert (component["name"], component["version"]) == (MODEL, "1.0")
    card = component["modelCard"]
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    auc = next(m for m in metrics if m["type"] == "auc")
    assert float(auc["value"]) == round(credit.results["1.0/performance"]["metrics"]["auc"], 6)
    sliced = [m for m in metrics if m.get("slice") == "age=<25" and m["type"] == "selection_rate"]
    assert sliced and "lowerBound" in sliced[0]["confidenceInterval"]
    assessments = card["considerations"]["fairnessAssessments"]
    assert any(a["groupAtRisk"] == "age = <25" for a in assessments)
    assert all("screen, not a finding" in a["harms"] for a in assessments)
    datasets = {c["bom-ref"] for c in bom["components"] if c["type"] == "data"}
    assert {d["ref"] for d in card["modelParameters"]["datasets"]} <= datasets


def test_same_card_gives_the_same_bom_and_a_sparse_card_still_validates(small: SmallLedger) -> None:
    card = build_card(small.store, small.artifacts, small.model, "0.1")
    assert cyclonedx_json(card) == cyclonedx_json(card)
    errors = _validator().validate_str(cyclonedx_json(card).decode())
    assert errors is None, errors
