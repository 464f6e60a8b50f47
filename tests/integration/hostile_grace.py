# hostile_grace.py: a connection that never authenticates: the key exchange done (or, with
# --raw, not even the version line sent), then silence. Prints "ready" once connected and
# "closed_after SECONDS" (counted from the connect) when the gateway hung up, or
# "closed_after none" after --seconds.
import socket
import time

import hostile

p = hostile.parser("hold a connection without authenticating")
p.add_argument("--raw", action="store_true", help="a bare TCP connection: no SSH at all")
p.add_argument("--seconds", type=float, default=30.0, help="give up after this long")
args = p.parse_args()

start = time.monotonic()
if args.raw:
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
    hostile.say("ready")
    sock.settimeout(args.seconds)
    try:
        while sock.recv(4096):  # the gateway's version line, then its close
            pass
        hostile.say("closed_after", "%.2f" % (time.monotonic() - start))
    except socket.timeout:
        hostile.say("closed_after", "none")
else:
    t = hostile.transport(args)
    hostile.say("ready")
    waited = hostile.wait_closed(t, args.seconds)
    hostile.say("closed_after", "none" if waited is None else "%.2f" % (time.monotonic() - start))
