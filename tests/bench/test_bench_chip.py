"""Benchmark: one chip read through the real pcscd + vpcd with our virtual CCCD (BAC + EF.COM + DG1 + DG13 +
EF.SOD + passive authentication, with and without the ~14 kB DG2 face). Prints the medians.

What it measures is our host-side cost (3DES SM, TLV, CMS/ECDSA verification, pcscd round trips over the vpcd
socket); a real contactless chip adds RF time (typically a few seconds for DG2 at 106-424 kbit/s).
"""
from __future__ import annotations

import statistics
import time

import pytest

from tests.chip_fixtures import *  # noqa: F401,F403
from tests.chip_fixtures import card_keys, profile

N = 7


@pytest.mark.bench
def test_chip_read_time(insert_card, chip_reader):
    p = profile()
    card = insert_card(p)
    keys = card_keys(p)
    results = {}
    for include_photo in (False, True):
        times = []
        for _ in range(N):
            t0 = time.perf_counter()
            ident = chip_reader.read(keys, include_photo=include_photo, timeout=10)
            times.append(time.perf_counter() - t0)
            assert ident.passive_auth.ok
        results[include_photo] = statistics.median(times)
    apdus = card.card.apdus
    print(f"\nchip read median over {N}: BAC+DG1+DG13+SOD {results[False] * 1000:.0f} ms, "
          f"with DG2 {results[True] * 1000:.0f} ms ({apdus} APDUs in total)")
    assert results[True] < 3.0
