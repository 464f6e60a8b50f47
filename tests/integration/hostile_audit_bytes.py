# hostile_audit_bytes.py: a signed public-key login whose user name is arbitrary bytes (given
# in hex), which a stock client cannot send. Prints "refused" or "accepted".
import paramiko

import hostile

p = hostile.parser("a login with a user name that is not UTF-8")
p.add_argument("--user-hex", required=True)
args = p.parse_args()
t = hostile.transport(args)
try:
    t.auth_publickey(bytes.fromhex(args.user_hex), hostile.load_key(args.key))
    hostile.say("accepted")
except paramiko.AuthenticationException:
    hostile.say("refused")
finally:
    t.close()
