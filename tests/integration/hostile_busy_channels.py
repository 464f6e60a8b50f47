# hostile_busy_channels.py: a vendor that runs several channels at once, as ssh ControlMaster, sftp
# beside a busy shell or any paramiko client does: one channel prints without end, read as fast
# as it comes, while --channels exec channels open one after another. Prints one line per
# channel: "channel N ok|refused_open|refused_request|failed TEXT", then "busy_throughout
# yes|no" (the output still flowed when the last one was done), "printed BYTES" and
# "summary opened N ok N refused_open N refused_request N failed N".
import threading
import time

import paramiko

import hostile

p = hostile.parser("open exec channels while another channel prints a lot")
p.add_argument("--channels", type=int, default=20, help="exec channels opened meanwhile")
args = p.parse_args()

t = hostile.connect(args)
printer = hostile.exec_channel(t, "yes")
printed = {"n": 0}


def drain():
    while True:
        data = printer.recv(65536)
        if not data:
            break
        printed["n"] += len(data)


reader = threading.Thread(target=drain, daemon=True)
reader.start()
# The loop starts once output flows: the gateway is then writing to this client.
deadline = time.monotonic() + args.timeout
while printed["n"] == 0 and time.monotonic() < deadline:
    time.sleep(0.01)
counts = {"ok": 0, "refused_open": 0, "refused_request": 0, "failed": 0}
n = 0
while n < args.channels:
    n += 1
    try:
        ch = t.open_session(timeout=args.timeout)
    except paramiko.ChannelException as e:
        # SSH_MSG_CHANNEL_OPEN_FAILURE: "Administratively prohibited" and its kin.
        counts["refused_open"] += 1
        hostile.say("channel", n, "refused_open", e.code, e.text)
        continue
    ch.settimeout(args.timeout)
    try:
        ch.exec_command("echo ok-%d" % n)
        out = ch.makefile("rb").read().decode(errors="replace")
        err = ch.makefile_stderr("rb").read().decode(errors="replace")
        status = ch.recv_exit_status()
    except (paramiko.SSHException, OSError) as e:
        counts["refused_request"] += 1
        hostile.say("channel", n, "refused_request", str(e))
        continue
    finally:
        ch.close()
    if status == 0 and out == "ok-%d\n" % n:
        counts["ok"] += 1
        hostile.say("channel", n, "ok")
    else:
        kind = "refused_request" if "gatewayd:" in err else "failed"
        counts[kind] += 1
        hostile.say("channel", n, kind, status, repr(out), repr(err.strip()))
hostile.say("busy_throughout", "yes" if reader.is_alive() else "no")
hostile.say("printed", printed["n"])
printer.close()
hostile.say("summary opened", n, *["%s %d" % kv for kv in counts.items()])
