# hostile_tunnels.py: a vendor that pushes on forwarding: direct-tcpip opens to a destination
# its grant does not list, in a loop (--refused N of them), then granted tunnels opened and held
# until the gateway refuses one more (the channel cap), then one more Modbus read through a
# fresh tunnel once those are closed. Prints "refused N", "opened N", "answer REGISTERS".
import struct
import time

import paramiko

import hostile

p = hostile.parser("direct-tcpip opens in a loop, past the channel cap")
p.add_argument("--denied", required=True, help="HOST:PORT the grant does not list")
p.add_argument("--granted", required=True, help="HOST:PORT of a Modbus/TCP server it lists")
p.add_argument("--refused", type=int, default=200)
args = p.parse_args()
t = hostile.connect(args)


def open_tunnel(dest):
    host, port = dest.rsplit(":", 1)
    return t.open_channel("direct-tcpip", (host, int(port)), ("127.0.0.1", 40000),
                          timeout=args.timeout)


refused = 0
for _ in range(args.refused):
    try:
        open_tunnel(args.denied).close()
    except paramiko.ChannelException:
        refused += 1
hostile.say("refused", refused)

held = []
while len(held) < 1000:
    try:
        held.append(open_tunnel(args.granted))
    except paramiko.ChannelException:
        break
hostile.say("opened", len(held))
for ch in held:
    ch.close()

# Read Holding Registers 0..2 (function 3), transaction 7, unit 1: the answer's values.
ch = None
for _ in range(50):
    try:
        ch = open_tunnel(args.granted)
        break
    except paramiko.ChannelException:  # the closes above may not have landed yet
        time.sleep(0.1)
ch.sendall(struct.pack(">HHHBBHH", 7, 0, 6, 1, 3, 0, 3))
ch.settimeout(args.timeout)
reply = b""
while len(reply) < 9 + 6:
    chunk = ch.recv(64)
    if not chunk:
        break
    reply += chunk
hostile.say("answer", " ".join(str(v) for v in struct.unpack(">HHH", reply[9:15])))
t.close()
