#!/usr/bin/python3
"""Small helpers for the server harness (standard library only).

  helper.py ports N
      print N distinct free TCP ports on 127.0.0.1 (all bound at once, then
      released, so they are distinct)
  helper.py prosody-accounts DATADIR HOST ITERATIONS USER:PASSWORD...
      write Prosody internal_hashed account files (SCRAM-SHA-1)
  helper.py prosody-prepare DATADIR HOST ITERATIONS NPORTS USER:PASSWORD...
      prosody-accounts, then ports NPORTS (one interpreter start)
"""
import hashlib
import hmac
import os
import socket
import sys
import uuid


def cmd_ports(n):
    socks = []
    try:
        for _ in range(int(n)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


def prosody_encode(s):
    # util.datamanager: s:gsub("%W", "%%%02x")
    return "".join(c if c.isascii() and c.isalnum() else
                   "".join("%%%02x" % b for b in c.encode()) for c in s)


def lua_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cmd_prosody_accounts(datadir, host, iterations, *accounts):
    iterations = int(iterations)
    d = os.path.join(datadir, prosody_encode(host), "accounts")
    os.makedirs(d, exist_ok=True)
    for acc in accounts:
        user, password = acc.split(":", 1)
        salt = str(uuid.uuid4())
        salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt.encode(),
                                     iterations)
        client_key = hmac.new(salted, b"Client Key", "sha1").digest()
        stored_key = hashlib.sha1(client_key).hexdigest()
        server_key = hmac.new(salted, b"Server Key", "sha1").hexdigest()
        body = ("return {\n"
                "\t[\"iteration_count\"] = %d;\n"
                "\t[\"salt\"] = %s;\n"
                "\t[\"stored_key\"] = %s;\n"
                "\t[\"server_key\"] = %s;\n"
                "};\n") % (iterations, lua_str(salt), lua_str(stored_key),
                           lua_str(server_key))
        with open(os.path.join(d, prosody_encode(user) + ".dat"), "w") as f:
            f.write(body)


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "ports":
        return cmd_ports(*args)
    if cmd == "prosody-accounts":
        return cmd_prosody_accounts(*args)
    if cmd == "prosody-prepare":
        cmd_prosody_accounts(args[0], args[1], args[2], *args[4:])
        return cmd_ports(args[3])
    sys.stderr.write("unknown command %s\n" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv) or 0)
