"""The regime checklists (`regimes/*.json`: EU AI Act, Regulation B, SR 26-2) and their
evaluation against a version's entries.
"""

from reports.regulatory._checklist import ComplianceCheck, check_version, evaluate

__all__ = ["ComplianceCheck", "check_version", "evaluate"]
