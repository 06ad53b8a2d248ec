"""Proofs: what the customer is asked to approve, its revisions, and the record of it.

The package by job: errors (what is raised), model (typed Proof and Revision), queries
(reading them), rules (checks on inputs that several paths accept), approval_page (what
the approval page shows, and its hash), emails (the proof emails and their image),
images (the render step) and service (every change to a proof: create, revise, resend,
cancel, approve, request changes, views, reminders and expiry). This module re-exports
what the rest of the app uses.
"""

from __future__ import annotations

from proofmark.proofs.approval_page import page_content, page_content_sha256, statements
from proofmark.proofs.emails import mask_email
from proofmark.proofs.errors import (
    OrderRefTaken,
    ProofChanged,
    ProofError,
    ProofExpired,
    ProofNotFound,
    ProofSuperseded,
)
from proofmark.proofs.model import Proof, Revision
from proofmark.proofs.queries import (
    find_by_design_token,
    get_events,
    get_proof,
    get_proof_by_public_id,
    get_revision,
    get_revisions,
    outbox_for,
)
from proofmark.proofs.rules import MAX_COMMENT, MAX_EMAIL, MAX_NAME, MAX_ORDER_REF, hidden_character
from proofmark.proofs.service import (
    Decision,
    ReminderReport,
    add_revision,
    approve,
    cancel,
    confirm_decision,
    create_proof,
    queue_pending_confirmations,
    record_view,
    request_changes,
    resend_link,
    send_reminders,
)

__all__ = [
    "MAX_COMMENT",
    "MAX_EMAIL",
    "MAX_NAME",
    "MAX_ORDER_REF",
    "Decision",
    "Proof",
    "ProofChanged",
    "ProofError",
    "OrderRefTaken",
    "ProofExpired",
    "ProofNotFound",
    "ProofSuperseded",
    "ReminderReport",
    "Revision",
    "add_revision",
    "approve",
    "cancel",
    "confirm_decision",
    "create_proof",
    "find_by_design_token",
    "get_events",
    "get_proof",
    "get_proof_by_public_id",
    "get_revision",
    "get_revisions",
    "hidden_character",
    "mask_email",
    "outbox_for",
    "page_content",
    "page_content_sha256",
    "queue_pending_confirmations",
    "record_view",
    "request_changes",
    "resend_link",
    "send_reminders",
    "statements",
]
