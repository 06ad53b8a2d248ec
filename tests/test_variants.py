"""Variants (a metal, a shirt colour, a photo product's own photos) and a product's several
views: each changes the picture, a variant goes with the design from the personalizer through
the order, the proof, the approval page, the evidence and the production files; one the
product does not have is a 400 naming it; product files name the file and field of a bad one."""

from __future__ import annotations

import io
import json
import re
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader

from proofmark import products, proofs
from proofmark.db import get_db
from proofmark_renderer import Design, catalog, photo_variants, productfiles, render
from proofmark_renderer.photo import ProductFileError
from tests.proofs_support import all_statements, link_for, new_proof
from tests.support import make_app


def pixels(result) -> np.ndarray:
    assert result.ok, result.issues
    return np.asarray(Image.open(io.BytesIO(result.image)).convert("RGB"), np.float32)


def mean_difference(a, b) -> float:
    return float(np.abs(pixels(a) - pixels(b)).mean())


def pendant(variant: str, **kw) -> Design:
    return Design("pendant-round", "dancing-script", ("Anna",), variant=variant, **kw)


# --- the renderer ---------------------------------------------------------------------------


def test_a_built_in_variant_changes_the_picture_and_the_first_is_the_default(app):
    with app.app_context():
        silver = render(pendant("sterling-silver"), 600, "png")
        gold = render(pendant("rose-gold"), 600, "png")
        plain = render(pendant(""), 600, "png")
        assert silver.image == plain.image  # the first variant is the product as it always was
        assert mean_difference(silver, gold) > 3
        # Rose gold is warmer than silver where the metal is: more red than blue.
        s, g = pixels(silver), pixels(gold)
        assert (g[..., 0] - g[..., 2]).mean() > (s[..., 0] - s[..., 2]).mean() + 3
        navy = render(Design("tshirt", "montserrat", ("Anna",), variant="navy"), 600, "png")
        white = render(Design("tshirt", "montserrat", ("Anna",), variant="white"), 600, "png")
        assert pixels(white).mean() > pixels(navy).mean() + 20
        assert silver.content_key != gold.content_key


def test_an_unknown_variant_is_refused_by_name_and_never_drawn_as_another(app):
    with app.app_context():
        result = render(pendant("platinum"), 600, "jpeg")
        assert [i.code for i in result.issues] == ["variant-unknown"]
        assert "platinum" in result.issues[0].message and "rose-gold" in result.issues[0].message


@pytest.fixture(scope="module")
def demo_folders(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("variants") / "src"
    photo_variants.write(root)
    return root


def test_a_photo_product_has_views_and_variants_with_their_own_photos(app, demo_folders):
    with app.app_context():
        base, version = products.import_folder(get_db(), demo_folders / "dog-tag", "test")
        product_id = f"{base}@{version}"
        tag = catalog.product(product_id)
        assert tag.view_names == ("angled", "close-up")
        assert [v.id for v in tag.variants] == ["steel", "black"]
        black = tag.variant_spec("black")
        assert [v.sha256 for v in black.views] != [v.sha256 for v in tag.views]
        design = Design(product_id, "montserrat", ("Max",), variant="steel")
        steel_front = render(design, 600, "png")
        steel_close = render(design, 600, "png", view=1)
        black_front = render(Design(product_id, "montserrat", ("Max",), variant="black"), 600, "png")
        assert mean_difference(steel_front, steel_close) > 5  # another photo, another framing
        assert mean_difference(steel_front, black_front) > 5
        assert steel_close.content_key != steel_front.content_key
        # The black tag is darker where the tag is, and the same elsewhere (the same shot).
        s, b = pixels(steel_front), pixels(black_front)
        changed = np.abs(s - b).sum(axis=2) > 30
        assert 0.05 < changed.mean() < 0.5
        # A view the product does not have is an error, not some other picture.
        missing = render(design, 600, "png", view=2)
        assert [i.code for i in missing.issues] == ["view-unknown"]
        # Export and check: the folder carries its views and variants (photos with SHA-256s).
        out = Path(app.instance_path).parent / "exported"
        out.mkdir()
        products.export(base, out)
        raw, again = productfiles.read(out / base)
        assert again.view_names == tag.view_names and [v.id for v in again.variants] == ["steel", "black"]
        assert len(raw["variants"][1]["sha256"]) == 2
        # The scene cache keeps variants and views apart.
        from proofmark_renderer.scene_cache import product_cache_key

        keys = {
            product_cache_key(tag.with_variant(v).with_view(i)) for v in ("steel", "black") for i in (0, 1)
        }
        assert len(keys) == 4


# --- product files ----------------------------------------------------------------------------


def test_bad_variants_and_views_in_a_product_file_name_the_file_and_field(app, tmp_path, demo_folders):
    import shutil

    folder = tmp_path / "tag"
    shutil.copytree(demo_folders / "dog-tag", folder)
    toml = (folder / "product.toml").read_text()
    Image.new("RGB", (300, 200), "grey").save(folder / "small.jpg")
    Image.new("L", (300, 200), 128).save(folder / "light-small.png")
    cases = [
        (toml.replace('"black-photo.jpg"', '"nothing.jpg"'), "variants[1].photos[0]", "missing"),
        (toml.replace('"black-photo.jpg"', '"small.jpg"'), "variants[1].photos[0]", "same shot"),
        (toml.replace('id = "black"', 'id = "steel"'), "variants[1].id", "earlier variant"),
        (toml.replace('name = "Black"', 'name = "Black"\ncolour = "purple"'), "variants[1].colour", "colour"),
        (
            toml.replace('name = "Black"', 'name = "Black"\nfinish = "glitter"'),
            "variants[1].finish",
            "glitter",
        ),
        (toml.replace('name = "Black"', 'name = "Black"\nsize = "XL"'), "variants[1].size", "unknown key"),
        (
            toml.replace('photos = ["black-photo.jpg", "black-closeup.jpg"]', 'photo = "nothing.jpg"'),
            "variants[1].photo",
            "missing",
        ),
        (
            toml.replace('light = "closeup-light.png"', 'light = "light-small.png"'),
            "view[1].light",
            "photo's size",
        ),
        (toml.replace('photo = "closeup.jpg"', 'photo = "gone.jpg"'), "view[1].photo", "missing"),
    ]
    with app.app_context():
        productfiles.read(folder)  # as written: fine
        for text, field, words in cases:
            (folder / "product.toml").write_text(text)
            with pytest.raises(ProductFileError) as caught:
                productfiles.read(folder)
            message = str(caught.value)
            assert str(folder / "product.toml") in message and f"{field}:" in message, message
            assert words in message, message
    (folder / "product.toml").write_text(cases[0][0])
    result = app.test_cli_runner().invoke(args=["products", "check", str(folder)])
    assert (
        result.exit_code == 1 and "variants[1].photos[0]" in result.output and "product.toml" in result.output
    )


def test_a_built_in_variant_with_a_photo_or_a_bad_colour_stops_the_catalog(tmp_path):
    from proofmark_renderer.catalog import Product

    raw = {
        "id": "x",
        "name": "X",
        "finish": "engraved-gold",
        "view": "pendant",
        "width_mm": 20,
        "height_mm": 20,
        "max_lines": 1,
        "max_chars_per_line": 10,
        "min_letter_height_mm": 2,
        "allowed_fonts": ["lato"],
        "default_font": "lato",
        "region": {"shape": "rect", "x_mm": 2, "y_mm": 2, "w_mm": 16, "h_mm": 6},
    }
    for variants, field in [
        ([{"id": "gold", "photo": "gold.jpg"}], "variants[0].photo"),
        ([{"id": "gold", "colour": [1.2, 0, 0]}], "variants[0].colour"),
        ([{"name": "Gold"}], "variants[0].id"),
    ]:
        with pytest.raises(ProductFileError) as caught:
            Product.from_toml(raw | {"variants": variants}, "shop/products.toml")
        assert f"shop/products.toml: product 'x': {field}:" in str(caught.value)
    ok = Product.from_toml(raw | {"variants": [{"id": "gold", "colour": "#ffcc7a"}]}, "products.toml")
    assert ok.variants[0].colour == (1.0, 0.8, 0.4784)


# --- the personalizer, the order, the proof, the evidence ------------------------------------


def test_the_personalizer_offers_variants_and_views_and_refuses_unknown_ones(client):
    page = client.get("/p/pendant-round").get_data(as_text=True)
    for vid, name in [
        ("sterling-silver", "Sterling silver"),
        ("yellow-gold", "Yellow gold"),
        ("rose-gold", "Rose gold"),
    ]:
        assert f'name="variant" value="{vid}"' in page and name in page
    assert re.search(r'name="variant" value="sterling-silver" data-pz-variant checked', page)
    # Choosing a variant (no JavaScript: the form posts to the page) changes the preview's design.
    chosen = client.post("/p/pendant-round", data={"line-1": "Anna", "variant": "rose-gold"}).get_data(
        as_text=True
    )
    assert re.search(r'name="variant" value="rose-gold" data-pz-variant checked', chosen)
    src = unescape(re.search(r'class="pz-img" src="([^"]+)"', chosen).group(1))
    image = client.get(src)
    assert image.status_code == 200 and image.mimetype == "image/jpeg"
    expected = Design("pendant-round", "dancing-script", ("Anna",), variant="rose-gold").content_key(
        1000, "jpeg"
    )
    assert expected in src or "rose-gold" in json.dumps(src)
    # Unknown choices: a 400 that names them, on the page, the htmx preview and the confirm step.
    for url in (
        "/p/pendant-round",
        "/p/pendant-round/preview",
        "/p/pendant-round/confirm",
        "/embed/pendant-round",
    ):
        response = client.get(url, query_string={"line-1": "Anna", "variant": "platinum"})
        assert response.status_code == 400, url
        text = response.get_data(as_text=True)
        assert "platinum" in text and "rose-gold" in text
    response = client.get("/p/pendant-round", query_string={"view": "3"})
    assert response.status_code == 400 and "no view" in response.get_data(as_text=True)
    # A product without variants offers none and refuses any.
    assert 'name="variant"' not in client.get("/p/mug").get_data(as_text=True)
    assert client.get("/p/mug", query_string={"variant": "blue"}).status_code == 400


def test_view_tabs_switch_the_preview_to_that_view(app, client, demo_folders):
    with app.app_context():
        product_id, _ = products.import_folder(get_db(), demo_folders / "dog-tag", "test")
    base = product_id.split("@")[0]
    page = client.get(f"/p/{base}").get_data(as_text=True)
    assert 'name="view" value="0"' in page and 'name="view" value="1"' in page
    assert "Angled" in page and "Close-up" in page
    front = unescape(re.search(r'class="pz-img" src="([^"]+)"', page).group(1))
    update = client.post(
        f"/p/{base}/preview",
        data={"line-1": "Max", "view": "1", "variant": "black"},
        headers={"HX-Request": "true"},
    ).get_data(as_text=True)
    close = unescape(re.search(r'class="pz-img" src="([^"]+)"', update).group(1))
    assert "v=1" in close and "v=1" not in front
    a, b = client.get(front), client.get(close)
    assert a.status_code == b.status_code == 200 and a.data != b.data
    # A tampered view in the address does not match its key.
    assert client.get(close.replace("v=1", "v=0")).status_code == 400


@pytest.fixture
def shop_app(tmp_path):
    return make_app(tmp_path / "instance", DEMO=True)


def test_a_variant_goes_from_confirm_to_order_proof_approval_evidence_and_production(shop_app, tmp_path):
    from tests.support import sign_in

    client = shop_app.test_client()
    form = {"line-1": "Anna", "font": "dancing-script", "variant": "rose-gold", "checked": "yes"}
    page = client.get("/p/pendant-round/confirm", query_string=form).get_data(as_text=True)
    assert "Rose gold" in page and 'name="variant" value="rose-gold"' in page
    confirmed = client.post("/p/pendant-round/confirm", data=form)
    assert confirmed.status_code == 200
    html = confirmed.get_data(as_text=True)
    assert "Rose gold" in html
    token = unescape(re.search(r'name="design_token" value="([^"]+)"', html).group(1))
    verified = client.post("/design/verify", data={"token": token}).get_json()
    assert verified["design"]["variant"] == "rose-gold" and verified["variant_name"] == "Rose gold"
    assert verified["design_name"] == "Round pendant · Rose gold"
    placed = client.post(
        "/orders",
        data={
            "design_token": token,
            "customer_name": "Ada Lovelace",
            "customer_email": "ada@example.com",
            "order_ref": "V-1",
        },
    )
    assert placed.status_code == 303
    with shop_app.app_context():
        db = get_db()
        proof_id = db.execute("SELECT id FROM proofs WHERE order_ref = 'V-1'").fetchone()[0]
        rev = proofs.get_revision(db, proof_id, 1)
        assert rev.design.variant == "rose-gold"
        # The proof image is the rose-gold pendant (not the silver one).
        stored = next(
            (Path(shop_app.instance_path) / shop_app.config["IMAGE_DIR"]).rglob(f"{rev.image_sha256}*")
        )
        proof_px = np.asarray(Image.open(stored).convert("RGB"), np.float32)
        silver = render(pendant("sterling-silver", align="center"), proof_px.shape[1], "png")
        rose = render(pendant("rose-gold"), proof_px.shape[1], "png")
        assert proof_px.shape == pixels(rose).shape
        assert np.abs(proof_px - pixels(rose)).mean() < np.abs(proof_px - pixels(silver)).mean()
        link = link_for(db, proof_id)
    approval = client.get(f"/approve/{link}").get_data(as_text=True)
    assert "Variant" in approval and "Rose gold" in approval
    with shop_app.app_context():
        db = get_db()
        proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(shop_app))
    staff = sign_in(shop_app)
    evidence = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    assert evidence["proof"]["variant"] == {"id": "rose-gold", "name": "Rose gold"}
    pdf = staff.get(f"/staff/proofs/{proof_id}/evidence.pdf")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Rose gold (rose-gold)" in text
    svg = staff.get(f"/staff/proofs/{proof_id}/production/face.svg")
    assert svg.status_code == 200
    assert "-rose-gold-face.svg" in svg.headers["Content-Disposition"]
    assert "Rose gold" in staff.get(f"/staff/proofs/{proof_id}").get_data(as_text=True)
    assert shop_app.test_cli_runner().invoke(args=["verify-records"]).exit_code == 0


def test_publishing_new_variant_photos_leaves_an_approved_proof_unchanged(app, staff, runner, demo_folders):
    import shutil

    with app.app_context():
        db = get_db()
        base, version = products.import_folder(db, demo_folders / "dog-tag", "test")
        product_id = f"{base}@{version}"
        proof_id = new_proof(db, design=Design(product_id, "montserrat", ("Rex",), variant="black"))
        rev = proofs.get_revision(db, proof_id, 1)
        proofs.approve(db, proof_id, revision=1, nonce=rev.nonce, statements_ticked=all_statements(app))
        images = Path(app.instance_path) / app.config["IMAGE_DIR"]
        before = [p.read_bytes() for p in images.rglob(f"{rev.image_sha256}*")]
    evidence_before = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    assert evidence_before["proof"]["variant"]["id"] == "black"
    # The approval page shows the proof (the first view) and, beside it, the close-up view.
    with app.app_context():
        link = link_for(get_db(), proof_id)
    page = staff.get(f"/approve/{link}").get_data(as_text=True)
    other = unescape(
        re.search(r'class="other-views".*?<img src="([^"]+)" alt="Close-up"', page, re.S).group(1)
    )
    # The close-up is the image stored when the proof was rendered (issue 10g), not a preview.
    assert other.endswith("/views/1.png") and staff.get(other).status_code == 200
    # Version 2: the black photos replaced by a lighter "graphite" look under the same id.
    folder = Path(app.instance_path).parent / "v2"
    shutil.copytree(demo_folders / "dog-tag", folder)
    for name in ("black-photo.jpg", "black-closeup.jpg"):
        im = Image.open(folder / name).convert("RGB")
        Image.eval(im, lambda v: min(255, v + 60)).save(folder / name, quality=90)
    with app.app_context():
        db = get_db()
        base, version = products.import_folder(db, folder, "test")
        new_id = f"{base}@{version}"
        assert version == 2 and catalog.product("dog-tag").id == new_id
        old, new = catalog.product(product_id), catalog.product(new_id)
        assert old.variant_spec("black").views[0].sha256 != new.variant_spec("black").views[0].sha256
        rev_after = proofs.get_revision(db, proof_id, 1)
        assert rev_after.image_sha256 == rev.image_sha256
        assert [p.read_bytes() for p in images.rglob(f"{rev.image_sha256}*")] == before
        # The old version still renders the old black tag.
        again = render(Design(product_id, "montserrat", ("Rex",), variant="black"), 600, "png")
        newer = render(Design(new_id, "montserrat", ("Rex",), variant="black"), 600, "png")
        assert mean_difference(again, newer) > 5
    evidence_after = staff.get(f"/staff/proofs/{proof_id}/evidence.json").get_json()
    for key in ("proof", "approval", "revisions"):
        assert evidence_after[key] == evidence_before[key]
    assert runner.invoke(args=["verify-records"]).exit_code == 0


# --- the staff editor: views, masks, light layers, variants -----------------------------------


def _picture(size=(400, 300), colour=(180, 180, 185), fmt="JPEG", mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, fmt)
    return out.getvalue()


def _file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def test_staff_add_views_masks_light_layers_and_variants_then_publish(app, staff):
    from tests.test_products import _editor_form, _new_product

    assert _new_product(staff, _picture()).status_code == 303
    edit = "/staff/products/tag"
    post = lambda url, **data: staff.post(url, data=data, content_type="multipart/form-data")  # noqa: E731
    # A second view from its own photo (a different size): areas start scaled from the first.
    added = post(
        f"{edit}/views", name="Close up", photo=_file(_picture((800, 600), (150, 150, 160)), "close.jpg")
    )
    assert added.status_code == 303 and "view=1" in added.headers["Location"]
    page = staff.get(f"{edit}?view=1").get_data(as_text=True)
    assert "2. close-up" in page and 'name="view" value="1"' in page
    # Moving view 2's corners changes only view 2.
    moved = staff.post(
        edit,
        data=_editor_form([(100, 120), (700, 130), (690, 480), (110, 470)], view="1"),
        headers={"HX-Request": "true"},
    )
    assert moved.status_code == 200
    with app.app_context():
        data = products.draft(get_db(), "tag")
    assert data["views"][1]["areas"]["lines"]["corners"][0] == [100.0, 120.0]
    assert data["views"][0]["areas"]["lines"]["corners"][0] != [100.0, 120.0]
    # A mask and a light layer for view 2: checked uploads, stored as greyscale PNG by hash.
    assert (
        post(f"{edit}/views/1/mask", mask=_file(_picture((800, 600), 0, "PNG", "L"), "m.png")).status_code
        == 303
    )
    assert (
        post(
            f"{edit}/views/1/light", light=_file(_picture((800, 600), (128, 128, 128), "PNG"), "l.png")
        ).status_code
        == 303
    )
    wrong = post(f"{edit}/views/1/light", light=_file(_picture((100, 100), 0, "PNG", "L"), "l.png"))
    assert wrong.status_code == 400 and "view[1].light" in wrong.get_data(as_text=True)
    hostile = post(f"{edit}/views/1/mask", mask=_file(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "m.svg"))
    assert hostile.status_code == 400 and "not a JPEG, PNG or WebP" in hostile.get_data(as_text=True)
    # Variants: add two, a photo for the second on view 1, rename one, remove one.
    for name in ("Steel", "Black", "Gold"):
        assert post(f"{edit}/variants", name=name).status_code == 303
    assert post(f"{edit}/variants", name="Black").status_code == 400  # already there
    dark = _picture((400, 300), (40, 40, 45))
    assert post(f"{edit}/variants/black/photo", view="0", photo=_file(dark, "b.jpg")).status_code == 303
    bad = post(
        f"{edit}/variants/black/photo", view="1", photo=_file(dark, "b.jpg")
    )  # 400x300 on an 800x600 view
    assert bad.status_code == 400 and "variants[1].photos[1]" in bad.get_data(as_text=True)
    assert post(f"{edit}/variants/gold/remove").status_code == 303
    renamed = staff.post(
        edit,
        data=_editor_form([(60, 60), (340, 80), (330, 240), (70, 220)], variant_name_0="Brushed steel"),
        headers={"HX-Request": "true"},
    )
    assert renamed.status_code == 200
    with app.app_context():
        data = products.draft(get_db(), "tag")
    assert [(v["id"], v["name"]) for v in data["variants"]] == [
        ("steel", "Brushed steel"),
        ("black", "Black"),
    ]
    assert data["views"][1]["mask"].endswith(".png") and data["views"][1]["light"].endswith(".png")
    # The editor previews the chosen view and variant.
    page = staff.get(f"{edit}?view=0&variant=black").get_data(as_text=True)
    src = unescape(re.search(r'<img src="([^"]+)" alt="Preview of', page).group(1))
    assert "variant=black" in src
    black_preview, steel_preview = staff.get(src), staff.get(src.replace("variant=black", "variant=steel"))
    assert black_preview.status_code == steel_preview.status_code == 200
    assert black_preview.data != steel_preview.data
    # Publish: the version folder holds every file under its name, with SHA-256s, and reads back.
    assert staff.post(f"{edit}/publish").status_code == 303
    with app.app_context():
        tag = catalog.product("tag")
        assert tag.id == "tag@1" and tag.view_names == ("main", "close-up")
        assert tag.views[1].mask_sha256 and tag.views[1].light_sha256
        assert tag.variant_spec("black").views[0].sha256 != tag.views[0].sha256
        folder = Path(app.instance_path) / "products" / "tag" / "1"
        toml = (folder / "product.toml").read_text()
        assert 'light = "light-2.png"' in toml and 'mask = "mask-2.png"' in toml
        assert 'photos = ["variant-black-1.jpg"]' in toml
        a = render(Design("tag@1", "lato", ("Rex",), variant="black"), 600, "png")
        b = render(Design("tag@1", "lato", ("Rex",), variant="steel"), 600, "png")
        c = render(Design("tag@1", "lato", ("Rex",), variant="steel"), 600, "png", view=1)
        assert mean_difference(a, b) > 5 and mean_difference(b, c) > 1


def test_staff_choose_the_variant_of_a_proof_they_make(app, staff):
    form = {
        "order_ref": "S-1",
        "customer_name": "Ada Lovelace",
        "customer_email": "ada@example.com",
        "product": "pendant-round",
        "font": "dancing-script",
        "lines": "Ada",
        "align": "center",
    }
    page = staff.get("/staff/proofs/new").get_data(as_text=True)
    assert '<option value="rose-gold"' in page and 'name="variant"' in page
    refused = staff.post("/staff/proofs/new", data=form | {"variant": "platinum"})
    assert refused.status_code == 400 and "does not come in &#39;platinum&#39;" in refused.get_data(
        as_text=True
    )
    made = staff.post("/staff/proofs/new", data=form | {"variant": "rose-gold"})
    assert made.status_code in (302, 303), made.get_data(as_text=True)[:300]
    plain = staff.post("/staff/proofs/new", data=form | {"order_ref": "S-2"})
    assert plain.status_code in (302, 303)
    with app.app_context():
        db = get_db()
        rows = {
            r["order_ref"]: json.loads(r["design"])
            for r in db.execute(
                "SELECT p.order_ref, r.design FROM proofs p JOIN revisions r ON r.proof_id = p.id"
            )
        }
    assert rows["S-1"]["variant"] == "rose-gold"
    assert rows["S-2"]["variant"] == "sterling-silver"  # not chosen: the product's first, recorded


def test_the_shop_never_names_a_material_the_chosen_variant_contradicts(client):
    """The pendant comes in silver and two golds: the shop names all three and does not call it
    "engraved silver"; the bar (one finish) keeps its finish label."""
    text = client.get("/?lang=en").get_data(as_text=True)
    assert "in sterling silver, yellow gold or rose gold" in text
    assert "engraved silver" not in text
    assert "engraved gold" in text
    assert "Sterling silver disc" not in client.get("/p/pendant-round?variant=rose-gold").get_data(
        as_text=True
    )
