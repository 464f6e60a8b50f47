#!/usr/bin/python3
# hostile_stalled_reader.py: a channel with the largest receive window SSH allows, on which the
# target floods output, from a client that then stops reading its TCP socket: after "ready PID"
# it stops itself (SIGSTOP, every thread at once) until the test sends SIGCONT. Whatever the
# gateway keeps for it meanwhile must stay bounded.
import os
import signal

import hostile

p = hostile.parser("a huge window and a socket nobody reads")
p.add_argument("--command", default="cat /dev/zero")
args = p.parse_args()

t = hostile.connect(args)
ch = hostile.exec_channel(t, args.command, window=2**31 - 1)
got = 0
while got < 1 << 20:  # the flood has begun
    got += len(ch.recv(65536))
hostile.say("ready", os.getpid())
os.kill(os.getpid(), signal.SIGSTOP)
while hostile.alive(t):
    hostile.wait_closed(t, 3600)
