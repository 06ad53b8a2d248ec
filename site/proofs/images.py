"""The render step of a new revision. `check_design` runs in the request (the renderer's
checks, cheap: no scene is built) so that a design that cannot be made is refused there;
`render_checked` renders the proof PNG at PROOF_IMAGE_WIDTH, stores it by its hash and derives
the email JPEG. That is the slow part (a cold 2400-px scene takes seconds), so it runs in a
render job (proofmark.proofs.render_jobs), outside any transaction and after the answer."""

from __future__ import annotations

import dataclasses
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
    # The product's other views of the same design (a close-up, the back), stored by hash:
    # [{"view": n, "name": ..., "image_sha256": ..., "image_size": [w, h]}]; [] for one view.
    views: tuple[dict, ...] = ()


# The other views are shown beside the proof (never instead of it): half the proof's width is
# plenty for a picture the page shows at most 600 px wide, and costs a quarter of the pixels.
VIEW_IMAGE_WIDTH = 1200


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


def with_variant(design: Design) -> Design:
    """A design for a product with variants that names none is made in the product's first
    variant, and says so: the variant is written into the design that is recorded, so what is
    drawn is what is recorded (older stored designs keep theirs as they are)."""
    if design.variant:
        return design
    product = renderer.catalog.product(design.product)
    if product is None or not product.variants:
        return design
    return dataclasses.replace(design, variant=product.default_variant)


def check_design(design) -> tuple[Design, list[dict]]:
    """The design parsed, given its product's first variant when it names none (`with_variant`),
    and checked by the renderer: (design, its non-blocking warnings). Raises ProofError for a
    design that cannot be made."""
    return _checked(with_variant(design_from(design)))


def _checked(design: Design) -> tuple[Design, list[dict]]:
    issues = renderer.validate(design)
    blocking = [i for i in issues if i.severity == "error"]
    if blocking:
        raise ProofError(
            "This design cannot be made as it is: " + " ".join(i.message for i in blocking), "design"
        )
    return design, [i.to_dict() for i in issues if i.severity != "error"]


def render_checked(design) -> Rendered:
    # The design as recorded: a stored design is drawn exactly as it was stored.
    design, warnings = _checked(design_from(design))
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
        views=render_views(design),
    )


def render_views(design: Design) -> tuple[dict, ...]:
    """The design on each of its product's other views (1, 2, ...), each PNG stored by its
    SHA-256. What the approval page shows beside the proof, and the evidence lists."""
    product = renderer.catalog.product(design.product)
    if product is None:
        return ()
    names = product.view_names
    views = []
    for number in range(1, len(names)):
        result = renderer.render(design, width=VIEW_IMAGE_WIDTH, fmt="png", view=number)
        if not result.ok:
            # The proof (view 0) is what is approved and it was drawn; a view that cannot show
            # this design is left out (and so not shown beside it), never a failed proof.
            problems = [i.message for i in result.issues if i.severity == "error"]
            current_app.logger.warning("view %r of %s not drawn: %s", names[number], design.product, problems)
            continue
        views.append(
            {
                "view": number,
                "name": names[number],
                "image_sha256": storage.put(result.image),
                "image_size": [result.width, result.height],
            }
        )
    return tuple(views)
