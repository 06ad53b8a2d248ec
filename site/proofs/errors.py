"""What the proofs service raises: a plain-language reason, and which input was at fault."""

from __future__ import annotations


class ProofError(ValueError):
    """Bad input or a state that does not allow the action; str() is plain language.
    `field` names the input at fault (customer_name, order_ref, ...) when there is one, so
    a form can point at it and an API client can tell which one it was."""

    def __init__(self, message: str, field: str | None = None, *, shopper: str | None = None):
        super().__init__(message)
        self.field = field
        # The same reason as the shopper's own form says it, in the request's language (the
        # demo shop's order form, the approval page's comment); str() stays as it is, for
        # the API and the records.
        self.shopper = shopper


class ProofNotFound(ProofError):
    pass


class ProofSuperseded(ProofError):
    """The link is for a revision that a newer one has replaced."""


class ProofChanged(ProofError):
    """What the customer saw is not what the proof is now (e.g. the disclosure changed)."""


class ProofExpired(ProofError):
    pass


class OrderRefTaken(ProofError):
    """A proof with this order reference already exists (and is not cancelled)."""

    def __init__(self, message: str, proof_id: int):
        super().__init__(message, "order_ref")
        self.proof_id = proof_id
