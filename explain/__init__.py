"""govledger explain package: explainers for credit models, as pure functions.

Each entry point takes a fitted model and/or data and returns a result object (a pydantic
model subclassing `explain.results.EvaluationResult`, JSON-serialisable, carrying the
library versions that produced it, with `to_ledger()` for an `evaluation.recorded` entry):

- `explain.shap_explain.explain_model` -> `Explanation` (global importance, dependence)
- `explain.reason_codes.reason_codes` -> `ReasonCodes` (adverse-action reasons), and
  `adverse_action_notice` for one applicant alone (the same reasons as in any batch)
- `explain.explanation_background.ExplanationBackground`: the reference sample SHAP
  contributions are measured against, drawn from training data, recorded with the run
- `explain.fairness.fairness_report` -> `FairnessReport` (four-fifths rule, bootstrap CIs)
- `explain.performance.performance_report` -> `PerformanceReport` (AUC, KS, calibration)
- `explain.stability.stability_report` -> `StabilityReport` (PSI)
- `explain.comparison.compare_versions` -> `ChampionChallengerComparison` (champion against
  challenger on one sample: DeLong's test, paired bootstrap, swap sets, both fairness screens)
- `explain.monitoring_reference.reference_profile` -> `ReferenceProfile` (the bins a
  monitoring plan records) and `explain.monitoring.monitor` -> `MonitoringReport` (one
  production period: PSI/CSI, approval rate, AUC/KS/Brier, four-fifths screen, statuses
  against the plan's thresholds), over pandas, a Dask frame or a Parquet dataset

Data: `explain.data.load_german_credit()` and `explain.synthetic.generate_applicants()`.
Errors: `explain.errors.ExplainError` and its subclasses. Nothing here touches a database,
the network or the ledger; the modules import their heavy libraries (shap, LightGBM, Dask)
only when they need them.
"""

__all__ = [
    "agnostic_shap",
    "checks",
    "comparison",
    "comparison_groups",
    "contributions",
    "data",
    "delong",
    "errors",
    "explanation_background",
    "fairness",
    "fairness_counts",
    "groups",
    "linear_shap",
    "model_kinds",
    "monitoring",
    "monitoring_counts",
    "monitoring_groups",
    "monitoring_reference",
    "monitoring_sources",
    "monitoring_thresholds",
    "paired_bootstrap",
    "performance",
    "reason_catalogue",
    "reason_codes",
    "results",
    "sample_fingerprint",
    "score_grid",
    "shap_explain",
    "spreadsheet",
    "stability",
    "synthetic",
    "tree_shap",
]
