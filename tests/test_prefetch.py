"""The background reader never outlives, or deadlocks, the ingest that uses it."""

from __future__ import annotations

import threading
import time

import pytest

from triage.reader import prefetched


def run_with_deadline(fn, seconds=5.0):
    outcome = {}

    def target():
        try:
            outcome["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - reported to the test below
            outcome["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), "prefetched() hung"
    return outcome


def test_items_arrive_in_order():
    assert run_with_deadline(lambda: list(prefetched(iter(range(100)))))["value"] == list(
        range(100)
    )


def test_a_consumer_that_stops_early_does_not_hang():
    # Regression: the reader thread blocked forever putting its last item into a full
    # queue, and the consumer's cleanup waited for it (seen as a hung ingest after Ctrl-C).
    def stop_after_one():
        gen = prefetched(iter(range(1000)), depth=1)
        first = next(gen)
        gen.close()
        return first

    assert run_with_deadline(stop_after_one)["value"] == 0


def test_a_consumer_that_stops_when_the_source_is_done_does_not_hang():
    def stop_at_end():
        gen = prefetched(iter([1, 2]), depth=1)
        value = next(gen)
        time.sleep(0.3)  # the reader queues 2, then waits to hand over its end marker
        gen.close()
        return value

    assert run_with_deadline(stop_at_end)["value"] == 1


def test_a_reader_error_reaches_the_consumer_in_order():
    def source():
        yield 1
        raise OSError("disk went away")

    outcome = run_with_deadline(lambda: list(prefetched(source())))
    assert isinstance(outcome["error"], OSError)


@pytest.mark.parametrize("depth", [1, 2, 4])
def test_every_depth_delivers_everything(depth):
    assert run_with_deadline(lambda: sum(prefetched(iter(range(500)), depth)))["value"] == sum(
        range(500)
    )
