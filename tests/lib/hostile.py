# hostile.py: the scripted hostile vendor for the integration tests (python3-paramiko): what a
# stock client never does, done on purpose. Owns only the connections and channels it opens.
#
# A test script imports it and adds its attack:
#   import hostile
#   args = hostile.parser("what this attack does").parse_args()
#   t = hostile.connect(args)                  # authenticated as args.user (acme.alice+plc-07)
#   ch = hostile.exec_channel(t, "cat")        # a channel the attacker never reads, ...
#   hostile.say("opened", n)                   # one "key value..." line on stdout per fact
import argparse
import logging
import socket
import sys
import time

import paramiko

# paramiko logs a traceback for every connection the gateway closes before its greeting: a
# flood's expected drops would bury the test's own output.
logging.getLogger("paramiko").addHandler(logging.NullHandler())
logging.getLogger("paramiko").propagate = False


def parser(description):
    """The arguments every attack takes; h_hostile passes --port and --key."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--key", required=True, help="the vendor's private key (OpenSSH format)")
    p.add_argument("--user", default="acme.alice+plc-07")
    p.add_argument("--timeout", type=float, default=20.0)
    return p


def load_key(path):
    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key_file(path)
        except (paramiko.SSHException, ValueError):
            continue
    raise SystemExit("hostile: cannot load key " + path)


def transport(args, source=None):
    """A transport after the key exchange, not authenticated; source binds the local address."""
    sock = socket.create_connection((args.host, args.port), timeout=args.timeout,
                                    source_address=(source, 0) if source else None)
    t = paramiko.Transport(sock)
    t.banner_timeout = args.timeout
    t.auth_timeout = args.timeout
    t.start_client(timeout=args.timeout)
    return t


def connect(args, user=None, key=None, source=None):
    """An authenticated transport as user (default args.user) with key (default args.key)."""
    t = transport(args, source)
    t.auth_publickey(user or args.user, load_key(key or args.key))
    if not t.is_authenticated():
        raise SystemExit("hostile: authentication failed")
    return t


def exec_channel(t, command, window=None):
    """An exec channel; window shrinks the receive window the attacker advertises."""
    kw = {"window_size": window} if window else {}
    ch = t.open_session(**kw)
    ch.exec_command(command)
    return ch


def alive(t):
    """True while the gateway keeps the connection open."""
    return t.is_active() and t.sock is not None


def wait_closed(t, seconds):
    """Seconds until the gateway closed the connection, or None if it is still open."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if not t.is_active():
            return time.monotonic() - start
        time.sleep(0.02)
    return None


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


def fail(*words):
    print("hostile:", *words, file=sys.stderr, flush=True)
    sys.exit(1)
