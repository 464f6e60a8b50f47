# hostile_cut.py: a vendor that tries to outlast a cut: channels whose output it never reads
# (their windows at 0), a shell fed `touch` commands without pause, exec channels opened in a
# loop. Every command names a marker file on the target; --log gets "SEQ WALLTIME" per command
# sent, so the test can tell which marker was sent after the cut. Prints "ready" once the
# windows are full and "closed_at WALLTIME" (or "closed_at none") when the gateway hung up.
import threading
import time

import hostile

p = hostile.parser("outlast a cut: unread channels, a busy shell, exec in a loop")
p.add_argument("--dir", required=True, help="directory on the target for the marker files")
p.add_argument("--log", required=True, help="local file: one 'SEQ WALLTIME' line per command")
p.add_argument("--fill", type=int, default=5, help="channels whose output is never read")
p.add_argument("--seconds", type=float, default=40.0, help="give up after this long")
args = p.parse_args()

t = hostile.connect(args)
closed = {}


def watch():
    # The instant the gateway hangs up, seen by paramiko's reader thread.
    while t.is_active():
        time.sleep(0.005)
    closed["at"] = time.time()


# Just over the 32 KiB window asked for (stdout and stderr share it), then silence: the window
# stays at 0 without a flood of output the gateway would have to hold.
fills = [hostile.exec_channel(t, "sleep 1; head -c 40000 /dev/zero; exec sleep 60", window=32768)
         for _ in range(args.fill)]
deadline = time.monotonic() + args.timeout
while any(len(ch.in_buffer) + len(ch.in_stderr_buffer) < 32768 for ch in fills):
    if time.monotonic() > deadline:
        hostile.fail("the unread channels never filled their windows")
    time.sleep(0.02)
shell = t.open_session()
shell.invoke_shell()
shell.settimeout(0.2)
threading.Thread(target=watch, daemon=True).start()
hostile.say("ready")

log = open(args.log, "w", buffering=1)
execs = []
seq = 0
end = time.monotonic() + args.seconds
while "at" not in closed and time.monotonic() < end:
    seq += 1
    try:
        # The time is taken before the bytes go: a marker is never dated later than it was sent.
        log.write("%d %.6f\n" % (seq, time.time()))
        if seq % 10 == 0:
            execs.append(hostile.exec_channel(t, "touch %s/e-%d" % (args.dir, seq)))
            if len(execs) > 2:  # at most three exec channels at a time
                execs.pop(0).close()
        else:
            shell.send(("touch %s/s-%d\n" % (args.dir, seq)).encode())
    except Exception:  # refused or gone: keep trying until the connection is gone
        time.sleep(0.01)
    time.sleep(0.01)
if "at" not in closed:
    time.sleep(0.1)
hostile.say("closed_at", "%.6f" % closed["at"] if "at" in closed else "none")
hostile.say("sent", seq)
