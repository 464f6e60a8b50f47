# hostile_idle_flood.py: holds many TCP connections from one source address open without ever
# authenticating (nothing sent after the gateway's greeting), and reconnects each one the
# gateway drops, for --seconds. Prints "holding N" once that many were greeted (or, when the
# gateway holds it to fewer, once the number held has not grown for a second), then at the
# end "greeted N dropped N" (dropped: closed by the gateway, counted per connection made).
import select
import socket
import time

import hostile

p = hostile.parser("idle unauthenticated connections from one source")
p.add_argument("--source", required=True)
p.add_argument("--connections", type=int, default=100)
p.add_argument("--seconds", type=float, default=30.0)
args = p.parse_args()


def connect():
    try:
        s = socket.create_connection((args.host, args.port), timeout=2,
                                     source_address=(args.source, 0))
        s.setblocking(False)
        return s
    except OSError:
        return None


socks = {}  # socket -> greeted
greeted = dropped = 0
said = False
end = time.monotonic() + args.seconds
most, grown = 0, time.monotonic()  # the most held at once, and when that last grew
while time.monotonic() < end:
    while len(socks) < args.connections:
        s = connect()
        if s is None:
            dropped += 1
            break
        socks[s] = False
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            dropped += 1
            del socks[s]
            s.close()
        elif not socks[s]:
            socks[s] = True
            greeted += 1
    held = sum(1 for g in socks.values() if g)
    if held > most:
        most, grown = held, time.monotonic()
    if not said and (held >= args.connections or (most > 0 and time.monotonic() > grown + 1)):
        hostile.say("holding", held)
        said = True
hostile.say("greeted", greeted, "dropped", dropped)
