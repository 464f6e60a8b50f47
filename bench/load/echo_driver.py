#!/usr/bin/env python3
"""echo_driver.py RATE SECONDS FIFO:OUTFILE...: the steady part of the load bench.

Writes RATE lines per second to each session's FIFO (its ssh stdin) for SECONDS, and watches
each session's output file for the echo of every line. Prints one line of figures:
sent, echoed, lost (not back within 10 s of the end), echo latency p50/p99/max in ms.
"""
import os
import sys
import time


def main():
    rate, seconds = float(sys.argv[1]), float(sys.argv[2])
    sessions = []
    for arg in sys.argv[3:]:
        fifo, out = arg.split(":", 1)
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        rd = open(out, "rb")
        rd.seek(0, os.SEEK_END)
        sessions.append({"fd": fd, "rd": rd, "buf": b"", "sent": {}, "tag": os.path.basename(out)})
    latencies, sent, failed_writes = [], 0, 0
    start = time.monotonic()
    period = 1.0 / rate
    seq = 0

    def collect():
        now = time.monotonic()
        for s in sessions:
            s["buf"] += s["rd"].read()
            *lines, s["buf"] = s["buf"].split(b"\n")
            for line in lines:
                t = s["sent"].pop(line, None)
                if t is not None:
                    latencies.append((now - t) * 1000)

    next_tick = start
    while time.monotonic() - start < seconds:
        for s in sessions:
            line = b"e-%s-%d" % (s["tag"].encode(), seq)
            try:
                os.write(s["fd"], line + b"\n")
                s["sent"][line] = time.monotonic()
                sent += 1
            except OSError:
                failed_writes += 1
        seq += 1
        next_tick += period
        while time.monotonic() < next_tick:
            collect()
            time.sleep(0.005)
    deadline = time.monotonic() + 10
    while any(s["sent"] for s in sessions) and time.monotonic() < deadline:
        collect()
        time.sleep(0.01)
    lost = sum(len(s["sent"]) for s in sessions) + failed_writes
    latencies.sort()

    def pct(p):
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))]

    print("sent=%d echoed=%d lost=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f" % (
        sent, len(latencies), lost, pct(50), pct(99), latencies[-1] if latencies else float("nan")))
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
