"""Checking a card offline (`govledger verify-card`): its evidence, that its pages state what
the evidence determines, and that its checkpoint is consistent with one the verifier holds.
"""

from reports.verify._card import extract_attachment, verify_card
from reports.verify._checkpoint_link import read_consistency_proof

__all__ = ["extract_attachment", "read_consistency_proof", "verify_card"]
