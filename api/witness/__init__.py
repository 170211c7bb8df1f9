"""A transparency-log witness (c2sp.org/tlog-witness) that cosigns govledger checkpoints.

It is its own small service, run by another party than the ledger's (`govledger witness
serve`), with its own key and its own SQLite state: no import of the ledger's store.
"""

from api.witness._app import MAX_BODY, Refused, check, create_witness_app
from api.witness._state import WitnessState

__all__ = ["MAX_BODY", "Refused", "WitnessState", "check", "create_witness_app"]
