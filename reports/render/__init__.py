"""Rendering: HTML from Jinja2 templates, matplotlib charts, PDF/A-3b through WeasyPrint."""

from reports.render._html import (
    audit_html,
    card_charts,
    card_html,
    environment,
    inventory_html,
    notice_html,
)
from reports.render._pdf import render_pdf

__all__ = [
    "audit_html",
    "card_charts",
    "card_html",
    "environment",
    "inventory_html",
    "notice_html",
    "render_pdf",
]
