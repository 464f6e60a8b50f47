# hostile_auth_flood.py: many parallel connections from one source address, each offering a
# wrong key for one person over and over until the gateway refuses or closes it.
# Prints "attempts N refused N closed N dropped N" (dropped: closed before authentication).
import threading

import paramiko

import hostile

p = hostile.parser("parallel wrong-key logins from one source")
p.add_argument("--source", required=True)
p.add_argument("--connections", type=int, default=10)
p.add_argument("--tries", type=int, default=10, help="attempts per connection at most")
p.add_argument("--wrong-key", required=True, help="a private key the person does not have")
args = p.parse_args()
wrong = hostile.load_key(args.wrong_key)
counts = {"attempts": 0, "refused": 0, "closed": 0, "dropped": 0}
lock = threading.Lock()


def count(what):
    with lock:
        counts[what] += 1


def one():
    try:
        t = hostile.transport(args, args.source)
    except Exception:
        count("dropped")
        return
    try:
        for _ in range(args.tries):
            count("attempts")
            try:
                t.auth_publickey(args.user, wrong)
                hostile.fail("a wrong key was accepted")
            except paramiko.AuthenticationException:
                count("refused")
            except Exception:
                count("closed")
                return
            if not t.is_active():
                count("closed")
                return
    finally:
        t.close()


threads = [threading.Thread(target=one) for _ in range(args.connections)]
for th in threads:
    th.start()
for th in threads:
    th.join()
hostile.say("attempts", counts["attempts"], "refused", counts["refused"], "closed",
            counts["closed"], "dropped", counts["dropped"])
