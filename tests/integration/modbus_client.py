# modbus_client.py PORT write|read|poll [VALUES...]: an engineering tool's side of Modbus/TCP,
# through a forwarded local port: "write 11 22 33" writes holding registers 0.. (function 16),
# "read N" prints registers 0..N-1 (function 3) space-separated, "poll" reads register 0 in a
# loop, printing "ok N" per answer, until the connection ends (then "closed WALLTIME").
import sys
import time

from pymodbus.client import ModbusTcpClient

port, verb, args = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
c = ModbusTcpClient("127.0.0.1", port=port, timeout=5, retries=0)
if not c.connect():
    print("connect failed")
    sys.exit(2)
if verb == "write":
    r = c.write_registers(0, [int(v) for v in args], slave=1)
    sys.exit(0 if not r.isError() else 1)
if verb == "read":
    r = c.read_holding_registers(0, int(args[0]), slave=1)
    if r.isError():
        sys.exit(1)
    print(" ".join(str(v) for v in r.registers))
    sys.exit(0)
n = 0
while True:
    try:
        r = c.read_holding_registers(0, 1, slave=1)
        ok = not r.isError()
    except Exception:  # the connection ended: what the test waits for
        ok = False
    if not ok:
        print("closed %.3f" % time.time(), flush=True)
        sys.exit(0)
    n += 1
    print("ok %d" % n, flush=True)
    time.sleep(0.05)
