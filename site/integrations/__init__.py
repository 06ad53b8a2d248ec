"""Connecting the shop: orders in from Shopify and WooCommerce webhooks (`inbound`), proofs
to prepare from order text and pasted Etsy orders (`requests`), signed Standard Webhooks
out (`outbound`), and the worker that drives both queues (`worker`). The web endpoints
that receive orders are the thin blueprint proofmark.webhooks."""

from __future__ import annotations
