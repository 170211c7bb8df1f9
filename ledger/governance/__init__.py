"""Governance: every rule about what may be appended, as pure functions over facts.

An index of the rules, each in one place (module.function):

- the order of checks for one statement: `admission.admit`
- a signature (strict Ed25519, a registered unrevoked key of the actor, fresh, not
  replayed): `admission._check_signature`; the key rule itself is
  `ledger.log.ed25519_strict`
- four eyes on approvals and rejections: `policy.check_four_eyes`
- four eyes on oversight of one's own version: `policy.check_oversight_four_eyes`
- the approvals a deployment needs, and a version's status: `policy.check_deployment`,
  `policy.version_status`
- stop and resume (human oversight, EU AI Act Art. 14): `oversight.check_oversight`,
  `oversight.check_not_stopped`
- reason-code catalogues and the features they map (Regulation B 1002.9(b)(2)):
  `catalogue.check_catalogue`
- the model inventory record (SR 26-2): `inventory.check_registration`
- what a payload may cite, of which kind and model: `citations.may_cite`,
  `citations.citation_problem`
- the facts the rules read, and how they are built from entries: `facts`
- who may submit which kind, as which actor, deciding in which role:
  `permissions.authorize_statement` (the roles: `roles.Role`, `roles.Principal`)
- the roles an approval policy may count: `roles.check_policy_roles`
- which refusals are kept as `request.refused` entries, and what one says:
  `refusals.is_recorded`, `refusals.refusal_statement`

Nothing here reads a database: the store hands admission a `facts.LedgerFacts`, and its
write gate (`ledger.store.submit`) applies the role and refusal rules on every write path.
"""
