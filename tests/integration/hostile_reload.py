# hostile_reload.py: a vendor that holds channels open across a reload that narrows its grant:
# an exec channel (cat) and an SFTP channel opened before, then, once --go exists, what the old
# grant allowed: is the exec channel still open, does SFTP still work, may a new exec channel
# run, and does a shell (still granted) work. With --paths, uploads through SFTP channels opened
# before and after a reload that narrowed transfer_paths. One "key value..." line per fact.
import io
import os
import time

import hostile

p = hostile.parser("hold exec and sftp channels across a narrowing reload")
p.add_argument("--go", required=True, help="file the test creates once it has reloaded")
p.add_argument("--paths", nargs=2, metavar=("WAS", "STAYS"),
               help="instead: upload into WAS and STAYS through SFTP channels opened before and "
                    "after a reload that leaves only STAYS")
args = p.parse_args()


def read_all(ch, seconds):
    """stdout, stderr and exit status (None: still open) of ch within seconds."""
    out, err = b"", b""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ch.recv_ready():
            out += ch.recv(65536)
        elif ch.recv_stderr_ready():
            err += ch.recv_stderr(65536)
        elif ch.exit_status_ready() or ch.closed:
            break
        else:
            time.sleep(0.02)
    status = ch.recv_exit_status() if ch.exit_status_ready() else None
    return out.decode(errors="replace"), err.decode(errors="replace"), status


def wait_go(deadline):
    while not os.path.exists(args.go):
        if time.monotonic() > deadline:
            hostile.fail("no --go file")
        time.sleep(0.05)


def put(sftp, path):
    """'works' or 'refused': a small upload to path."""
    try:
        sftp.putfo(io.BytesIO(b"firmware\n"), path, confirm=False)
        return "works"
    except IOError:
        return "refused"


t = hostile.connect(args)
if args.paths:
    was, stays = args.paths
    before = t.open_sftp_client()
    hostile.say("before_was", put(before, was + "/before.bin"))
    hostile.say("ready")
    wait_go(time.monotonic() + args.timeout)
    after = t.open_sftp_client()
    hostile.say("old_channel_was", put(before, was + "/old-channel.bin"))
    hostile.say("new_channel_was", put(after, was + "/new-channel.bin"))
    hostile.say("new_channel_stays", put(after, stays + "/new-channel.bin"))
    raise SystemExit(0)
held = hostile.exec_channel(t, "cat")
held.sendall(b"before\n")
deadline = time.monotonic() + args.timeout
got = b""
while b"before" not in got and time.monotonic() < deadline:
    got += held.recv(4096) if held.recv_ready() else b""
    time.sleep(0.02)
sftp = t.open_sftp_client()
sftp.listdir(".")
hostile.say("ready")

wait_go(deadline)

# The exec channel opened under the old grant: closed, and told why.
out, err, status = read_all(held, 10)
hostile.say("held_exec", "open" if status is None and not held.closed else "closed")
hostile.say("held_exec_told", err.strip().replace("\n", " ") or "-")
try:
    sftp.listdir(".")
    hostile.say("held_sftp", "works")
except Exception:
    hostile.say("held_sftp", "closed")
try:
    out, err, status = read_all(hostile.exec_channel(t, "echo new-exec-$((40+2))"), 10)
    hostile.say("new_exec", "ran" if "new-exec-42" in out else "refused")
    hostile.say("new_exec_told", err.strip().replace("\n", " ") or "-")
except Exception as e:
    hostile.say("new_exec", "refused")
    hostile.say("new_exec_told", str(e) or "-")
shell = t.open_session()
shell.invoke_shell()
shell.sendall(b"echo shell-$((40+2))\nexit\n")
out, err, status = read_all(shell, 10)
hostile.say("new_shell", "works" if "shell-42" in out else "refused")
