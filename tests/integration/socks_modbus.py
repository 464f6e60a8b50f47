# socks_modbus.py SOCKS-PORT HOST PORT: through a SOCKS5 proxy (ssh -D) to HOST:PORT (sent as a
# name, as socks5h clients do), one Modbus/TCP Read Holding Registers 0..2. Prints the values,
# or "refused CODE" when the proxy refuses the destination.
import socket
import struct
import sys

proxy, host, port = int(sys.argv[1]), sys.argv[2].encode(), int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", proxy), timeout=10)
s.sendall(b"\x05\x01\x00")
if s.recv(2) != b"\x05\x00":
    sys.exit("no SOCKS5 without authentication")
s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host + struct.pack(">H", port))
reply = s.recv(10)
if len(reply) < 2 or reply[1] != 0:
    print("refused %d" % (reply[1] if len(reply) > 1 else -1))
    sys.exit(0)
s.sendall(struct.pack(">HHHBBHH", 7, 0, 6, 1, 3, 0, 3))
answer = b""
while len(answer) < 15:
    chunk = s.recv(64)
    if not chunk:
        break
    answer += chunk
print(" ".join(str(v) for v in struct.unpack(">HHH", answer[9:15])))
