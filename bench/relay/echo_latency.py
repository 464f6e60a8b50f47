#!/usr/bin/env python3
"""echo_latency.py COUNT CMD...: runs CMD (an ssh -tt to a remote `stty -icanon; cat >/dev/null`
with the pty echoing) in a local pty, types COUNT single keys ~20 ms apart and prints the
key-to-echo latencies in milliseconds, one per line."""
import os, pty, select, sys, time

count = int(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

def read_until(marker, timeout):
    buf, end = b"", time.monotonic() + timeout
    while marker not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            sys.exit("timed out waiting for %r, got %r" % (marker, buf[-200:]))
        try:
            buf += os.read(fd, 4096)
        except OSError:  # the session ended: what ssh said last is in buf
            sys.exit("session ended waiting for %r, got %r" % (marker, buf[-200:]))

read_until(b"READY", 30)
keys = b"abcdefghijklmnopqrstuvwxyz"
for i in range(count):
    k = keys[i % len(keys):i % len(keys) + 1]
    t0 = time.perf_counter()
    os.write(fd, k)
    read_until(k, 10)
    print("%.3f" % ((time.perf_counter() - t0) * 1000))
    time.sleep(0.02)
os.write(fd, b"\x03")
try:
    os.waitpid(pid, 0)
except ChildProcessError:
    pass
