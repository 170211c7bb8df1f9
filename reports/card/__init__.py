"""What a model card states: the card model, its data assembled from entries, evaluations,
fairness, the regulatory mapping, the CycloneDX 1.6 model card and the embedded evidence.
"""

from reports.card._cyclonedx import cyclonedx_json
from reports.card._data import (
    approved_by,
    build_card,
    decision_row,
    performance_line,
    registration_of,
    run_details,
)
from reports.card._evaluations import latest_by_kind, read_performance
from reports.card._evidence import (
    build_evidence,
    evidence_document,
    verify_evidence,
)
from reports.card._model import CardPolicy, Evidence, LedgerPolicy, ModelCard
from reports.card._monitoring import (
    MonitoringSection,
    answers,
    breach_row,
    decides_plan,
    monitoring_section,
    plan_decision_row,
    plan_rows,
    red_measures,
    report_row,
)
from reports.card._policy import ledger_policies
from reports.card._serving import ServingSection, serving_section

__all__ = [
    "CardPolicy",
    "Evidence",
    "LedgerPolicy",
    "ModelCard",
    "MonitoringSection",
    "ServingSection",
    "answers",
    "approved_by",
    "breach_row",
    "build_card",
    "build_evidence",
    "cyclonedx_json",
    "decides_plan",
    "decision_row",
    "evidence_document",
    "latest_by_kind",
    "ledger_policies",
    "monitoring_section",
    "performance_line",
    "plan_decision_row",
    "plan_rows",
    "read_performance",
    "red_measures",
    "registration_of",
    "report_row",
    "run_details",
    "serving_section",
    "verify_evidence",
]
