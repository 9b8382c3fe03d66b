#!/usr/bin/env python3
# A duty-cycled CPU hog for load tests on a shared machine: spins DUTY (0..1) of every 100 ms,
# sleeps the rest, for SECONDS, then stops. Pin it with taskset and raise it with nice -20 to take
# a share of a core the way hypervisor steal does (docs/performance.md, MQTT ingest, session 17).
# Usage: python3 bench/cpu_hog.py DUTY SECONDS
import sys, time
if len(sys.argv) != 3:
    sys.exit("usage: cpu_hog.py DUTY SECONDS (DUTY 0..1, SECONDS 1..3600)")
duty, seconds = float(sys.argv[1]), float(sys.argv[2])
if not 0 <= duty <= 1 or not 1 <= seconds <= 3600:
    sys.exit("DUTY must be 0..1 and SECONDS 1..3600")
end = time.monotonic() + seconds
while time.monotonic() < end:
    t = time.monotonic()
    while time.monotonic() - t < 0.1 * duty:
        pass
    time.sleep(0.1 * (1 - duty))
