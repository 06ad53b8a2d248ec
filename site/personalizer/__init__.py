"""The personalizer: the shopper types, sees the live preview, confirms, and gets a signed design token.

Modules: state (the form as a design, its issues), views (the routes), previews (preview images
at content-addressed URLs), fonts (the font picker), letters (letter-by-letter and date helpers).

`bp` is the personalizer's one blueprint (`views.bp`), which `create_app` registers twice: as
`shop_personalizer` under /p and as `embed` under /embed.
"""

from proofmark.personalizer.views import bp

__all__ = ["bp"]
