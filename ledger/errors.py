"""The govledger exception hierarchy.

Every failure a caller may want to handle has its own class under `GovledgerError`.
Messages say what happened and what to do next. The API maps these classes to RFC 9457
problem responses in one place (`api/problems.py`) using `status` and `slug`; the CLI prints
the message on one line and exits non-zero.
"""

from __future__ import annotations


class GovledgerError(Exception):
    """Base class of every error govledger raises on purpose.

    `status` is the HTTP status the API answers with; `slug` names the problem type
    (`https://govledger.dev/problems/<slug>`).
    """

    status: int = 400
    slug: str = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- bad input (422) ---------------------------------------------------------------------


class InvalidStatement(GovledgerError):
    """The statement or its payload does not validate for its kind."""

    status = 422
    slug = "invalid-statement"


class LockFileInvalid(GovledgerError):
    """The lock file a run names does not exist or does not parse (checked before sending)."""

    status = 422
    slug = "lock-file-invalid"


class DatasetNotFingerprintable(GovledgerError):
    """A data frame holds a column type the columns fingerprint does not define."""

    status = 422
    slug = "dataset-not-fingerprintable"


class VersionsOfDifferentModels(GovledgerError):
    """A diff was asked between runs of two different models."""

    status = 422
    slug = "versions-of-different-models"


class InvalidEvent(InvalidStatement):
    """A notification event that cannot be enqueued: an unknown type, a missing or reserved
    key, data that is not a JSON object (`ledger.store.enqueue_event`)."""

    slug = "invalid-event"


class InvalidName(InvalidStatement):
    """A model, version or user name breaks the name grammar (`ledger.names`)."""

    slug = "invalid-name"


class UnknownKind(InvalidStatement):
    """The statement's kind is not one of the kinds in `ledger.kinds.Kind`."""

    slug = "unknown-kind"


class MissingReason(InvalidStatement):
    """A kind that requires a reason (approvals, deployments...) came without one."""

    slug = "missing-reason"


class NonCanonicalValue(InvalidStatement):
    """A value JSON cannot carry canonically (NaN, Infinity, an unsafe integer...)."""

    slug = "non-canonical-value"


class UnknownMaterialityTier(InvalidStatement):
    """A registration names a materiality tier outside GOVLEDGER_MATERIALITY_TIERS."""

    slug = "unknown-materiality-tier"


class UnknownEnvironment(InvalidStatement):
    """A promotion names an environment outside GOVLEDGER_ENVIRONMENTS."""

    slug = "unknown-environment"


class ModelFileMismatch(InvalidStatement):
    """A promotion (or a model check) names a model file digest the version's run does not
    cite as its model."""

    slug = "model-file-mismatch"


class InvalidAsOf(InvalidStatement):
    """An as-of question about a time or seq the ledger cannot answer: before the model
    existed, in the future, or beyond the log."""

    slug = "invalid-as-of"


class FeatureNotScored(InvalidStatement):
    """A reason-code catalogue names a feature the model version does not score."""

    slug = "feature-not-scored"


class ArtifactNotStored(InvalidStatement):
    """A payload marks an artifact `stored` whose bytes are not in the artifact store: the
    entry would promise evidence that verification could never re-hash."""

    slug = "artifact-not-stored"


class InvalidTimeBound(InvalidStatement):
    """A period's since/until is not a day or RFC 3339 UTC time of the calendar
    (0001-01-01 to 9999-12-31); `parameter` names which bound."""

    slug = "invalid-time-bound"

    def __init__(self, message: str, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class InvalidDecision(InvalidStatement):
    """A scoring decision of a batch is refused (`ledger.log.scoring`, admission's scoring
    rules): `row` is the index of the first bad decision in the batch, and nothing of the
    batch is written."""

    slug = "invalid-decision"

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


class ReasonNotInCatalogue(InvalidDecision):
    """A decision's reason code is not in the reason catalogue in force for its version."""

    slug = "reason-not-in-catalogue"


class InvalidRunFilter(GovledgerError):
    """A run search's filter or order_by does not parse (`ledger.log.run_filter`)."""

    status = 422
    slug = "invalid-run-filter"


class ModelFlavourUnknown(GovledgerError):
    """A model flavour or model file format the client does not write or read."""

    status = 422
    slug = "model-flavour-unknown"


class ControlCharacter(GovledgerError):
    """A path or query holds NUL, another C0 control character or DEL: no name, filter or
    date contains one, and PostgreSQL text cannot hold NUL at all; `parameter` names where."""

    status = 422
    slug = "control-character"

    def __init__(self, message: str, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class UnknownRegime(GovledgerError):
    """A compliance check names a regime with no checklist (`reports/regimes`)."""

    status = 422
    slug = "unknown-regime"


class PayloadTooLarge(GovledgerError):
    """The canonical statement is larger than the ledger accepts (1 MiB)."""

    status = 413
    slug = "payload-too-large"


# --- signatures and keys -----------------------------------------------------------------


class SignatureError(GovledgerError):
    """Base class for signature failures."""

    status = 422
    slug = "signature-error"


class SignatureRequired(SignatureError):
    """The kind must be signed by the actor's registered key (approvals, rejections)."""

    slug = "signature-required"


class SignatureInvalid(SignatureError):
    """The Ed25519 signature does not verify over the canonical statement bytes."""

    slug = "signature-invalid"


class WeakKey(SignatureInvalid):
    """An Ed25519 public key that proves nothing: non-canonical or of small order.

    A signature by a small-order key can be forged for any message (RFC 8032 section 5.1.7,
    `ledger.ed25519_strict`)."""

    slug = "weak-key"


class NonCanonicalSignature(SignatureInvalid):
    """A signature in a second spelling: non-canonical base64, S >= L, or a bad R.

    Only one text per signature is accepted, so that replay protection cannot be evaded by
    re-encoding (`ledger.ed25519_strict`)."""

    slug = "non-canonical-signature"


class UnknownKey(SignatureError):
    """The key_id is not registered in the ledger."""

    slug = "unknown-key"


class KeyRevoked(SignatureError):
    """The key was revoked before this statement was submitted."""

    slug = "key-revoked"


class KeyNotOwned(SignatureError):
    """The key is registered to another actor than the one submitting."""

    status = 403
    slug = "key-not-owned"


class ReplayedStatement(SignatureError):
    """This exact signed statement is already in the ledger."""

    status = 409
    slug = "replayed-statement"


class PasskeyRegistrationFailed(SignatureError):
    """A new passkey's registration response (W3C Web Authentication Level 3, section 7.1)
    does not verify: another challenge, origin or relying party, an expired or foreign
    registration form, or an authenticator response that does not parse."""

    status = 422
    slug = "passkey-registration-failed"


class StaleStatement(SignatureError):
    """The statement's issued_at is too far from the ledger's clock."""

    slug = "stale-statement"


class KeyFileError(GovledgerError):
    """A key file is missing, unreadable, has unsafe permissions or holds no Ed25519 key."""

    status = 500
    slug = "key-file"


class InvalidConfiguration(GovledgerError):
    """A setting (GOVLEDGER_*) names something that cannot exist, such as an approval policy
    role no approval is made as: raised when the settings load or a store opens, so a ledger
    never runs under a rule nobody can satisfy."""

    status = 500
    slug = "invalid-configuration"


class WitnessPolicyInvalid(GovledgerError):
    """A witness policy that no checkpoint could meet or that is not what the caller meant:
    fewer than one or more cosignatures required than witnesses given, a malformed or
    repeated witness key (`ledger.log.witness_policy`)."""

    slug = "witness-policy-invalid"


# --- ledger state (404 / 409 / 403) -------------------------------------------------------


class NotFound(GovledgerError):
    """Something named by the caller does not exist."""

    status = 404
    slug = "not-found"


class UnknownModelVersion(NotFound):
    """A statement refers to a model version that was never logged."""

    slug = "unknown-model-version"


class ModelNotRegistered(NotFound):
    """A user logged a run for a model the inventory does not hold (no `model.registered`
    entry): most often a typo in the name, which would otherwise start a new model. The
    message names the closest registered models and how to proceed."""

    slug = "model-not-registered"


class UnknownDelivery(NotFound):
    """No webhook delivery with that id in the delivery log."""

    slug = "unknown-delivery"


class UnknownEntry(NotFound):
    """No entry with that seq, id or hash."""

    slug = "unknown-entry"


class ArtifactNotFound(NotFound):
    """No artifact with that digest in the artifact store."""

    slug = "artifact-not-found"


class Conflict(GovledgerError):
    """The statement conflicts with what the ledger already holds."""

    status = 409
    slug = "conflict"


class VersionAlreadyLogged(Conflict):
    """A training or recalibration run was already logged for this model version."""

    slug = "version-already-logged"


class IdempotencyKeyReused(Conflict):
    """The Idempotency-Key was used before with a different request."""

    slug = "idempotency-key-reused"


class PolicyViolation(Conflict):
    """The approval policy does not allow this step yet (e.g. deployment without approvals)."""

    slug = "policy-violation"


class EvidenceMissing(PolicyViolation):
    """The policy in force requires evidence the version does not have yet (named
    evaluations, a regime checklist without gaps, a reviewed reason catalogue).

    `missing` lists each piece in words, as the refusal's message does; the API returns it
    as the problem's `evidence_missing` member (RFC 9457 section 3.2)."""

    slug = "evidence-missing"

    def __init__(self, message: str, missing: list[str]) -> None:
        super().__init__(message)
        self.missing = list(missing)


class VersionStopped(PolicyViolation):
    """A human stopped the version (oversight 'stop'); it cannot be deployed until resumed."""

    slug = "version-stopped"


class ModelFileMissing(PolicyViolation):
    """The version's run cites no model file (an artifact with role `model`), so nothing
    binds a deployment to the bytes the approvals covered."""

    slug = "model-file-missing"


class DecisionRepeated(Conflict):
    """The same person already made this decision on this subject, and has not changed it."""

    slug = "decision-repeated"


class AlreadyServing(Conflict):
    """The version already serves in that environment."""

    slug = "already-serving"


class RollbackRefused(PolicyViolation):
    """A rollback to a version that never served there, or was rejected since."""

    slug = "rollback-refused"


class ChampionComparisonMissing(PolicyViolation):
    """The policy requires a reviewed comparison with the serving champion first."""

    slug = "champion-comparison-missing"


class NotServing(Conflict):
    """A model file is not the one serving in that environment (verify-model)."""

    slug = "not-serving"


class ModelRetired(Conflict):
    """The model or version is retired; nothing but notes can be added."""

    slug = "model-retired"


class Forbidden(GovledgerError):
    """The submitter is known but lacks the role this action needs
    (`ledger.governance._permissions`)."""

    status = 403
    slug = "forbidden"


class FourEyesViolation(GovledgerError):
    """The actor who logged a version tried to approve or reject it.

    Deploying one's own version is allowed once the policy's approvals, none of them by
    that actor, are present; the approvals are the four eyes."""

    status = 403
    slug = "four-eyes-violation"


class LedgerNotInitialised(GovledgerError):
    """The database has no ledger yet: run `govledger init`."""

    status = 503
    slug = "ledger-not-initialised"


class LedgerBusy(GovledgerError):
    """The sequencer lock could not be taken in time; retry with the same Idempotency-Key."""

    status = 503
    slug = "ledger-busy"


class LedgerUnavailable(GovledgerError):
    """The database could not be reached or gave up on the transaction (connection lost,
    server restarting): nothing of the request is known to be written unless a retry with
    the same Idempotency-Key says so."""

    status = 503
    slug = "ledger-unavailable"


class ArtifactStoreUnavailable(LedgerUnavailable):
    """The artifact store's file system refused a write or a read (disk full, quota
    exceeded, read-only, I/O error): nothing of the upload was kept; retry once the
    operator has fixed the store."""


class BatchTooLarge(PayloadTooLarge):
    """A batch of scoring decisions holds more than one entry may (`ledger.log.scoring`)."""

    slug = "batch-too-large"


class DecisionNotServing(Conflict):
    """A decision names a version that was not serving in its environment at its time
    (before it was promoted, after it was replaced or retired): `row` is its index."""

    slug = "version-not-serving"

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


class DecisionIdTaken(Conflict):
    """A decision id is already in the ledger (another batch recorded it): `row` is its
    index in the refused batch."""

    slug = "decision-id-taken"

    def __init__(self, message: str, row: int | None = None) -> None:
        super().__init__(message)
        self.row = row


class CatalogueChanged(Conflict):
    """A batch names a reason catalogue that is no longer (or not yet) the one in force for
    its version: prepare it again (`LedgerStore.record_decisions` does, once)."""

    slug = "catalogue-changed"


class DecisionErased(Conflict):
    """The decision's details are already erased or purged."""

    slug = "decision-erased"


class RetentionNotOver(Conflict):
    """A purge names a cut-off inside the retention period (12 CFR 1002.12(b))."""

    slug = "retention-not-over"


class UnknownDecision(NotFound):
    """No decision with that id is in the ledger."""

    slug = "unknown-decision"


class ImportSourceError(GovledgerError):
    """The system an import reads from (an MLflow tracking server) could not be read: it is
    unreachable, answered with an error, or said something the import cannot use."""

    status = 502
    slug = "import-source"


class ImportSourceNotFound(ImportSourceError):
    """What the import was asked for (an experiment, a registered model) is not on the
    source server."""

    status = 404
    slug = "import-source-not-found"


class ImportedRunRefused(InvalidStatement):
    """A record of the source cannot enter the ledger as it is (a NaN or infinite metric:
    the ledger's canonical JSON carries neither); the message names the run and the field."""

    slug = "imported-run-refused"


# --- verification --------------------------------------------------------------------------


class VerificationError(GovledgerError):
    """Verification found a problem; `seq` names the first bad entry when there is one."""

    status = 409
    slug = "verification-failed"

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class ChainBroken(VerificationError):
    """An entry's prev_hash does not match the previous entry's hash, or seq has a gap."""

    slug = "chain-broken"


class HashMismatch(VerificationError):
    """An entry's stored hash is not the hash of its canonical form."""

    slug = "hash-mismatch"


class CheckpointMismatch(VerificationError):
    """The Merkle root recomputed from the entries differs from a signed checkpoint."""

    slug = "checkpoint-mismatch"


class CheckpointInvalid(VerificationError):
    """A checkpoint is malformed or its signature does not verify with the ledger key."""

    slug = "checkpoint-invalid"


class NotWitnessed(CheckpointInvalid):
    """The checkpoint a document is proven against lacks the witness cosignatures the
    verifier's policy requires (`ledger.log.witness_policy`): it may be one side of a split
    view, so it proves nothing to that verifier."""

    slug = "not-witnessed"


class ArtifactTampered(VerificationError):
    """An artifact's bytes no longer hash to the digest an entry records."""

    slug = "artifact-tampered"


class ServingAnswerInvalid(VerificationError):
    """A serving answer does not prove what it claims: its checkpoint, an entry, an
    inclusion proof or a claim fails (`ledger.log.serving_answer`). `problem` names the
    check, as `ledger.verify.Problem` spells it."""

    slug = "serving-answer-invalid"

    def __init__(self, message: str, seq: int | None = None, problem: str = "malformed") -> None:
        super().__init__(message, seq)
        self.problem = problem


class ReceiptInvalid(VerificationError):
    """A decision receipt does not prove what it claims (`ledger.log.receipt`): `problem`
    names the check, as `ledger.verify.Problem` spells it."""

    slug = "receipt-invalid"

    def __init__(self, message: str, seq: int | None = None, problem: str = "malformed") -> None:
        super().__init__(message, seq)
        self.problem = problem


class BundleInvalid(VerificationError):
    """An export bundle is malformed (bad header, bad line, wrong format version)."""

    slug = "bundle-invalid"
