"""The regime checklists (`regimes/*.json`: EU AI Act, Regulation B, SR 26-2) and their
evaluation against a version's entries; `promotion_gaps` is what admission asks when a
policy requires a checklist without gaps before a promotion.
"""

from reports.regulatory._checklist import ComplianceCheck, check_version, evaluate
from reports.regulatory._promotion import promotion_checklist, promotion_gaps

__all__ = ["ComplianceCheck", "check_version", "evaluate", "promotion_checklist", "promotion_gaps"]
