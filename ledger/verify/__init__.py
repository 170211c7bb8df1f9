"""Verification: one report type, built on the same log rules the writer uses.

`verify_ledger(store)` (`database`) streams every entry through one `StreamVerifier`
(`stream`), in aligned ranges on worker processes for large logs (`ranges`); `keys` is the
one key-history rule (which key may sign for whom at which seq), `tree` checks the stored
Merkle nodes, `bundle` verifies an exported file. Each answers with the one
`VerificationReport` of `report`. `rules_replay` is the replay audit: every entry re-checked
against the rules in force at its seq (roles, four eyes, the deployment policy of the tier
and environment), over the database or a bundle, answering with a `RulesReplayReport`.
`serving_answer` checks an as-of serving answer (the rule: `ledger.log.serving_answer`);
`decisions` checks the scoring decisions' detail store against the log's batch entries, and
`receipt` a decision's receipt (the rule: `ledger.log.receipt`). Each takes a
`WitnessPolicy` (`ledger.log.witness_policy`, re-exported here): K of these witnesses must
have cosigned the checkpoint the evidence is proven against.
`standalone` re-implements the checks with only the standard library and `cryptography`, so
an archive can be verified in ten years without govledger; its tests run it and this
package on the same inputs (the rules replay is not in it: it runs the rules themselves).
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

from ledger.log.witness_policy import WitnessPolicy  # light: the log floor only

if typing.TYPE_CHECKING:
    from ledger.verify._bundle import (
        export_bundle,
        import_bundle,
        read_header,
        replay_bundle_rules,
        verify_bundle,
    )
    from ledger.verify._database import verify_ledger
    from ledger.verify._decisions import verify_decisions
    from ledger.verify._keys import KEY_KINDS, KeyHistory, SignedStatements, problem_of
    from ledger.verify._receipt import verify_receipt
    from ledger.verify._report import Failed, Problem, Subject, VerificationReport
    from ledger.verify._rules_replay import (
        RulesReplayReport,
        RuleViolation,
        replay_ledger_rules,
        replay_rules,
    )
    from ledger.verify._serving_answer import verify_serving_answer
    from ledger.verify._tree import verify_stored_tree

_HOMES = {
    "Failed": "_report",
    "KEY_KINDS": "_keys",
    "KeyHistory": "_keys",
    "Problem": "_report",
    "RuleViolation": "_rules_replay",
    "RulesReplayReport": "_rules_replay",
    "SignedStatements": "_keys",
    "Subject": "_report",
    "VerificationReport": "_report",
    "export_bundle": "_bundle",
    "import_bundle": "_bundle",
    "problem_of": "_keys",
    "read_header": "_bundle",
    "replay_bundle_rules": "_bundle",
    "replay_ledger_rules": "_rules_replay",
    "replay_rules": "_rules_replay",
    "verify_bundle": "_bundle",
    "verify_decisions": "_decisions",
    "verify_ledger": "_database",
    "verify_receipt": "_receipt",
    "verify_serving_answer": "_serving_answer",
    "verify_stored_tree": "_tree",
}
"""Where each name lives. The package imports a module when one of its names is first
used (PEP 562), so that a verification worker, which unpickles a job of `_decisions`, does
not import the bundle, the store and SQLAlchemy (`ledger.verify._workers`)."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"ledger.verify.{home}"), name)
    globals()[name] = value
    return value


__all__ = [
    "KEY_KINDS",
    "Failed",
    "KeyHistory",
    "Problem",
    "RuleViolation",
    "RulesReplayReport",
    "SignedStatements",
    "Subject",
    "VerificationReport",
    "WitnessPolicy",
    "export_bundle",
    "import_bundle",
    "problem_of",
    "read_header",
    "replay_bundle_rules",
    "replay_ledger_rules",
    "replay_rules",
    "verify_bundle",
    "verify_decisions",
    "verify_ledger",
    "verify_receipt",
    "verify_serving_answer",
    "verify_stored_tree",
]
