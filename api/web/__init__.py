"""The web pages for business leaders and approvers: routes, page data, rendering
(autoescaped Jinja2), web sessions.
"""

from api.web._routes import install

__all__ = ["install"]
