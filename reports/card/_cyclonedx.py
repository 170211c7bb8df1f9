"""The card as a CycloneDX 1.6 ML-BOM (`model-card.cdx.json`), machine-readable.

cyclonedx-python-lib builds the BOM (the model as a `machine-learning-model` component, its
datasets as `data` components with SHA-256 hashes) but has no modelCard model yet, so the
`modelCard` object (modelParameters, quantitativeAnalysis.performanceMetrics with confidence
intervals where the ledger has them, considerations incl. fairnessAssessments) is added as
data to the serialised JSON. The tests validate the result against the bundled 1.6 schema.
The serial number and timestamp derive from the card, so the same card gives the same BOM.
"""

from __future__ import annotations

import json
import uuid
import warnings
from datetime import datetime
from typing import Any

from reports.card._model import ModelCard
from reports.sections import Estimate

_NAMESPACE = uuid.UUID("6f1d2a4e-3c55-4c1e-9a37-0e5b8f7c2d10")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _metric(
    kind: str, value: Any, slice_: str | None = None, interval: Estimate | None = None
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": kind,
        "value": f"{value:.6g}" if isinstance(value, float) else str(value),
    }
    if slice_:
        item["slice"] = slice_
    if interval is not None and interval.low is not None and interval.high is not None:
        item["confidenceInterval"] = {
            "lowerBound": f"{interval.low:.6g}",
            "upperBound": f"{interval.high:.6g}",
        }
    return item


def _performance_metrics(card: ModelCard) -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = []
    if card.performance is not None:
        for row in card.performance.metrics:
            if isinstance(row.value, int | float) and not isinstance(row.value, bool):
                metrics.append(_metric(row.key, row.value, interval=row.interval))
    f = card.fairness
    if f is not None:
        for part in f.partitions:
            for g in part.groups:
                label = f"{part.name}={g.group}"
                for kind, estimate in (
                    ("selection_rate", g.selection_rate),
                    ("impact_ratio", g.impact_ratio),
                    ("true_positive_rate", g.true_positive_rate),
                    ("false_positive_rate", g.false_positive_rate),
                ):
                    if estimate.value is not None:
                        metrics.append(_metric(kind, estimate.value, label, estimate))
            for label, estimate in part.disparities:
                if estimate.value is not None:
                    kind = label.lower().replace(" ", "_")
                    metrics.append(_metric(kind, estimate.value, part.name, estimate))
    return metrics


def _fairness_assessments(card: ModelCard) -> list[dict[str, Any]]:
    f = card.fairness
    if f is None:
        return []
    found = []
    for part in f.partitions:
        if not any(g.four_fifths == "fail" for g in part.groups):
            found.append(_partition_passes(card, part))
        for g in part.groups:
            if g.four_fifths != "fail":
                continue
            ratio = g.impact_ratio
            interval = (
                f" [{_f(ratio.low)}, {_f(ratio.high)}]"
                if ratio.low is not None and ratio.high is not None
                else ""
            )
            found.append(
                {
                    "groupAtRisk": f"{part.name} = {g.group}",
                    "harms": (
                        f"Selection rate {_f(g.selection_rate.value)} is below {_f(f.threshold)} "
                        f"times the reference group's ({part.reference_group}); impact ratio "
                        f"{_f(ratio.value)}{interval}. The four-fifths rule is a screen, not a "
                        "finding."
                    ),
                    "mitigationStrategy": "; ".join(
                        f"{a.role} {a.actor}: {a.reason}" for a in card.approvals if a.granted
                    )
                    or "No approval recorded.",
                }
            )
    return found


def _partition_passes(card: ModelCard, part: Any) -> dict[str, Any]:
    """The assessment of a partition where no reliable group is flagged."""
    f = card.fairness
    assert f is not None
    unreliable = (
        f" Groups too small to compare: {', '.join(part.unreliable)}." if part.unreliable else ""
    )
    return {
        "groupAtRisk": f"{part.name} (all groups)",
        "benefits": (
            f"No reliable group's selection rate is below {_f(f.threshold)} times the "
            f"reference group's ({part.reference_group}).{unreliable}"
        ),
        "harms": (
            "None flagged by the four-fifths rule, which is a screen, not a finding: see the "
            "per-group rates and intervals under performanceMetrics."
        ),
    }


def model_card_object(card: ModelCard) -> dict[str, Any]:
    """The CycloneDX 1.6 `modelCard` object for a card."""
    reg = card.registration
    considerations: dict[str, Any] = {}
    if reg is not None:
        if reg.users:
            considerations["users"] = list(reg.users)
        if reg.intended_use:
            considerations["useCases"] = [reg.intended_use]
        if reg.out_of_scope_uses:
            considerations["technicalLimitations"] = [
                f"Out of scope: {use}" for use in reg.out_of_scope_uses
            ]
    considerations["ethicalConsiderations"] = [
        {"name": issue, "mitigationStrategy": "See the approvals and sign-off on the model card."}
        for issue in card.headline.open_issues
    ]
    fairness = _fairness_assessments(card)
    if fairness:
        considerations["fairnessAssessments"] = fairness
    parameters: dict[str, Any] = {
        "approach": {"type": "supervised"},
        "task": "binary classification (credit decision)",
        "datasets": [{"ref": f"dataset:{d.sha256}"} for d in _unique_datasets(card)],
    }
    if card.run.algorithm:
        parameters["modelArchitecture"] = card.run.algorithm
    return {
        "bom-ref": f"model-card:{card.model}@{card.version}",
        "modelParameters": parameters,
        "quantitativeAnalysis": {"performanceMetrics": _performance_metrics(card)},
        "considerations": considerations,
        "properties": [
            {"name": "govledger:status", "value": card.status},
            {"name": "govledger:checkpoint:size", "value": str(card.evidence.checkpoint_size)},
            {"name": "govledger:checkpoint:root", "value": card.evidence.checkpoint_root},
            {"name": "govledger:run:entry_hash", "value": card.run.entry.entry_hash},
        ],
    }


def _unique_datasets(card: ModelCard) -> list[Any]:
    seen: dict[str, Any] = {}
    for d in card.datasets:
        seen.setdefault(d.sha256, d)
    return list(seen.values())


def cyclonedx_json(card: ModelCard) -> bytes:
    """model-card.cdx.json: the BOM with the modelCard added, as UTF-8 JSON."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot6

    model_ref = f"model:{card.model}@{card.version}"
    component = Component(
        name=card.model,
        version=card.version,
        type=ComponentType.MACHINE_LEARNING_MODEL,
        bom_ref=model_ref,
        description=card.registration.description if card.registration else None,
        properties=[Property(name="govledger:origin", value=card.evidence.origin)],
    )
    bom = Bom(
        serial_number=uuid.uuid5(
            _NAMESPACE,
            f"{card.evidence.origin}|{card.model}|{card.version}|{card.evidence.checkpoint_root}",
        )
    )
    bom.metadata.timestamp = datetime.fromisoformat(card.generated_at.replace("Z", "+00:00"))
    bom.metadata.component = component
    for d in _unique_datasets(card):
        bom.components.add(
            Component(
                name=d.name,
                type=ComponentType.DATA,
                bom_ref=f"dataset:{d.sha256}",
                hashes=[HashType(alg=HashAlgorithm.SHA_256, content=d.sha256)],
                description=f"{d.role} dataset, {d.rows} rows" if d.rows is not None else d.role,
            )
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = json.loads(JsonV1Dot6(bom).output_as_string())
    document["metadata"]["component"]["modelCard"] = model_card_object(card)
    return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True).encode("utf-8")
