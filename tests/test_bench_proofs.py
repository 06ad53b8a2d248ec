"""`proofmark bench-proofs` runs end to end (no timing is asserted: it prints numbers)."""

from __future__ import annotations

from proofmark.proofs.bench import measure, table


def test_bench_proofs_approves_through_the_service_and_the_page_and_counts_bytes():
    result = measure(1, concurrency=(1, 2), proof_width=600, workers=0)
    for way in ("service", "page"):
        for level in ("1", "2"):
            phase = result["approve"][way][level]
            assert (phase["approvals"], phase["errors"]) == (1, 0), phase
            assert phase["cpu_ms_per_approval"] > 0 and phase["load_average"]
    after = result["bytes"]["after_approve"]
    assert after["proofs"] == 5
    # The outbox keeps messages without their images; whole, they would be many times larger.
    assert 0 < after["outbox_stored_bytes_per_proof"] * 3 < after["outbox_whole_message_bytes_per_proof"]
    assert result["send_due"]["sent"] == 9  # five proof emails, four confirmations
    lines = table(result)
    assert any(line.split()[:2] == ["page", "2"] for line in lines)
    # The confirmations were queued by the confirmation thread, each with its delay, and the
    # phase counted until the last one was queued.
    assert result["confirmations"] == "thread"
    for way in ("service", "page"):
        phase = result["approve"][way]["2"]
        assert phase["confirmation_queued_after_ms"]["max"] is not None
        assert phase["per_second_confirmed"] <= phase["per_second"]


def test_bench_proofs_with_confirmations_inline_queues_them_before_the_answer():
    result = measure(1, concurrency=(2,), proof_width=600, page=False, workers=0, confirm="inline")
    phase = result["approve"]["service"]["2"]
    assert (phase["approvals"], phase["errors"]) == (1, 0), phase
    assert phase["confirmation_queued_after_ms"] is None
    assert phase["per_second_confirmed"] == phase["per_second"]
    assert result["send_due"]["sent"] == 3  # two proof emails, one confirmation


def test_bench_proofs_runs_approvers_as_processes_and_counts_group_commits():
    result = measure(2, concurrency=(2,), proof_width=600, page=False, processes=True, workers=0)
    for way in ("service", "service-processes"):
        phase = result["approve"][way]["2"]
        assert (phase["approvals"], phase["errors"]) == (2, 0), phase
        # A decision and its confirmation: at most two commits per approval, at least one
        # commit for the phase.
        assert 0 < phase["group_commits_per_approval"] <= 2
    # Seven proof emails (one proof first, four counted, one uncounted per forked approver) and
    # six confirmations.
    assert result["send_due"]["sent"] == 13
    assert any(line.split()[:2] == ["service-processes", "2"] for line in table(result))


def test_bench_proofs_spreads_approvers_over_worker_processes_with_threads():
    """As the site serves: 4 approvers as 2 processes of 2 threads, next to 4 threads."""
    result = measure(2, concurrency=(4,), proof_width=600, page=False, workers=2)
    for way in ("service", "service-2procs"):
        phase = result["approve"][way]["4"]
        assert (phase["approvals"], phase["errors"]) == (2, 0), phase
        assert phase["cpu_ms_per_approval"] > 0
        assert 0 < phase["group_commits_per_approval"] <= 2
    assert result["approve"]["service-2procs"]["4"]["processes_x_threads"] == "2x2"
    # Nine proof emails (one first, four counted, four uncounted warm-up approvals, one per
    # approver thread) and eight confirmations: each decision's confirmation queued once.
    assert result["send_due"]["sent"] == 17
    assert any(line.split()[:2] == ["service-2procs", "4"] for line in table(result))
