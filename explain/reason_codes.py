"""Adverse-action reason codes: why each declined applicant was declined.

For every declined applicant, the top k (default 4, the usual practice under Regulation B)
features whose SHAP contributions pushed the score toward decline, each with the
applicant's value and the catalogue's code and statement. Contributions are exact
(TreeSHAP, or LinearExplainer; checked for additivity) and computed only for the declined
rows, in one batch over the whole decision file.

An applicant's reasons depend on that applicant, the model and the explanation background
recorded with the version's run (`explain.explanation_background`) alone: the same in a
decision file as for the applicant explained alone (`adverse_action_notice`, what a scoring
service calls). Linear and model-agnostic models need that background and are refused
without it; the result cites it (`background`) so a reader can match it to the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from explain.checks import as_binary, require_frame, same_length
from explain.contributions import shap_contributions
from explain.errors import InvalidParameter
from explain.explanation_background import BackgroundReference, ExplanationBackground
from explain.model_kinds import (
    model_features,
    positive_probability,
    refuse_unusable_values,
    require_fitted_binary,
)
from explain.reason_catalogue import ReasonCatalogue
from explain.results import EvaluationResult, csv_bytes, json_bytes
from explain.shap_explain import Scalar, json_scalar, producing_libraries
from explain.tree_shap import TreeEngine

_SUMMARY_REASONS = 50
_RANKING_DECIMALS = 12
"""Contributions are ranked, and compared with 0, rounded to 1e-12: six orders finer than
the additivity tolerance, and coarser than the ~1e-15 by which two exact engines may differ
(FastTreeSHAP v1 for a few rows, v2 for many), so an applicant ranks alike in any batch."""


class Reason(BaseModel):
    """One principal reason on a notice."""

    model_config = ConfigDict(frozen=True)

    rank: int = Field(description="1 = the feature that pushed hardest toward decline")
    feature: str
    value: Scalar = Field(description="the applicant's value of the feature")
    contribution: float = Field(description="SHAP contribution toward decline (> 0)")
    code: str
    statement: str


class AdverseActionNotice(BaseModel):
    """The reasons for one declined applicant."""

    model_config = ConfigDict(frozen=True)

    row_id: str
    score: float = Field(description="the model's probability of good risk")
    reasons: list[Reason] = Field(description="at most top_k; empty if nothing pushed down")


class ReasonTable(BaseModel):
    """All reasons of a batch as columns, one entry per (declined applicant, rank).

    Columns rather than nested objects: a decision file can hold hundreds of thousands of
    reasons, which validate and serialise as flat lists many times faster.
    """

    model_config = ConfigDict(frozen=True)

    notice: list[int] = Field(description="index into declined_row_ids / declined_scores")
    rank: list[int]
    feature: list[str]
    value: list[Scalar]
    contribution: list[float]
    code: list[str]
    statement: list[str]


class ReasonCodes(EvaluationResult):
    """Reason codes for every declined applicant of a decision file."""

    evaluation: Literal["reason_codes"] = "reason_codes"
    model_class: str
    engine: str
    output_space: Literal["log_odds", "probability"]
    higher_score_is: Literal["approve", "decline"]
    threshold: float | None = Field(description="decision cut-off, if decisions came from it")
    top_k: int
    n_applicants: int
    max_additivity_error: float
    background: BackgroundReference | None = Field(
        default=None,
        description="the recorded explanation background the contributions were measured "
        "against; None for trees (path-dependent TreeSHAP uses the training cover)",
    )
    catalogue: ReasonCatalogue
    declined_row_ids: list[str] = Field(description="declined applicants, in input order")
    declined_scores: list[float] = Field(description="their probability of good risk")
    reasons: ReasonTable

    @property
    def n_declined(self) -> int:
        return len(self.declined_row_ids)

    def notices(self) -> list[AdverseActionNotice]:
        """One notice per declined applicant, in input order, reasons by rank."""
        grouped: list[list[Reason]] = [[] for _ in self.declined_row_ids]
        table = self.reasons
        for i, notice in enumerate(table.notice):
            grouped[notice].append(
                Reason(
                    rank=table.rank[i],
                    feature=table.feature[i],
                    value=table.value[i],
                    contribution=table.contribution[i],
                    code=table.code[i],
                    statement=table.statement[i],
                )
            )
        return [
            AdverseActionNotice(row_id=row_id, score=score, reasons=reasons)
            for row_id, score, reasons in zip(
                self.declined_row_ids, self.declined_scores, grouped, strict=True
            )
        ]

    def reason_frequency(self) -> list[dict[str, Any]]:
        """How often each code appears (any rank) among declined applicants, commonest first."""
        counts = Counter(zip(self.reasons.code, self.reasons.statement, strict=True))
        return [
            {
                "code": code,
                "statement": statement,
                "count": count,
                "share_of_declined": count / self.n_declined,
            }
            for (code, statement), count in counts.most_common()
        ]

    def to_ledger(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        with_reasons = len(set(self.reasons.notice))
        summary = {
            "evaluation": self.evaluation,
            "model_class": self.model_class,
            "engine": self.engine,
            "output_space": self.output_space,
            "higher_score_is": self.higher_score_is,
            "threshold": self.threshold,
            "top_k": self.top_k,
            "n_applicants": self.n_applicants,
            "n_declined": self.n_declined,
            "n_declined_without_reasons": self.n_declined - with_reasons,
            "max_additivity_error": self.max_additivity_error,
            "explanation_background": (
                None if self.background is None else self.background.model_dump()
            ),
            "reason_frequency": self.reason_frequency()[:_SUMMARY_REASONS],
            "library_versions": self.library_versions,
        }
        t = self.reasons
        rows = (
            [self.declined_row_ids[n], self.declined_scores[n], *cells]
            for n, *cells in zip(
                t.notice,
                t.rank,
                t.feature,
                t.value,
                t.contribution,
                t.code,
                t.statement,
                strict=True,
            )
        )
        header = [
            "row_id",
            "score",
            "rank",
            "feature",
            "value",
            "contribution",
            "code",
            "statement",
        ]
        artifacts = {
            "reason_codes.csv": csv_bytes(header, rows),
            "reason_catalogue.json": json_bytes(self.catalogue.model_dump()),
        }
        return summary, artifacts


def _declined(
    score: np.ndarray, declined_mask: Any, threshold: float | None, higher_score_is: str
) -> np.ndarray:
    if (declined_mask is None) == (threshold is None):
        raise InvalidParameter("pass exactly one of declined_mask= or threshold=")
    if threshold is not None:
        if not 0.0 <= threshold <= 1.0:
            raise InvalidParameter(f"threshold={threshold} must be a probability in [0, 1]")
        return score < threshold if higher_score_is == "approve" else score >= threshold
    mask = as_binary(declined_mask, "declined_mask").astype(bool)
    same_length(X=score, declined_mask=mask)
    return mask


def reason_codes(
    model: Any,
    X: pd.DataFrame,
    *,
    catalogue: ReasonCatalogue | Mapping[Any, Any],
    declined_mask: Any = None,
    threshold: float | None = None,
    top_k: int = 4,
    higher_score_is: Literal["approve", "decline"] = "approve",
    background: ExplanationBackground | pd.DataFrame | None = None,
    engine: TreeEngine = "auto",
    seed: int = 0,
) -> ReasonCodes:
    """Reason codes for the declined applicants in `X`.

    Declined applicants are given by `declined_mask` (True = declined), or by `threshold`
    on the model's probability of good risk (declined below it when `higher_score_is` is
    "approve", at or above it when the model scores bad risk). A feature is a reason only
    if it pushed this applicant's score toward decline; the `catalogue` must cover every
    model feature. `background` is the explanation background recorded with the version's
    run (required for linear and model-agnostic models; a DataFrame is taken whole).
    """
    if top_k < 1:
        raise InvalidParameter(f"top_k={top_k} must be at least 1")
    if higher_score_is not in ("approve", "decline"):
        raise InvalidParameter("higher_score_is must be 'approve' or 'decline'")
    require_frame(X, "X")
    require_fitted_binary(model)
    catalogue = ReasonCatalogue.coerce(catalogue)
    features = model_features(model, X)
    catalogue.require_features(str(c) for c in features.columns)
    refuse_unusable_values(model, features)
    score = positive_probability(model, features)
    declined = _declined(score, declined_mask, threshold, higher_score_is)
    rows = features[declined]
    result: dict[str, Any] = {
        "higher_score_is": higher_score_is,
        "threshold": threshold,
        "top_k": top_k,
        "n_applicants": len(features),
        "catalogue": catalogue,
        "model_class": type(model).__name__,
    }
    if len(rows) == 0:
        return ReasonCodes(
            **result,
            library_versions=producing_libraries(model, "none"),
            engine="none",
            output_space="log_odds",
            max_additivity_error=0.0,
            declined_row_ids=[],
            declined_scores=[],
            reasons=ReasonTable(
                notice=[], rank=[], feature=[], value=[], contribution=[], code=[], statement=[]
            ),
        )
    contributions = shap_contributions(model, rows, background=background, engine=engine, seed=seed)
    return ReasonCodes(
        **result,
        library_versions=producing_libraries(model, contributions.engine),
        engine=contributions.engine,
        output_space=contributions.output_space,
        max_additivity_error=contributions.max_additivity_error,
        background=contributions.background,
        declined_row_ids=[str(i) for i in rows.index],
        declined_scores=score[declined].tolist(),
        reasons=_reason_table(rows, contributions.values, catalogue, top_k, higher_score_is),
    )


def adverse_action_notice(
    model: Any,
    applicant: pd.DataFrame,
    *,
    catalogue: ReasonCatalogue | Mapping[Any, Any],
    background: ExplanationBackground | pd.DataFrame | None = None,
    top_k: int = 4,
    higher_score_is: Literal["approve", "decline"] = "approve",
    engine: TreeEngine = "auto",
    seed: int = 0,
) -> AdverseActionNotice:
    """The principal reasons for one declined applicant, explained alone: what a scoring
    service calls per decision. The same reasons, in the same order, as the applicant gets
    in `reason_codes` over any batch with the same model and background. `applicant` is a
    one-row DataFrame with the training dtypes (`X.iloc[[i]]`); its index is the row id."""
    require_frame(applicant, "the applicant")
    if len(applicant) != 1:
        raise InvalidParameter(
            f"adverse_action_notice explains one applicant, got {len(applicant)} rows: "
            "use reason_codes for a batch"
        )
    codes = reason_codes(
        model,
        applicant,
        catalogue=catalogue,
        declined_mask=np.ones(1, dtype=bool),
        top_k=top_k,
        higher_score_is=higher_score_is,
        background=background,
        engine=engine,
        seed=seed,
    )
    return codes.notices()[0]


def _reason_table(
    rows: pd.DataFrame,
    values: np.ndarray,
    catalogue: ReasonCatalogue,
    top_k: int,
    higher_score_is: str,
) -> ReasonTable:
    """The top-k adverse contributions of every row, largest first, as columns."""
    adverse = -values if higher_score_is == "approve" else values
    ranked = np.round(adverse, _RANKING_DECIMALS)
    k = min(top_k, adverse.shape[1])
    top = np.argsort(-ranked, axis=1, kind="stable")[:, :k]
    top_adverse = np.take_along_axis(adverse, top, axis=1)
    top_ranked = np.take_along_axis(ranked, top, axis=1)
    notice, rank = np.nonzero(top_ranked > 0.0)  # row-major: by notice, then rank
    feature = top[notice, rank]
    value = np.empty(len(notice), dtype=object)
    code = np.empty(len(notice), dtype=object)
    statement = np.empty(len(notice), dtype=object)
    for index, column in enumerate(rows.columns):
        here = np.flatnonzero(feature == index)
        if not len(here):
            continue
        picked = [json_scalar(v) for v in rows[column].to_numpy(dtype=object)[notice[here]]]
        value[here] = picked
        lookup = {v: catalogue.statement_for(str(column), v) for v in set(picked)}
        code[here] = [lookup[v].code for v in picked]
        statement[here] = [lookup[v].statement for v in picked]
    names = np.asarray([str(c) for c in rows.columns], dtype=object)
    return ReasonTable(
        notice=notice.tolist(),
        rank=(rank + 1).tolist(),
        feature=names[feature].tolist(),
        value=value.tolist(),
        contribution=top_adverse[notice, rank].tolist(),
        code=code.tolist(),
        statement=statement.tolist(),
    )
