"""Every kind has plain words, and only approvals, rejections and key registrations expect a
signature (so a page never shows a missing signature where none was due)."""

from __future__ import annotations

from ledger.log.kinds import Kind
from reports.kind_words import kind_words, signature_expected


def test_every_kind_has_plain_words_that_are_not_its_name() -> None:
    for kind in Kind:
        words = kind_words(kind.value)
        assert words != kind.value and "." not in words and words[0].isupper(), kind


def test_only_signed_kinds_expect_a_signature() -> None:
    expected = {k.value for k in Kind if signature_expected(k.value)}
    assert expected == {"approval.granted", "approval.rejected", "key.registered"}
