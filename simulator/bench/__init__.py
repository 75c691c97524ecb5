"""Benchmark: the real fetch and detect code on a large recorder database.

For each size (60k and 1M state changes of 200 entities over 30 days) it draws a
synthetic home (:mod:`simulator.large`), seeds a fresh SQLite recorder database with it
and times raw scan, fetch and detect inside a minimal Home Assistant in this process
(:mod:`simulator.bench.in_process`). Then, on the largest database, a real ``hass``
process with a loop-lag probe runs ``ai_automation.run_analysis`` and reports how late
the event loop ran a callback due every 10 ms while the job ran, and which GC pause or
stack caused each stall (:mod:`simulator.bench.loop_lag`). ``--repeat N`` instead runs
the job N times in one real ``hass`` on the smallest size and reports its memory
(:mod:`simulator.bench.repeat`). It prints figures and ratios; it asserts nothing (it
is not a test).
"""
