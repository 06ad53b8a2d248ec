"""The demo shop: catalog and personalizer pages (the shopper's audience)."""
from __future__ import annotations

from flask import Blueprint, render_template

from renderer import catalog

bp = Blueprint("shop", __name__)


@bp.get("/")
def index():
    return render_template("shop/index.html", products=catalog.current().products.values())
