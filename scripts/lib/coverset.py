#!/usr/bin/python3
# coverset.py ROOT DIR TEST...: from DIR/TEST.lcov (lines reached) and DIR/TEST.time (CPU), the
# tests that together reach every line of our code all of them reach (scripts/coverage.sh); exits
# 1 when the tests tests/CMakeLists.txt keeps in the sanitizer run miss a line reached here.
import os
import sys

OURS = ("common/", "policy/", "evidence/", "gatewayd/", "front/", "tools/")


def lines_of(path, root):
    """The (file, line) pairs an lcov report counts as run, in our own sources only."""
    got, src = set(), None
    with open(path) as f:
        for rec in f:
            if rec.startswith("SF:"):
                rel = os.path.relpath(rec[3:].strip(), root)
                src = rel if rel.startswith(OURS) else None
            elif rec.startswith("DA:") and src is not None:
                line, count = rec[3:].split(",")[:2]
                if int(count) > 0:
                    got.add((src, int(line)))
    return got


def main():
    root, out, tests = sys.argv[1], sys.argv[2], sys.argv[3:]
    reach, cpu, failed = {}, {}, set()
    for t in tests:
        reach[t] = lines_of(os.path.join(out, t + ".lcov"), root)
        with open(os.path.join(out, t + ".time")) as f:
            cpu[t] = max(sum(float(x) for x in f.read().split()[-2:]), 0.01)
        with open(os.path.join(out, t + ".rc")) as f:
            if f.read().strip() != "0":
                failed.add(t)
    every = set().union(*reach.values())
    only = {t: reach[t] - set().union(*(reach[u] for u in tests if u != t)) for t in tests}
    # Those no other can replace (and those that failed here: what they reach is not known),
    # then the best gain per CPU second until every line is in.
    chosen = [t for t in tests if only[t] or t in failed]
    have = set().union(*(reach[t] for t in chosen)) if chosen else set()
    while have != every:
        best = max((t for t in tests if t not in chosen),
                   key=lambda t: len(reach[t] - have) / cpu[t])
        chosen.append(best)
        have |= reach[best]
    # A later pick can make an earlier one redundant: the dearest go first.
    for t in sorted(chosen, key=lambda t: -cpu[t]):
        rest = set().union(*(reach[u] for u in chosen if u != t))
        if reach[t] <= rest and t not in failed:
            chosen.remove(t)
    print(f"{'test':<48} {'lines':>6} {'only':>5} {'CPU s':>6}  sanitizer run")
    for t in sorted(tests, key=lambda t: -cpu[t]):
        print(f"{t:<48} {len(reach[t]):>6} {len(only[t]):>5} {cpu[t]:>6.1f}  "
              f"{'runs' if t in chosen else 'covered by the others'}"
              f"{' (failed in this build)' if t in failed else ''}")
    left = sorted(t for t in tests if t not in chosen)
    print(f"\n{len(every)} lines of our code reached by {len(tests)} integration tests; "
          f"{len(chosen)} tests reach all of them with {sum(cpu[t] for t in chosen):.0f} "
          f"of {sum(cpu.values()):.0f} CPU seconds (this build, no sanitizers).")
    print("Redundant in this run:")
    for t in left:
        print("  " + t)
    # What tests/CMakeLists.txt leaves out now: the tests that stay must reach every line.
    listed = covered_list(root)
    missing = every - set().union(*(reach[t] for t in tests if t not in listed))
    if missing:
        print(f"The sanitizer run, which leaves out GW_SANITIZE_COVERED (tests/CMakeLists.txt), "
              f"misses {len(missing)} lines this run reached:")
        for t in listed:
            if t in reach and reach[t] & missing:
                print(f"  {t} reaches {len(reach[t] & missing)} of them")
    return 1 if missing else 0


def covered_list(root):
    """The tests GW_SANITIZE_COVERED in tests/CMakeLists.txt names."""
    with open(os.path.join(root, "tests", "CMakeLists.txt")) as f:
        text = f.read()
    body = text.split("set(GW_SANITIZE_COVERED", 1)[1].split(")", 1)[0]
    return [w for w in body.split() if w.startswith("integration.")]


if __name__ == "__main__":
    sys.exit(main())
