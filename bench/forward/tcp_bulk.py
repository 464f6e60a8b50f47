# tcp_bulk.py serve PORT | down PORT MIB | up PORT MIB: the two ends of a bulk TCP transfer for
# bench/forward. The server, per connection, reads one byte: "D" sends MIB MiB of random bytes
# (given after it as 4 bytes) and closes; "U" reads until EOF and answers the byte count. The
# client prints MiB/s of the whole transfer.
import os
import socket
import struct
import sys
import threading
import time

CHUNK = 256 * 1024
BLOCK = os.urandom(CHUNK)


def serve(conn):
    with conn:
        kind = conn.recv(1)
        if kind == b"D":
            left = struct.unpack(">I", conn.recv(4, socket.MSG_WAITALL))[0] * 1048576
            while left > 0:
                n = conn.send(BLOCK[: min(left, CHUNK)])
                left -= n
        elif kind == b"U":
            total = 0
            while True:
                b = conn.recv(CHUNK)
                if not b:
                    break
                total += len(b)
            conn.sendall(struct.pack(">Q", total))


if sys.argv[1] == "serve":
    s = socket.create_server(("127.0.0.1", int(sys.argv[2])))
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

port, mib = int(sys.argv[2]), int(sys.argv[3])
c = socket.create_connection(("127.0.0.1", port))
t0 = time.monotonic()
if sys.argv[1] == "down":
    c.sendall(b"D" + struct.pack(">I", mib))
    got = 0
    while True:
        b = c.recv(CHUNK)
        if not b:
            break
        got += len(b)
else:
    c.sendall(b"U")
    left = mib * 1048576
    while left > 0:
        n = c.send(BLOCK[: min(left, CHUNK)])
        left -= n
    c.shutdown(socket.SHUT_WR)
    got = struct.unpack(">Q", c.recv(8, socket.MSG_WAITALL))[0]
t1 = time.monotonic()
if got != mib * 1048576:
    sys.exit("tcp_bulk: %d of %d bytes" % (got, mib * 1048576))
print("%.1f" % (mib / (t1 - t0)))
