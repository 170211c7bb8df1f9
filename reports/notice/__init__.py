"""The adverse-action notice of a declined decision (Regulation B), built from its receipt."""

from reports.notice._notice import (
    AGENCY_PLACEHOLDER,
    AdverseActionNotice,
    NoticeReason,
    NoticeRefused,
    NoticeSettings,
    build_notice,
    receipt_name,
)

__all__ = [
    "AGENCY_PLACEHOLDER",
    "AdverseActionNotice",
    "NoticeReason",
    "NoticeRefused",
    "NoticeSettings",
    "build_notice",
    "receipt_name",
]
