# hostile_recording.py: a vendor that tries to make its recording cost the gateway's disk more
# than the bytes it moves: one byte per SSH packet into `cat`, each packet a recorded event.
# Prints "sent N", then "exit S" (the command's exit status, -1 when the gateway cut the
# connection first) and "stderr TEXT" with what the gateway told it.
import hostile

args_parser = hostile.parser("one byte per packet into a command on the target")
args_parser.add_argument("--bytes", type=int, default=20000, help="packets of one byte to send")
args_parser.add_argument("--command", default="cat >/dev/null")
args = args_parser.parse_args()

t = hostile.connect(args)
ch = hostile.exec_channel(t, args.command)
sent = 0
try:
    for _ in range(args.bytes):
        ch.sendall(b"x")
        sent += 1
    ch.shutdown_write()
except (OSError, EOFError, hostile.paramiko.SSHException):
    pass
hostile.say("sent", sent)
status = -1
if ch.status_event.wait(args.timeout) and ch.exit_status_ready():
    status = ch.recv_exit_status()
err = b""
while ch.recv_stderr_ready():
    err += ch.recv_stderr(65536)
hostile.say("exit", status)
hostile.say("stderr", err.decode("utf-8", "replace").strip())
t.close()
