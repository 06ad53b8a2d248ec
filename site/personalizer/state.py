"""The personalizer's state: from the shopper's form to a Design, its issues placed next
to the lines they concern, the font choices, and what confirming requires.

No request handling here: views pass in the submitted form (any Mapping of str to str)
and get plain values back, so tests can call everything without a request.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _

from proofmark import catalog_text, i18n
from proofmark.personalizer import letters as presentation
from proofmark_renderer import Design, Issue, catalog, validate
from proofmark_renderer.catalog import Font, Product
from proofmark_renderer.quoting import codepoint, quote

ALIGN_CHOICES = (("left", "Left"), ("center", "Centre"), ("right", "Right"))
# Issues that only say "nothing typed yet": while the shopper is still typing they would be
# noise; the confirmation step still refuses an empty design.
QUIET_WHILE_EDITING = frozenset({"text-empty"})
# A form value longer than this is not a line of engraving; it is refused before rendering
# (and reported), never cut short.
MAX_INPUT_CHARS = 400

# A word in each script that a fallback font is in the catalog for.
NATIVE_SAMPLES = ("שלום", "مرحبا")


def N_(message: str) -> str:
    """Marks a message for `pybabel extract`; translated where it is shown."""
    return message


# Gentle examples for empty inputs; placeholders are never submitted as text. Each language
# has its own (names and a date as people there write them), translated in the template.
PLACEHOLDERS = (N_("Anna & Ben"), N_("12 June 2021"), N_("Forever"))


@dataclass(frozen=True)
class TextInput:
    """One box the shopper types into: a numbered line or a named field."""

    name: str  # form field name: "line-1", "field-rim"
    label: str
    value: str
    max_chars: int
    line: int | None = None
    field: str | None = None
    placeholder: str = ""

    @property
    def dom_id(self) -> str:
        return f"input-{self.name}"

    @property
    def slot(self) -> str:
        """Where this input's issues go (line-1, field-rim)."""
        return self.name

    @property
    def count(self) -> int:
        if len(self.value) > input_limit(self.max_chars):
            return len(self.value)  # refused anyway; not worth splitting into letters
        return len(presentation.letters(self.value))


@dataclass(frozen=True)
class FontChoice:
    id: str
    name: str
    group: str
    sample: str  # text to draw in the font for the picker (its name, or a native sample too)
    selected: bool
    missing: tuple[str, ...]  # characters of the current text this font cannot draw


@dataclass(frozen=True)
class DateQuestion:
    """An ambiguous numeric date the shopper must read for us before confirming."""

    slot: str  # "line-1" or "field-rim"
    where: str  # "line 1", "around the rim"
    mention: presentation.DateMention

    @property
    def name(self) -> str:
        return f"date-{self.slot}-{self.mention.start}"


@dataclass(frozen=True)
class Choice:
    """One of the product's variants or views, as the personalizer offers it."""

    value: str  # the form value: a variant's id, a view's index
    label: str
    selected: bool
    swatch: str = ""  # a variant's colour as CSS, for its little sample


class ChoiceError(ValueError):
    """A variant or view the product does not have (the views answer 400 with this text)."""


@dataclass
class State:
    product: Product
    design: Design
    inputs: list[TextInput]
    fonts: list[FontChoice]
    issues: list[Issue]
    editing: bool = True  # quiet about an empty design while the shopper is still typing
    form_problems: list[str] = field(default_factory=list)  # e.g. a value far too long
    view: int = 0  # which of the product's views the preview shows (0: the proof's)

    @property
    def variants(self) -> list[Choice]:
        return [
            Choice(v.id, _(v.name), v.id == self.design.variant, _css(v.colour))
            for v in self.product.variants
        ]

    @property
    def views(self) -> list[Choice]:
        names = self.product.view_names
        if len(names) < 2:
            return []
        return [Choice(str(i), view_label(n), i == self.view) for i, n in enumerate(names)]

    @property
    def variant_name(self) -> str:
        spec = self.product.variant_spec(self.design.variant)
        return _(spec.name) if spec else ""

    @property
    def shown_issues(self) -> list[Issue]:
        if self.editing:
            return [i for i in self.issues if i.code not in QUIET_WHILE_EDITING]
        return list(self.issues)

    def issues_for(self, slot: str) -> list[Issue]:
        return [i for i in self.shown_issues if _slot_of(i) == slot]

    @property
    def general_issues(self) -> list[Issue]:
        slots = {i.slot for i in self.inputs}
        return [i for i in self.shown_issues if _slot_of(i) not in slots]

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.blocking]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if not i.blocking]

    @property
    def blocked(self) -> bool:
        return bool(self.errors) or bool(self.form_problems)

    @property
    def empty(self) -> bool:
        return not any(i.value.strip() for i in self.inputs)

    @property
    def font(self) -> Font | None:
        return catalog.font(self.design.font)

    @property
    def alt_text(self) -> str:
        """The exact text, as the preview's alt text."""
        if self.empty:
            return _("%(product)s, not yet personalised", product=catalog_text.product_name(self.product))
        parts = [f"{i.label}: {i.value}" if i.field else i.value for i in self.inputs if i.value]
        font = self.font.name if self.font else self.design.font
        return _(
            "%(product)s with “%(text)s” in %(font)s",
            product=catalog_text.product_name(self.product),
            text=" / ".join(parts),
            font=font,
        )

    def date_questions(self) -> list[DateQuestion]:
        questions = []
        for inp in self.inputs:
            for mention in presentation.numeric_dates(inp.value):
                if mention.ambiguous:
                    questions.append(DateQuestion(inp.slot, where_label(inp), mention))
        return questions

    def dates(self) -> list[tuple[TextInput, presentation.DateMention]]:
        return [(inp, m) for inp in self.inputs for m in presentation.numeric_dates(inp.value)]

    def url_args(self) -> dict[str, str]:
        """The design as query arguments (for "edit" links back to the personalizer)."""
        args = {inp.name: inp.value for inp in self.inputs if inp.value}
        args["font"] = self.design.font
        if self.design.align != "center":
            args["align"] = self.design.align
        if self.design.variant:
            args["variant"] = self.design.variant
        return args


def view_label(name: str) -> str:
    """A view's name as a tab says it: "close-up" -> "Close-up"."""
    label = name.replace("_", " ")
    return _(label[:1].upper() + label[1:])


def _css(colour: tuple[float, ...]) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in colour) if len(colour) == 3 else ""


def choices(product: Product, form: Mapping[str, str]) -> tuple[str, int]:
    """The variant and the view a form asks for (the product's first of each when it names
    none). One the product does not have raises ChoiceError naming it: never shown or made
    as some other variant."""
    variant = form.get("variant")
    if not isinstance(variant, str) or not variant:
        variant = product.default_variant
    elif product.variant_spec(variant) is None:
        have = ", ".join(v.id for v in product.variants)
        raise ChoiceError(
            _("%(product)s has no variant %(variant)s.", product=product.name, variant=quote(variant, 40))
            + " "
            + (_("It comes as: %(variants)s.", variants=have) if have else _("It comes in one version only."))
        )
    raw = form.get("view") or "0"
    names = product.view_names
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit() and int(raw) < len(names)):
        raise ChoiceError(
            _(
                "%(product)s has no view %(view)s (it has %(count)d).",
                product=product.name,
                view=quote(str(raw), 20),
                count=len(names),
            )
        )
    return variant, int(raw)


def where_label(inp: TextInput) -> str:
    return inp.label.lower() if inp.field else _("line %(number)d", number=inp.line)


def _slot_of(issue: Issue) -> str | None:
    if issue.field:
        return f"field-{issue.field}"
    if issue.line:
        return f"line-{issue.line}"
    return None


def font_sample(font: Font) -> str:
    """The font's name, plus a word in the script it is there for (Hebrew, Arabic): a
    shopper typing "שרה" should see at a glance which font writes it."""
    if font.group == "fallback" or _missing(font, font.name):
        for sample in NATIVE_SAMPLES:
            if not _missing(font, sample):
                return f"{font.name} · {sample}"
    return font.name


def _missing(font: Font, text: str) -> tuple[str, ...]:
    seen: list[str] = []
    cmap = font.cmap
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) == "Cf":
            continue
        if ord(ch) not in cmap and ch not in seen:
            seen.append(ch)
    return tuple(seen)


def product_inputs(product: Product, values: Mapping[str, str]) -> list[TextInput]:
    inputs = []
    for n in range(1, product.max_lines + 1):
        label = _("Text") if product.max_lines == 1 else _("Line %(number)d", number=n)
        inputs.append(
            TextInput(
                name=f"line-{n}",
                label=label,
                value=values.get(f"line-{n}", ""),
                max_chars=product.max_chars_per_line,
                line=n,
                placeholder=PLACEHOLDERS[n - 1] if n <= len(PLACEHOLDERS) and n <= 2 else "",
            )
        )
    for spec in product.field_specs:
        inputs.append(
            TextInput(
                name=f"field-{spec.id}",
                label=catalog_text.field_label(product, spec.id),
                value=values.get(f"field-{spec.id}", ""),
                max_chars=spec.max_chars,
                field=spec.id,
            )
        )
    return inputs


def _text_value(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


def input_limit(max_chars: int) -> int:
    """Code points a box may hold before it is refused unlaid-out: generous next to the
    product's limit in letters (a letter can be several code points: é as e + accent, a
    family emoji), small enough that nothing measured or drawn from it costs much."""
    return max(4 * max_chars, 64) if max_chars else MAX_INPUT_CHARS


def _line_number(name: str) -> int | None:
    digits = name[5:] if name.startswith("line-") else ""
    return int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 6 else None


def form_problems(product: Product, form: Mapping[str, str], inputs: list[TextInput]) -> list[str]:
    """What in the form cannot be made as sent, each said with what and where. Checked on the
    raw values, before any layout: nothing is dropped, joined or shortened to make it fit."""
    problems: list[str] = []
    name = product.name.lower()
    for inp in inputs:
        limit = min(input_limit(inp.max_chars), MAX_INPUT_CHARS)
        if len(inp.value) > limit:
            problems.append(
                _(
                    "%(label)s is %(length)s characters long; the %(product)s takes at most %(max)d. "
                    "Shorten it to see a preview.",
                    label=inp.label,
                    length=format_decimal(len(inp.value)),
                    product=name,
                    max=inp.max_chars,
                )
            )
            continue
        breaks = [i for i, c in enumerate(inp.value) if c in "\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029"]
        if breaks:
            before = inp.value[: breaks[0]]
            shown = {"label": inp.label, "codepoint": codepoint(inp.value[breaks[0]])}
            problems.append(
                _(
                    "%(label)s contains a line break after %(text)s (%(codepoint)s). A box holds one line: "
                    "put each line of text in its own box.",
                    text=quote(before, 30),
                    **shown,
                )
                if before
                else _(
                    "%(label)s contains a line break at the start (%(codepoint)s). A box holds one line: "
                    "put each line of text in its own box.",
                    **shown,
                )
            )
    known = {inp.name for inp in inputs}
    for key in form:
        value = form.get(key)
        if key in known or not isinstance(value, str) or not value:
            continue
        number = _line_number(key)
        if number is not None and number > product.max_lines:
            problems.append(
                ngettext(
                    "The %(product)s takes at most %(num)d line; line %(number)d (%(text)s) was sent as well. "
                    "Nothing is left out silently: remove it, or choose a product with room for more lines.",
                    "The %(product)s takes at most %(num)d lines; line %(number)d (%(text)s) was sent as well. "
                    "Nothing is left out silently: remove it, or choose a product with room for more lines.",
                    product.max_lines,
                    product=name,
                    number=number,
                    text=quote(value, 30),
                )
            )
        elif key.startswith("field-"):
            problems.append(
                _(
                    "The %(product)s has no place called %(field)s for the text %(text)s. "
                    "Remove it; nothing is left out silently.",
                    product=name,
                    field=quote(key[6:], 30),
                    text=quote(value, 30),
                )
            )
        if len(problems) >= 8:  # enough to say what is wrong; never one line per form key
            break
    return problems


def state_from_form(product: Product, form: Mapping[str, str], *, editing: bool = True) -> State:
    """Everything the personalizer shows for a submitted (or linked) form."""
    values = {}
    for n in range(1, product.max_lines + 1):
        values[f"line-{n}"] = _text_value(form, f"line-{n}")
    for spec in product.field_specs:
        values[f"field-{spec.id}"] = _text_value(form, f"field-{spec.id}")
    inputs = product_inputs(product, values)
    problems = form_problems(product, form, inputs)

    # A suggestion button ("use this font") wins over the radio it was next to.
    font_id = form.get("use_font") or form.get("font") or product.default_font
    if font_id not in product.allowed_fonts:
        font_id = str(font_id)[:64]
    align = form.get("align") or "center"
    align = str(align)[:16]

    lines = [inp.value for inp in inputs if inp.line]
    # Empty lines at the end are boxes left unused; empty lines between two texts are a
    # deliberate gap and stay.
    while lines and not lines[-1]:
        lines.pop()
    fields = {inp.field: inp.value for inp in inputs if inp.field and inp.value}
    variant, view = choices(product, form)
    design = Design(
        product=product.id, font=font_id, lines=tuple(lines), fields=fields, align=align, variant=variant
    )

    # Nothing is laid out, measured or drawn for a form that cannot be made as sent.
    issues = [] if problems else list(validate(design))
    all_text = "" if problems else "".join(i.value for i in inputs)
    fonts = []
    for fid in product.allowed_fonts:
        font = catalog.font(fid)
        if font is None:
            continue
        fonts.append(
            FontChoice(
                id=font.id,
                name=font.name,
                group=font.group,
                sample=font_sample(font),
                selected=font.id == design.font,
                missing=_missing(font, all_text),
            )
        )
    return State(
        product=product,
        design=design,
        inputs=inputs,
        fonts=fonts,
        issues=issues,
        editing=editing,
        form_problems=problems,
        view=view,
    )


def state_from_design(design: Design, *, editing: bool = False) -> State | None:
    """The personalizer state for a design (e.g. one carried by a token)."""
    product = catalog.product(design.product)
    if product is None:
        return None
    form = {f"line-{n}": v for n, v in enumerate(design.lines, start=1)}
    form.update({f"field-{k}": v for k, v in design.fields})
    form["font"] = design.font
    form["align"] = design.align
    if design.variant:
        form["variant"] = design.variant
    try:
        return state_from_form(product, form, editing=editing)
    except ChoiceError:
        return None


# --- confirming ----------------------------------------------------------------------------


@dataclass
class Confirmation:
    """What the confirmation form asked and what the shopper answered."""

    problems: list[str]
    date_choices: dict[str, str]  # question name -> chosen reading order
    options: dict  # goes into the design token when there are no problems

    @property
    def ok(self) -> bool:
        return not self.problems


def disclosure_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def confirm(
    state: State,
    form: Mapping[str, str],
    *,
    disclosure_text: str,
    disclosure_version: str,
    preview_width: int,
    preview_fmt: str,
    channel: str,
) -> Confirmation:
    """Check the confirmation form against the design; build the token's options."""
    problems: list[str] = []
    if state.form_problems:
        problems += state.form_problems
    for issue in state.errors:
        problems.append(i18n.issue_message(issue, state.product))

    choices: dict[str, str] = {}
    dates = []
    questions = {q.name: q for q in state.date_questions()}
    for inp, mention in state.dates():
        name = f"date-{inp.slot}-{mention.start}"
        entry = {
            "where": where_label(inp),
            "line": inp.line,
            "field": inp.field,
            "typed": mention.text,
            "ambiguous": mention.ambiguous,
        }
        if name in questions:
            chosen = form.get(name, "")
            reading = mention.reading(chosen)
            if reading is None:
                problems.append(
                    _(
                        "Tell us which date “%(date)s” on %(where)s means.",
                        date=mention.text,
                        where=where_label(inp),
                    )
                )
                continue
            choices[name] = chosen
            entry.update(reading=reading.words, iso=reading.iso, order=reading.order)
        elif mention.readings:
            reading = mention.readings[0]
            entry.update(reading=reading.words, iso=reading.iso, order=reading.order)
        else:
            entry.update(reading=None)
        dates.append(entry)

    # The confirmation page sends back what it showed: the disclosure's hash and the large
    # preview's content key. If either changed while the page was open (the shop edited its
    # returns notice, the renderer was updated, a hidden field was altered), the shopper
    # did not see what the token would record: show it again rather than sign it. A form
    # without them (a shop's own server posting the design) is checked like any other.
    shown_disclosure = form.get("disclosure_sha256")
    if shown_disclosure is not None and shown_disclosure != disclosure_hash(disclosure_text):
        problems.append(
            _("The returns notice changed while this page was open. Read it again below, then tick the box.")
        )
    shown_key = form.get("preview_key")
    if shown_key is not None and shown_key != state.design.content_key(preview_width, preview_fmt):
        problems.append(
            _("The preview changed while this page was open. Look at it again below, then tick the box.")
        )

    if form.get("checked") not in ("yes", "on", "1", "true"):
        problems.append(
            _(
                "Tick the box to confirm you have checked the text letter by letter and read the returns notice."
            )
        )

    options = {
        "channel": channel,
        "preview": {"width": preview_width, "fmt": preview_fmt},
        "disclosure_version": disclosure_version,
        "disclosure_sha256": disclosure_hash(disclosure_text),
        "made_exactly_as_typed": True,
        "dates": dates,
        "warnings": [{"code": i.code, "message": i.message} for i in state.warnings],
        "text": state.design.text_summary(),
    }
    return Confirmation(problems=problems, date_choices=choices, options=options)
