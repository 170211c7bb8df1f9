"""Routing on raw path segments: any name, encoded as one segment, comes back whole."""

from __future__ import annotations

import unicodedata
from urllib.parse import quote, unquote

from hypothesis import given
from hypothesis import strategies as st

from api.service._path_names import name_from_segment, routing_path

NAMES = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
)


def route(model: str, version: str) -> list[str]:
    raw = f"/v1/models/{quote(model, safe='')}/versions/{quote(version, safe='')}/card.pdf"
    scope = {"path": unquote(raw), "raw_path": raw.encode("ascii")}
    return routing_path(scope).split("/")


@given(NAMES, NAMES)
def test_every_name_encoded_as_one_segment_is_routed_as_one_segment(
    model: str, version: str
) -> None:
    segments = route(model, version)
    assert segments[:3] == ["", "v1", "models"] and segments[4] == "versions"
    assert segments[6:] == ["card.pdf"]
    assert name_from_segment(segments[3]) == unicodedata.normalize("NFC", model)
    assert name_from_segment(segments[5]) == unicodedata.normalize("NFC", version)


def test_an_encoded_slash_or_dot_segment_stays_inside_its_name() -> None:
    assert route("a/versions/1", "1.0/card.pdf")[3:6] == [
        "a%2Fversions%2F1",
        "versions",
        "1.0%2Fcard.pdf",
    ]
    assert route("..", "%2F")[3:6] == ["..", "versions", "%252F"]


def test_without_a_raw_path_the_servers_segments_are_kept() -> None:
    assert routing_path({"path": "/v1/models/100%/versions/1"}) == "/v1/models/100%25/versions/1"
