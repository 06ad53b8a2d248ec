"""Benchmark: milliseconds to make every production file of one design, per area."""

from __future__ import annotations

import os
import statistics
import time

from proofmark_renderer.production import fidelity
from proofmark_renderer.production.files import build


def run(repeat: int = 9) -> dict:
    rows = []
    for name, design in fidelity.CASES:
        files, _ = build(design, order_ref="BENCH", proof_id="bench", revision=1)  # warm caches
        areas = len({f.area for f in files})
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            build(design, order_ref="BENCH", proof_id="bench", revision=1)
            times.append((time.perf_counter() - t0) * 1000 / areas)
        rows.append(
            {
                "case": name,
                "product": design.product,
                "files": [f.name for f in files],
                "bytes": sum(len(f.data) for f in files),
                "median_ms_per_area": round(statistics.median(times), 1),
                "max_ms_per_area": round(max(times), 1),
            }
        )
    return {"loadavg": [round(x, 2) for x in os.getloadavg()], "target_ms": 100, "results": rows}
