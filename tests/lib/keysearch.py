# keysearch.py CORE NAME=KEYFILE...: whether a process image (a gcore file) holds each key: its
# raw private bytes ("raw") and a 32-character piece of its file's base64 body ("text"). One line
# per key and form: "NAME raw found|absent", "NAME text found|absent". Keys: OpenSSH or PEM
# (PKCS#8) private keys, as ssh-keygen and gatewayd's seal (evidence/seal.c) write them.
import mmap
import sys

from cryptography.hazmat.primitives import serialization


def raw_private(data):
    """The key's raw private bytes: Ed25519's 32-byte seed, else the private scalar."""
    if b"OPENSSH PRIVATE KEY" in data:
        key = serialization.load_ssh_private_key(data, None)
    else:
        key = serialization.load_pem_private_key(data, None)
    try:
        return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                 serialization.NoEncryption())
    except (ValueError, TypeError):
        n = key.private_numbers()  # RSA, ECDSA: the secret number, big-endian
        v = getattr(n, "d", None) or n.private_value
        return v.to_bytes((v.bit_length() + 7) // 8, "big")


def text_piece(data):
    """32 characters from the middle of the middle line of the base64 body."""
    body = [l for l in data.decode().splitlines() if l and not l.startswith("-----")]
    line = body[len(body) // 2]
    mid = max(0, len(line) // 2 - 16)
    return line[mid:mid + 32].encode()


def main():
    with open(sys.argv[1], "rb") as f:
        core = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    for arg in sys.argv[2:]:
        name, path = arg.split("=", 1)
        with open(path, "rb") as k:
            data = k.read()
        raw, text = raw_private(data), text_piece(data)
        if len(raw) < 16 or len(text) < 24:
            sys.exit("keysearch: %s: needle too short" % path)
        print(name, "raw", "found" if core.find(raw) != -1 else "absent")
        print(name, "text", "found" if core.find(text) != -1 else "absent")


main()
