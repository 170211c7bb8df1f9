"""HTML to PDF/A-3b with WeasyPrint, with files attached as PDF/A-3 associated files.

PDF/A-3b is the archival profile that allows embedded files of any type, so a card can carry
its own evidence for ten years and more (EU AI Act retention). WeasyPrint writes the XMP
identification (pdfaid:part 3, conformance B), the sRGB output intent and the document ID,
embeds (subsets of) every font used, and lists each attachment in the catalog's /AF array
with its /AFRelationship; we give each attachment its MIME type (/Subtype) through a data:
URL and refuse to fetch anything else: rendering never touches the network.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import UTC, datetime

MIME_TYPES = {
    ".cdx.json": "application/vnd.cyclonedx+json",
    ".json": "application/json",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".svg": "image/svg+xml",
}
RELATIONSHIPS = ("Source", "Data", "Alternative", "Supplement", "Unspecified")


def media_type(name: str) -> str:
    """The MIME type an attachment is labelled with, from its file name."""
    for suffix, kind in MIME_TYPES.items():
        if name.endswith(suffix):
            return kind
    return "application/octet-stream"


def render_pdf(
    html: str,
    attachments: Mapping[str, bytes],
    *,
    relationships: Mapping[str, str] | None = None,
    descriptions: Mapping[str, str] | None = None,
) -> bytes:
    """Render HTML (from `reports.html` with for_print=True) to PDF/A-3b bytes.

    `attachments` maps file names to bytes; `relationships` gives each one's PDF/A-3
    AFRelationship (Source, Data, Alternative, Supplement; default Data).
    """
    import weasyprint

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    offline = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    files = []
    for name, data in attachments.items():
        relationship = (relationships or {}).get(name, "Data")
        if relationship not in RELATIONSHIPS:
            raise ValueError(f"AFRelationship {relationship!r} is not one of {RELATIONSHIPS}")
        url = f"data:{media_type(name)};base64,{base64.b64encode(data).decode('ascii')}"
        files.append(
            weasyprint.Attachment(
                url=url,
                url_fetcher=offline,
                name=name,
                description=(descriptions or {}).get(name, name),
                relationship=relationship,
                created=now,
                modified=now,
            )
        )
    document = weasyprint.HTML(string=html, url_fetcher=offline)
    pdf: bytes = document.write_pdf(
        pdf_variant="pdf/a-3b",
        attachments=files,
        uncompressed_pdf=False,
    )
    return pdf
