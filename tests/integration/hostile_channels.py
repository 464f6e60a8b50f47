#!/usr/bin/python3
# hostile_channels.py: one connection opens as many SFTP channels as the gateway lets it
# (--channels), and on each asks for a large file (--file) with many pipelined READs it never
# reads the answers of: whatever the gateway buffers for a vendor that does not read.
# Prints "opened N", "refused N (REASON)", "told TEXT" (the first channel's stderr after a
# refusal), then "ready" and holds the connection for --hold s.
import struct
import time

import paramiko

import hostile

p = hostile.parser("many SFTP channels that never read")
p.add_argument("--channels", type=int, default=16)
p.add_argument("--file", required=True)
p.add_argument("--reads", type=int, default=400, help="READ requests per channel")
p.add_argument("--hold", type=float, default=30.0)
args = p.parse_args()


def packet(kind, body):
    return struct.pack(">IB", 1 + len(body), kind) + body


def sftp_string(s):
    return struct.pack(">I", len(s)) + s


def read_packet(ch):
    buf = b""
    while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
        chunk = ch.recv(65536)
        if not chunk:
            raise EOFError("channel closed")
        buf += chunk
    return buf[4], buf[5:]


t = hostile.connect(args)
opened, refused, reason = [], 0, ""
for i in range(args.channels):
    try:
        ch = t.open_session()
    except paramiko.ChannelException as e:
        refused += 1
        reason = "%s %s" % (e.code, e.text)
        continue
    ch.invoke_subsystem("sftp")
    ch.sendall(packet(1, struct.pack(">I", 3)))
    read_packet(ch)  # VERSION
    ch.sendall(packet(3, struct.pack(">I", 1) + sftp_string(args.file.encode()) + struct.pack(">II", 1, 0)))
    kind, body = read_packet(ch)
    if kind != 102:
        hostile.fail("open of", args.file, "answered with type", kind)
    handle = body[4:8 + struct.unpack(">I", body[4:8])[0]][4:]
    for n in range(args.reads):
        ch.sendall(packet(5, struct.pack(">I", 10 + n) + sftp_string(handle) + struct.pack(">QI", n * 32768, 32768)))
    opened.append(ch)
hostile.say("opened", len(opened))
hostile.say("refused", refused, "(%s)" % reason)
told = b""
deadline = time.monotonic() + (5.0 if refused and opened else 0.0)
while opened and time.monotonic() < deadline and b"\n" not in told:
    if opened[0].recv_stderr_ready():
        told += opened[0].recv_stderr(4096)
    time.sleep(0.05)
hostile.say("told", told.decode(errors="replace").strip())
hostile.say("ready")
time.sleep(args.hold)
t.close()
