"""Reading staff forms into values, with plain-language errors; nothing is lost on error
because the views render the form again with what was typed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from flask_babel import gettext

from proofmark.claims import CLAIM_KINDS, ITEM_MATCHES, Claim
from proofmark.proofs import rules
from proofmark.proofs.errors import ProofError
from proofmark_renderer import Design, catalog


@dataclass
class DesignForm:
    product: str = ""
    font: str = ""
    lines: str = ""  # one engraved line per text line
    fields: dict = field(default_factory=dict)
    align: str = "center"
    variant: str = ""  # the product's variant (metal, colour); its first when not chosen
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_design(cls, design: dict) -> DesignForm:
        return cls(
            product=design.get("product", ""),
            font=design.get("font", ""),
            lines="\n".join(design.get("lines", [])),
            fields=dict(design.get("fields", {})),
            align=design.get("align", "center"),
            variant=design.get("variant", ""),
        )

    @classmethod
    def from_form(cls, form) -> DesignForm:
        product = catalog.product(form.get("product", ""))
        values = cls(
            product=form.get("product", ""),
            font=form.get("font", ""),
            lines=(form.get("lines") or "").replace("\r\n", "\n").replace("\r", "\n"),
            align=form.get("align") or "center",
            variant=str(form.get("variant") or "")[:64],
        )
        if product is not None:
            values.fields = {f: form.get(f"field_{f}", "") for f in product.fields}
        return values

    def design(self) -> Design | None:
        """The design, or None with `errors` filled in."""
        self.errors = []
        product = catalog.product(self.product)
        if product is None:
            self.errors.append(gettext("Choose a product."))
            return None
        if self.font not in product.allowed_fonts:
            self.errors.append(
                gettext(
                    "%(product)s cannot be made in that font; choose one of the listed fonts.",
                    product=product.name,
                )
            )
        if self.align not in ("center", "left", "right"):
            self.errors.append(gettext("Choose an alignment."))
        lines = self.lines.split("\n")
        # Trailing empty lines are an artefact of the textarea; inner blank lines are kept on purpose.
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines and not any(v.strip() for v in self.fields.values()):
            self.errors.append(gettext("Enter the text to personalise."))
        if len(lines) > product.max_lines:
            self.errors.append(
                gettext(
                    "%(product)s takes at most %(max)s line(s); this has %(count)s.",
                    product=product.name,
                    max=product.max_lines,
                    count=len(lines),
                )
            )
        variant = self.variant or product.default_variant
        if product.variants and product.variant_spec(variant) is None:
            choices = ", ".join(v.name for v in product.variants)
            self.errors.append(f"{product.name} does not come in {variant!r}; choose one of: {choices}.")
        elif variant and not product.variants:
            self.errors.append(f"{product.name} comes in one version only; it has no variant {variant!r}.")
        if self.errors:
            return None
        return Design(
            variant=variant,
            product=product.id,
            font=self.font,
            lines=tuple(lines),
            fields={k: v for k, v in self.fields.items() if v},
            align=self.align,
        )


@dataclass
class CustomerForm:
    order_ref: str = ""
    customer_name: str = ""
    customer_email: str = ""
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_form(cls, form) -> CustomerForm:
        values = cls(
            order_ref=form.get("order_ref") or "",
            customer_name=form.get("customer_name") or "",
            customer_email=form.get("customer_email") or "",
        )
        # The proofs service's own input rules, so the form refuses exactly what the
        # service would, and keeps what was typed exactly (no trimming, no lower-casing).
        checks = (
            ("order_ref", rules.clean_order_ref, gettext("Enter the order reference.")),
            ("customer_name", rules.clean_name, gettext("Enter the customer's name.")),
            (
                "customer_email",
                rules.clean_email,
                gettext("Enter the customer's email address (name@example.com)."),
            ),
        )
        for name, check, missing in checks:
            value = getattr(values, name)
            if not value:
                values.errors.append(missing)
                continue
            try:
                setattr(values, name, check(value))
            except ProofError as exc:
                values.errors.append(str(exc))
        return values


@dataclass
class ClaimForm:
    kind: str = "text"
    description: str = ""
    expected_text: str = ""
    expected_font: str = ""
    item_matches_proof: str = "unknown"

    @classmethod
    def from_form(cls, form) -> ClaimForm:
        kind = form.get("kind") or ""
        matches = form.get("item_matches_proof") or "unknown"
        return cls(
            kind=kind if kind in CLAIM_KINDS else "",
            # Not cut short here: claims.validate() refuses what is too long, with a reason,
            # and the form is shown again with everything that was typed.
            description=(form.get("description") or "").replace("\r\n", "\n").strip(),
            expected_text=(form.get("expected_text") or "").replace("\r\n", "\n"),
            expected_font=(form.get("expected_font") or "").strip(),
            item_matches_proof=matches if matches in ITEM_MATCHES else "unknown",
        )

    def claim(self) -> Claim:
        return Claim(
            self.kind, self.description, self.expected_text, self.expected_font, self.item_matches_proof
        )


def products_json() -> str:
    """What the design form's script needs to offer the right fonts and fields per product."""
    return json.dumps(
        {
            p.id: {
                "fonts": list(p.allowed_fonts),
                "fields": [{"id": f.id, "label": f.label} for f in p.field_specs],
                "max_lines": p.max_lines,
            }
            for p in catalog.products()
        }
    )
