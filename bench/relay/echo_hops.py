#!/usr/bin/env python3
"""echo_hops.py PERF-DATA TYPIST-PID ROLE=PID[,PID...]...: from `perf sched` data taken while
echo_latency.py (TYPIST-PID) typed keys, the CPU each role's processes ran per key, split into
the key's way in and the echo's way back. The way back starts with the target's second stint
on the CPU in the key (the first reads the key, the pty's echo wakes it again); another process's
run between counts on the way in (a hop's work after it sent the key on). Prints one line
per role: "ROLE IN-MEDIAN OUT-MEDIAN TOTAL-MEAN" in microseconds, then "keys N"."""
import re, statistics, subprocess, sys

data, typist = sys.argv[1], int(sys.argv[2])
roles, order = {}, []
for arg in sys.argv[3:]:
    name, pids = arg.split("=", 1)
    order.append(name)
    for p in pids.split(","):
        if p:
            roles[int(p)] = name

out = subprocess.run(["perf", "sched", "timehist", "-i", data], capture_output=True, text=True,
                     check=True).stdout
# "   23722.223321 [0000]  ssh[31523]   0.000   0.006   0.070": the last figure is the run time in ms
line_re = re.compile(r"^\s*[0-9.]+\s+\[\d+\]\s+(\S+)\[(\d+)(?:/\d+)?\]\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+)\s*$")
keys, cur = [], None
for line in out.splitlines():
    m = line_re.match(line)
    if not m:
        continue
    comm, pid, run = m.group(1), int(m.group(2)), float(m.group(3)) * 1000
    if pid == typist:  # a key typed: the previous key's echo came back
        if cur is not None and cur["echoed"]:
            keys.append(cur)
        cur = {"echoed": False, "stints": 0, "prev": None, "in": {}, "out": {}}
        continue
    if cur is None:
        continue
    role = roles.get(pid)
    if role == "target" and cur["prev"] != "target":
        cur["stints"] += 1
        cur["echoed"] = cur["echoed"] or cur["stints"] == 2
    cur["prev"] = role
    if role is not None:
        half = cur["out" if cur["echoed"] else "in"]
        half[role] = half.get(role, 0.0) + run

if not keys:
    sys.exit("echo_hops: no complete key in %s" % data)
for role in order:
    ins = [k["in"].get(role, 0.0) for k in keys]
    outs = [k["out"].get(role, 0.0) for k in keys]
    total = statistics.mean(i + o for i, o in zip(ins, outs))
    print("%s %.0f %.0f %.0f" % (role, statistics.median(ins), statistics.median(outs), total))
print("keys %d" % len(keys))
