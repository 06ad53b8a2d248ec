"""Production files for approved proofs: gated by approval, and every file handed out is an
event in the proof's record (who, when, which file, its SHA-256), so the record shows what
went to production and that it was the approved revision.

The files themselves are made by the renderer (proofmark_renderer.production.files) from the
approved revision's design, the same layout the customer approved.
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from proofmark import proofs
from proofmark.db import transaction
from proofmark.records import append_event, timestamp
from proofmark_renderer import catalog
from proofmark_renderer.layout import is_stamped
from proofmark_renderer.production.files import ProductionError, ProductionFile, build

EVENT_KIND = "production_file_sent"
AWAITING = "awaiting the customer's approval"


class NotApproved(Exception):
    """409: the proof has no approved revision (yet, or any more)."""

    def __init__(self, proof: proofs.Proof):
        super().__init__(
            f"Production files are {AWAITING}: proof {proof.public_id} is "
            f"{proof.status.replace('_', ' ')}, and files are made only from an approved revision."
        )
        self.proof = proof


class NoSuchFile(LookupError):
    pass


@dataclass(frozen=True)
class ProductionSet:
    proof: proofs.Proof
    revision: int
    files: list[ProductionFile]
    meta: dict

    def file(self, name: str) -> ProductionFile:
        for f in self.files:
            if f.name == name:
                return f
        raise NoSuchFile(f"There is no production file {name!r} for this proof.")


def approved_revision(db: sqlite_utils.Database, proof: proofs.Proof) -> proofs.Revision:
    """The revision the customer approved; NotApproved unless the proof stands approved and
    its last approval event names the current revision."""
    if proof.status != "approved" or proof.revision is None:
        raise NotApproved(proof)
    row = db.execute(
        "SELECT data FROM events WHERE proof_id = ? AND kind = 'approved' ORDER BY seq DESC LIMIT 1",
        (proof.id,),
    ).fetchone()
    approved = json.loads(row["data"]).get("revision") if row else None
    if approved != proof.revision.number:
        raise NotApproved(proof)
    return proof.revision


def file_names(product_id: str) -> list[str]:
    """The files a product gets, without making them (for listing on a page)."""
    product = catalog.product(product_id)
    if product is None:
        return []
    area = "band" if product.region.shape == "band" else "face"
    names = [f"{area}.svg", f"{area}.pdf", f"{area}.png"]
    if is_stamped(product):
        names += [f"{area}.ticket.txt", f"{area}.ticket.pdf"]
    return names


def webhook_links(db: sqlite_utils.Database, proof_id: int, revision: int | None, base_url: str) -> dict:
    """What a `proof.approved` webhook tells a production system: where each file of the
    approved revision can be fetched (the API, with the shop's key). Listing makes nothing."""
    row = (
        db.execute(
            "SELECT p.public_id, r.design FROM proofs p JOIN revisions r ON r.proof_id = p.id"
            " WHERE p.id = ? AND r.number = ?",
            (proof_id, revision),
        ).fetchone()
        if revision is not None
        else None
    )
    if row is None:
        return {}
    product_id = json.loads(row["design"]).get("product", "")
    api = f"{base_url.rstrip('/')}/api/proofs/{row['public_id']}/production"
    return {
        "production_files": {
            "list": api,
            "files": [{"name": name, "url": f"{api}/{name}"} for name in file_names(product_id)],
        }
    }


def production_set(db: sqlite_utils.Database, proof: proofs.Proof) -> ProductionSet:
    revision = approved_revision(db, proof)
    files, meta = build(
        revision.design,
        order_ref=proof.order_ref,
        proof_id=proof.public_id,
        revision=revision.number,
        approved_at=proof.decided_at,
        proof_image_sha256=revision.image_sha256,
    )
    return ProductionSet(proof, revision.number, files, meta)


def download_name(pset: ProductionSet, f: ProductionFile) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in pset.proof.order_ref)[:60]
    # The variant (metal, colour) is in the job's name: the workshop picks the blank by it.
    variant = pset.meta.get("variant") or ""
    return f"{safe or pset.proof.public_id}-r{pset.revision}{f'-{variant}' if variant else ''}-{f.name}"


def record_sent(
    db: sqlite_utils.Database,
    pset: ProductionSet,
    files: list[ProductionFile],
    *,
    actor: str,
    via: str,
    ip: str | None = None,
    user_agent: str | None = None,
) -> None:
    """One event per file handed out, in one transaction."""
    with transaction(db):
        for f in files:
            append_event(
                db,
                pset.proof.id,
                EVENT_KIND,
                actor=actor,
                ip=ip,
                user_agent=user_agent,
                data={
                    "revision": pset.revision,
                    "file": download_name(pset, f),
                    "kind": f.kind,
                    "area": f.area,
                    "sha256": f.sha256,
                    "bytes": len(f.data),
                    "via": via,
                },
            )


def export_since(
    db: sqlite_utils.Database, since: str, out_dir: Path, *, as_zip: bool = False, actor: str = "cli"
) -> tuple[Path, list[dict]]:
    """Write the files of every proof approved at or after `since` (UTC, ISO 8601) into a
    new folder (or zip) under out_dir; each file written is recorded."""
    rows = db.execute(
        "SELECT id FROM proofs WHERE status = 'approved' AND decided_at >= ? ORDER BY decided_at, id",
        (since,),
    ).fetchall()
    run = "production-" + timestamp().replace(":", "").replace(".", "-")
    target = out_dir / (run + ".zip" if as_zip else run)
    out_dir.mkdir(parents=True, exist_ok=True)
    done: list[dict] = []
    archive = zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) if as_zip else None
    try:
        for row in rows:
            proof = proofs.get_proof(db, row["id"])
            try:
                pset = production_set(db, proof)
            except (NotApproved, ProductionError) as exc:
                done.append({"proof": proof.public_id, "order_ref": proof.order_ref, "error": str(exc)})
                continue
            folder = download_name(pset, pset.files[0]).rsplit("-", 1)[0]
            for f in pset.files:
                name = f"{folder}/{download_name(pset, f)}"
                if archive is not None:
                    archive.writestr(name, f.data)
                else:
                    path = target / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(f.data)
            record_sent(db, pset, pset.files, actor=actor, via="export")
            done.append(
                {
                    "proof": proof.public_id,
                    "order_ref": proof.order_ref,
                    "revision": pset.revision,
                    "files": [{"name": download_name(pset, f), "sha256": f.sha256} for f in pset.files],
                }
            )
    finally:
        if archive is not None:
            archive.close()
    return target, done
