#!/usr/bin/python3
# hostile_sftp_shell.py: starts an SFTP server by hand inside a shell channel (no pty), the way
# `exec /usr/lib/openssh/sftp-serve[r]` typed into a shell would, then speaks SFTP to it: INIT,
# and waits for the server's VERSION. Prints "version yes|no", "stderr TEXT", "closed yes|no".
import time

import hostile

args = hostile.parser("SFTP through a shell channel").parse_args()
t = hostile.connect(args)
ch = t.open_session()
ch.invoke_shell()
ch.sendall(b"exec /usr/lib/openssh/sftp-serve[r]\n")
time.sleep(1.0)  # the shell execs the server before the client speaks, as a person would wait
ch.sendall(b"\x00\x00\x00\x05\x01\x00\x00\x00\x03")
out, err = b"", b""
deadline = time.monotonic() + args.timeout
while time.monotonic() < deadline and not ch.closed:
    if ch.recv_ready():
        out += ch.recv(65536)
    if ch.recv_stderr_ready():
        err += ch.recv_stderr(65536)
    if len(out) >= 9 or ch.exit_status_ready():
        break
    time.sleep(0.05)
while ch.recv_stderr_ready():
    err += ch.recv_stderr(65536)
hostile.say("version", "yes" if len(out) >= 9 and out[4] == 2 else "no")
hostile.say("stderr", err.decode(errors="replace").strip().replace("\n", " | "))
hostile.say("closed", "yes" if ch.exit_status_ready() or ch.closed else "no")
t.close()
