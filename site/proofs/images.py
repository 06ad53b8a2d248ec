"""The render step of a new revision: check the design with the renderer, render the proof
PNG at PROOF_IMAGE_WIDTH, store it by its hash and derive the email JPEG. Runs outside any
transaction (it is the slow part)."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

import proofmark_renderer as renderer
from proofmark import storage
from proofmark.proofs.emails import email_jpeg
from proofmark.proofs.errors import ProofError
from proofmark_renderer import Design


@dataclass(frozen=True)
class Rendered:
    design: Design
    image_sha256: str
    width: int
    height: int
    warnings: list[dict]
    email_jpeg: bytes


def design_from(design) -> Design:
    """A renderer Design from a Design or its dict (parsed here, once)."""
    if isinstance(design, Design):
        return design
    if isinstance(design, dict):
        try:
            return Design.from_dict(design)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ProofError(f"The design is not in the expected form: {exc}") from exc
    raise ProofError("The design is missing.")


def render_checked(design) -> Rendered:
    design = design_from(design)
    issues = renderer.validate(design)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking:
        raise ProofError(
            "This design cannot be made as it is: " + " ".join(i.message for i in blocking), "design"
        )
    result = renderer.render(
        design, width=int(current_app.config["PROOF_IMAGE_WIDTH"]), fmt="png", keep_picture=True
    )
    if not result.ok:
        problems = [i.message for i in result.issues if i.severity == "error"]
        raise ProofError("This design cannot be made as it is: " + " ".join(problems))
    sha = storage.put(result.image)
    return Rendered(
        design=design,
        image_sha256=sha,
        width=result.width,
        height=result.height,
        warnings=[i.to_dict() for i in issues if i.severity != "error"],
        email_jpeg=email_jpeg(sha, picture=result.picture),
    )
