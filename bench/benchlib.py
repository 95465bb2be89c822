"""What every bench prints beside its figures, so that a reader can tell a
slow machine from a slow simrun: the core count, the load average, and a
calibration figure measured in the same run.

The calibration is the time a fixed piece of pure Python work takes
(median of five), because the parts of simrun whose speed varies most
between machines are Python programs (Mininet, the embedded os-ken
controller): on a machine twice as slow it takes about twice as long."""
import os
import statistics
import time

CALIBRATION_LOOPS = 2000000


def calibration_ms():
    """Median of five timings of CALIBRATION_LOOPS iterations of integer
    arithmetic in Python, in milliseconds (lower is faster)."""
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        acc = 0
        for i in range(CALIBRATION_LOOPS):
            acc = (acc + i * 7) % 1000003
        runs.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(runs)


def machine_line():
    load = os.getloadavg()
    return ('machine: %d cores, load average %.2f %.2f %.2f, calibration %.0f ms '
            '(%d Python loop iterations; lower is faster)'
            % (os.cpu_count(), load[0], load[1], load[2], calibration_ms(),
               CALIBRATION_LOOPS))


if __name__ == '__main__':
    print(machine_line())
