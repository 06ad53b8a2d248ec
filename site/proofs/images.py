"""The render step of a new revision. `check_design` runs in the request (the renderer's
checks, cheap: no scene is built) so that a design that cannot be made is refused there;
`render_checked` renders the proof PNG at PROOF_IMAGE_WIDTH, stores it by its hash and derives
the email JPEG. That is the slow part (a cold 2400-px scene takes seconds), so it runs in a
render job (proofmark.proofs.render_jobs), outside any transaction and after the answer."""

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


def check_design(design) -> tuple[Design, list[dict]]:
    """The design parsed and checked by the renderer: (design, its non-blocking warnings).
    Raises ProofError for a design that cannot be made."""
    design = design_from(design)
    issues = renderer.validate(design)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking:
        raise ProofError(
            "This design cannot be made as it is: " + " ".join(i.message for i in blocking), "design"
        )
    return design, [i.to_dict() for i in issues if i.severity != "error"]


def render_checked(design) -> Rendered:
    design, warnings = check_design(design)
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
        warnings=warnings,
        email_jpeg=email_jpeg(sha, picture=result.picture),
    )
