"""Benchmark: milliseconds to make every production file of one design, per area.

Two clocks: wall time (`time.perf_counter`, what a batch export waits for) and CPU time of
this process (`time.process_time`), which a shared, loaded machine inflates far less."""

from __future__ import annotations

import os
import statistics
import time

from proofmark_renderer.production import fidelity
from proofmark_renderer.production.files import build


def run(repeat: int = 9) -> dict:
    load_before = [round(x, 2) for x in os.getloadavg()]
    rows = []
    for name, design in fidelity.CASES:
        files, _ = build(design, order_ref="BENCH", proof_id="bench", revision=1)  # warm caches
        areas = len({f.area for f in files})
        wall, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            build(design, order_ref="BENCH", proof_id="bench", revision=1)
            wall.append((time.perf_counter() - t0) * 1000 / areas)
            cpu.append((time.process_time() - c0) * 1000 / areas)
        rows.append(
            {
                "case": name,
                "product": design.product,
                "files": [f.name for f in files],
                "bytes": sum(len(f.data) for f in files),
                "median_ms_per_area": round(statistics.median(wall), 1),
                "max_ms_per_area": round(max(wall), 1),
                "median_cpu_ms_per_area": round(statistics.median(cpu), 1),
            }
        )
    return {
        "loadavg_before": load_before,
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "target_ms": 100,
        "results": rows,
    }
