#!/usr/bin/env python3
"""Check a Proofmark evidence file (evidence.json) without Proofmark.

    python verify_evidence.py evidence.json [--tsa-root tsa-root.pem] [--public-key KEY]

This file imports nothing from Proofmark: a third party (a card network, a court, the
customer) can run it on its own with Python 3.11+, `cryptography` and `rfc3161-client`
(pip install cryptography rfc3161-client). It checks, from the evidence file alone:

1. the approval event as recorded (the log entry) hashes to the leaf hash;
2. the inclusion proof leads from that leaf to the root of the signed tree head
   (the Merkle tree of RFC 6962 / RFC 9162);
3. the Ed25519 signature on the tree head, with the public key in the file (or the one
   given with --public-key, e.g. as the shop published it);
4. the RFC 3161 timestamp token: the TSA's signature and certificate chain (against the
   root given with --tsa-root, else the TSA root the shop put in the file), and that it
   timestamps exactly this signed tree head;
5. that the approval facts shown in the file (time, IP, text, image SHA-256, ...) are the
   ones in the log entry.

Then it says in plain words what that proves and what it does not. Exit status 0: every
check passed; 1: a check failed; 2: the file could not be read.

The Merkle functions below are also the ones Proofmark itself uses (proofmark.ledger
imports them), so the shop's log and this checker cannot drift apart.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys

# --- canonical form and the Merkle tree (RFC 9162, section 2.1) ------------------------------


def canonical_json(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


EMPTY_ROOT = hashlib.sha256(b"").digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_from_inclusion(index: int, size: int, leaf: bytes, path: list[bytes]) -> bytes | None:
    """RFC 9162 2.1.3.2: the root that `path` leads to from leaf `index` in a tree of
    `size` leaves, or None if the path does not fit that position."""
    if index >= size or index < 0:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: list[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does `path` show that the tree of `second` leaves extends the one
    of `first` leaves (nothing in the first was changed or removed)?"""
    if first > second or first < 0:
        return False
    if first == second:
        return not path and first_root == second_root
    if first == 0:
        return not path
    if not path:
        return False
    if first & (first - 1) == 0:
        path = [first_root, *path]
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# --- the evidence file -----------------------------------------------------------------------

# approval fact in evidence.json -> where the log entry holds it ("data." = inside the event's data)
APPROVAL_FIELDS = {
    "approved_at_utc": "at",
    "actor": "actor",
    "ip": "ip",
    "user_agent": "user_agent",
    "revision": "data.revision",
    "image_sha256": "data.image_sha256",
    "lines": "data.text.lines",
    "fields": "data.text.fields",
    "font": "data.font.id",
    "product": "data.product.id",
    "nonce": "data.nonce",
    "disclosure.version": "data.disclosure.version",
    "disclosure.sha256": "data.disclosure.sha256",
    "disclosure.text": "data.disclosure.text",
    "statements_ticked": "data.statements[].text",
}
# Facts in the approval section that are worked out for reading, not recorded in the entry.
DERIVED_FIELDS = ("text", "font_name", "image_verified", "disclosure.text_sha256_recomputed", "event_sha256")


def _dig(obj, dotted: str):
    for part in dotted.split("."):
        if part.endswith("[]"):
            items = obj.get(part[:-2]) if isinstance(obj, dict) else None
            return items if isinstance(items, list) else None
        obj = obj.get(part) if isinstance(obj, dict) else None
    return obj


def _entry_value(entry: dict, data: dict, where: str):
    if not where.startswith("data."):
        return entry.get(where)
    if where.endswith("[].text"):
        items = _dig(data, where[5:-5])
        if items is None:
            return None
        return [str(s.get("text") or s.get("id")) if isinstance(s, dict) else str(s) for s in items]
    return _dig(data, where[5:])


def _b64(value) -> bytes:
    if not isinstance(value, str):
        raise ValueError("expected base64 text")
    return base64.b64decode(value, validate=True)


def _hex(value) -> bytes:
    if not isinstance(value, str) or len(value) != 64:
        raise ValueError("expected a 64-digit hex SHA-256")
    return bytes.fromhex(value)


class Result:
    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []
        self.proven: list[str] = []
        self.not_proven: list[str] = []

    def check(self, ok: bool, good: str, bad: str) -> bool:
        (self.passed if ok else self.failed).append(good if ok else bad)
        return ok

    @property
    def ok(self) -> bool:
        return not self.failed and bool(self.passed)


def verify(evidence: dict, *, tsa_roots: list | None = None, public_key: bytes | None = None) -> Result:
    """Every check on a decoded evidence.json. `tsa_roots`: cryptography x509 certificates to
    trust for the timestamp; `public_key`: the shop's raw Ed25519 key, if known otherwise."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    res = Result()
    ledger = evidence.get("ledger") if isinstance(evidence, dict) else None
    approval = evidence.get("approval") if isinstance(evidence, dict) else None
    if not isinstance(ledger, dict) or not isinstance(ledger.get("entry"), dict):
        res.failed.append("The file has no log entry to check (no 'ledger' section): nothing can be proven.")
        return res
    try:
        entry = ledger["entry"]
        head = ledger["tree_head"]
        index = int(ledger["leaf_index"])
        if index != entry.get("index"):
            res.failed.append("The leaf position does not match the entry's own index.")
        entry_bytes = canonical_json(entry).encode()
        leaf = leaf_hash(entry_bytes)
        res.check(
            leaf == _hex(ledger["leaf_hash"]),
            "The log entry hashes to the stated leaf hash.",
            "The log entry does not hash to the stated leaf hash: the entry or the hash was changed.",
        )
        path = [_hex(p) for p in ledger["inclusion_proof"]]
        size = int(head["tree_size"])
        root = _hex(head["root_hash"])
        res.check(
            root_from_inclusion(index, size, leaf, path) == root,
            f"The inclusion proof leads from entry {index} to the root of the tree of {size} entries.",
            "The inclusion proof does not lead to the tree head's root: the entry, the proof or the "
            "tree head was changed.",
        )
        head_bytes = canonical_json(head).encode()
        key_bytes = public_key or _b64(ledger["public_key"])
        if public_key is not None and _b64(ledger["public_key"]) != public_key:
            res.failed.append("The public key in the file is not the one you gave with --public-key.")
        try:
            Ed25519PublicKey.from_public_bytes(key_bytes).verify(_b64(ledger["signature"]), head_bytes)
            res.passed.append("The tree head's Ed25519 signature is valid for the public key.")
            signed = True
        except (InvalidSignature, ValueError):
            res.failed.append(
                "The tree head's signature is not valid: the head, signature or key was changed."
            )
            signed = False
    except (KeyError, TypeError, ValueError) as exc:
        res.failed.append(f"The ledger section is incomplete or malformed ({exc}).")
        return res

    gen_time = None
    token = ledger.get("timestamp")
    if not isinstance(token, dict) or not token.get("response"):
        res.failed.append(
            "The tree head has no RFC 3161 timestamp yet: the time of the approval rests on the shop's "
            "word alone."
        )
    else:
        gen_time = _check_timestamp(res, token, head_bytes, tsa_roots)

    if isinstance(approval, dict):
        try:
            data = json.loads(entry.get("data") or "{}")
        except ValueError:
            data = {}
        if entry.get("kind") != "approved":
            res.failed.append(f"The log entry is a '{entry.get('kind')}' event, not an approval.")
        mismatched = []
        for fact, where in APPROVAL_FIELDS.items():
            shown = _dig(approval, fact)
            recorded = _entry_value(entry, data, where)
            if shown != recorded:
                mismatched.append(fact)
        res.check(
            not mismatched,
            "The approval facts in the file are the ones in the log entry.",
            "These approval facts in the file differ from the log entry: " + ", ".join(mismatched) + ".",
        )

    fingerprint = hashlib.sha256(key_bytes).hexdigest()[:16]
    if res.ok and gen_time:
        res.proven += [
            f"This approval (entry {index} of the shop's log: '{entry.get('kind')}' at {entry.get('at')} "
            f"from IP {entry.get('ip')}, for proof {entry.get('proof_id')}) existed no later than "
            f"{gen_time} UTC, the time the timestamping authority put on the signed tree head that "
            "contains it.",
            f"The holder of the Ed25519 key with fingerprint {fingerprint} signed a log of {size} entries "
            "that contains it; the shop cannot later remove or alter this entry without that signed head "
            "and its timestamp disagreeing.",
            "The image SHA-256 and the exact text shown above are the ones recorded in that entry.",
        ]
    res.not_proven += [
        "That the person who clicked 'approve' was the customer: the approval link was sent to the "
        "customer's email address, and whoever held it could use it.",
        "That the IP address, user agent and the time in the entry are true: the shop's server recorded "
        "them; only 'no later than' the timestamp is independent of the shop.",
        f"That the key (fingerprint {fingerprint}) is the shop's, unless you got it from the shop "
        "separately (--public-key).",
        "That the timestamping authority is trustworthy, unless you trust its root certificate "
        "(--tsa-root); without it, the TSA root certificate that the shop put in the file was used.",
        "That the item made matches the approved image: compare the item with the image whose SHA-256 "
        "is recorded.",
        "Facts outside the log entry (" + ", ".join(DERIVED_FIELDS) + ") are worked out for reading and are "
        "not covered by these checks.",
    ]
    if not signed:
        res.proven.clear()
    return res


def _check_timestamp(res: Result, token: dict, head_bytes: bytes, tsa_roots: list | None) -> str | None:
    try:
        return _check_token(res, token, head_bytes, tsa_roots)
    except Exception as exc:  # the parser raises its own error types, lazily, for any malformed byte
        res.failed.append(
            f"The RFC 3161 timestamp token cannot be read ({type(exc).__name__}): it was changed."
        )
        return None


def _check_token(res: Result, token: dict, head_bytes: bytes, tsa_roots: list | None) -> str | None:
    import cryptography.x509
    from rfc3161_client import PKIStatus, VerificationError, VerifierBuilder, decode_timestamp_response

    der = _b64(token["response"])
    problem = _unsigned_fields_problem(der)
    if problem:
        res.failed.append(f"The RFC 3161 timestamp token is not as its authority made it: {problem}.")
        return None
    response = decode_timestamp_response(der)
    if response.status not in (PKIStatus.GRANTED, PKIStatus.GRANTED_WITH_MODS):
        res.failed.append(f"The timestamping authority did not grant this token (status {response.status}).")
        return None
    imprint = response.tst_info.message_imprint.message
    if not res.check(
        imprint == hashlib.sha256(head_bytes).digest(),
        "The RFC 3161 timestamp is over exactly this signed tree head (SHA-256).",
        "The RFC 3161 timestamp is over something else than this tree head.",
    ):
        return None
    certs = []
    for der in response.signed_data.certificates:
        try:
            certs.append(cryptography.x509.load_der_x509_certificate(der))
        except ValueError:
            continue
    roots = list(tsa_roots or [])
    if not roots:
        for pem in token.get("tsa_root_certificates") or []:
            try:
                roots += cryptography.x509.load_pem_x509_certificates(str(pem).encode())
            except ValueError:
                continue
        roots += [c for c in certs if c.subject == c.issuer]
    if not roots:
        res.failed.append("No root certificate for the timestamping authority (give one with --tsa-root).")
        return None
    try:
        builder = VerifierBuilder()
        for root in roots:
            builder = builder.add_root_certificate(root)
        for cert in certs:
            if cert not in roots:
                builder = builder.add_intermediate_certificate(cert)
        builder.build().verify_message(response, head_bytes)
    except (VerificationError, ValueError) as exc:
        res.failed.append(f"The timestamping authority's signature does not verify: {exc}")
        return None
    gen_time = response.tst_info.gen_time
    moment = gen_time.strftime("%Y-%m-%d %H:%M:%S")
    res.passed.append(
        f"The timestamping authority's signature on the token is valid (time {moment} UTC, TSA "
        f"{token.get('tsa_url') or 'unnamed'})."
    )
    return moment


# --- the parts of a token that its signature does not cover (RFC 5652) -----------------------

_SHA256, _SHA384, _SHA512 = (
    bytes.fromhex("608648016503040201"),
    bytes.fromhex("608648016503040202"),
    bytes.fromhex("608648016503040203"),
)
_RSA = bytes.fromhex("2a864886f70d010101")
_RSA_PSS = bytes.fromhex("2a864886f70d01010a")
_ED25519 = bytes.fromhex("2b6570")
# digest algorithm -> the signature algorithms that go with it
_SIGNATURE_ALGORITHMS = {
    _SHA256: {
        bytes.fromhex("2a8648ce3d040302"),
        bytes.fromhex("2a864886f70d01010b"),
        _RSA,
        _RSA_PSS,
        _ED25519,
    },
    _SHA384: {bytes.fromhex("2a8648ce3d040303"), bytes.fromhex("2a864886f70d01010c"), _RSA, _RSA_PSS},
    _SHA512: {
        bytes.fromhex("2a8648ce3d040304"),
        bytes.fromhex("2a864886f70d01010d"),
        _RSA,
        _RSA_PSS,
        _ED25519,
    },
}


def _tlv(buf: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end) of the DER element at `pos`."""
    tag, length = buf[pos], buf[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(buf[pos : pos + count], "big")
        pos += count
    if pos + length > len(buf):
        raise ValueError("truncated")
    return tag, pos, pos + length


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    found, pos = [], start
    while pos < end:
        element = _tlv(buf, pos)
        found.append(element)
        pos = element[2]
    return found


def _oid_of(buf: bytes, seq: tuple[int, int, int]) -> bytes:
    tag, start, end = _children(buf, seq[1], seq[2])[0]
    return buf[start:end]


def _unsigned_fields_problem(der: bytes) -> str | None:
    """The signature of a timestamp token covers its TSTInfo and signed attributes, not the
    version numbers or the name of the signature algorithm around them: check those against
    what RFC 5652 and RFC 3161 allow, so that no byte of the token can change unnoticed."""
    try:
        resp = _children(der, *_tlv(der, 0)[1:])
        token = _children(der, resp[1][1], resp[1][2])
        signed_data = _children(der, *_tlv(der, token[1][1])[1:])
        version = der[signed_data[0][1] : signed_data[0][2]]
        if version != b"\x03":
            return "the SignedData version is not 3"
        signer_infos = signed_data[-1]
        if signer_infos[0] != 0x31:
            return "no signer information"
        for signer in _children(der, signer_infos[1], signer_infos[2]):
            fields = _children(der, signer[1], signer[2])
            expected = b"\x01" if fields[1][0] == 0x30 else b"\x03"
            if der[fields[0][1] : fields[0][2]] != expected:
                return "the SignerInfo version does not match how it names its certificate"
            digest = _oid_of(der, fields[2])
            signature_algorithm = next(f for f in fields[3:] if f[0] == 0x30)
            if _oid_of(der, signature_algorithm) not in _SIGNATURE_ALGORITHMS.get(digest, set()):
                return "the signature algorithm does not go with the digest algorithm"
    except (IndexError, ValueError, StopIteration):
        return "its structure cannot be read"
    return None


def report(res: Result) -> str:
    lines = ["Checks:"]
    lines += [f"  PASS  {line}" for line in res.passed]
    lines += [f"  FAIL  {line}" for line in res.failed]
    lines.append("")
    if res.ok:
        lines.append("Verdict: VALID. What this proves:")
        lines += [f"  - {line}" for line in res.proven]
    else:
        lines.append("Verdict: NOT VALID. Do not rely on this evidence file as it stands.")
    lines.append("What this does not prove:")
    lines += [f"  - {line}" for line in res.not_proven]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check a Proofmark evidence.json on its own.")
    parser.add_argument("evidence", help="the evidence.json file")
    parser.add_argument(
        "--tsa-root", action="append", default=[], help="PEM root certificate of the TSA to trust"
    )
    parser.add_argument(
        "--public-key", help="the shop's Ed25519 public key (base64), as published by the shop"
    )
    args = parser.parse_args(argv)
    try:
        with open(args.evidence, "rb") as fh:
            evidence = json.loads(fh.read().decode("utf-8"))
        roots = []
        if args.tsa_root:
            import cryptography.x509

            for path in args.tsa_root:
                with open(path, "rb") as fh:
                    roots += cryptography.x509.load_pem_x509_certificates(fh.read())
        key = _b64(args.public_key) if args.public_key else None
    except (OSError, ValueError) as exc:
        print(f"Cannot read the evidence: {exc}", file=sys.stderr)
        return 2
    result = verify(evidence, tsa_roots=roots, public_key=key)
    print(report(result))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
