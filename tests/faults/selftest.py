#!/usr/bin/python3
"""Checks of faultproxy.py against small local fake servers (run by
selftest.sh; standard library only, 127.0.0.1 only).

  selftest.py --work DIR [--cert CERT --key KEY]
      run every check; TLS checks need CERT/KEY (skipped without them).
      Prints "ok: ..." / "FAIL: ..." per check and a closing
      "selftest.py: N passed, M failed" line; exit 0 if all passed, 1 if not.
  selftest.py --serve-echo PORTFILE
      run the plaintext echo server alone (writes port=PORT to PORTFILE)
      until killed; used by the shell part of selftest.sh.

Fake servers (one thread per connection, events recorded per connection):
  echo  echoes what it reads; on EOF it answers "EOF-SEEN\\n" and closes;
        a chunk "RST\\n" makes it reset the connection.
  xmpp  a stream header, <stream:features> with <starttls/>, <proceed/> on
        <starttls/>, then TLS as below.
  tls   TLS from byte 0; after the handshake, "SEND COUNT SIZE" makes it send
        COUNT messages of SIZE bytes, one TLS record each; anything else is
        echoed.  TLS 1.3 session tickets are off, so the server sends no
        records on its own.
"""
import argparse
import os
import re
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
FP = os.path.join(HERE, "faultproxy.py")
PY = "/usr/bin/python3"
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import faultproxy  # noqa: E402  (Control, read_port_file)

LO = "127.0.0.1"
HEADER = (b"<?xml version='1.0'?><stream:stream to='xmpp.test' version='1.0' "
          b"xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>")
S_HEADER = (b"<?xml version='1.0'?><stream:stream from='xmpp.test' id='s1' "
            b"version='1.0' xmlns='jabber:client' "
            b"xmlns:stream='http://etherx.jabber.org/streams'>")
FEATURES = (b"<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>"
            b"<required/></starttls></stream:features>")
STARTTLS = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"
PROCEED = b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"

PASSED = []
FAILED = []


def check(name, cond, detail=""):
    if cond:
        PASSED.append(name)
        print("ok: %s" % name, flush=True)
    else:
        FAILED.append(name)
        if len(detail) > 600:
            detail = detail[:600] + "..."
        print("FAIL: %s%s" % (name, (" (%s)" % detail) if detail else ""), flush=True)
    return cond


def wait_for(fn, timeout=2.0, step=0.01):
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= end:
            return v
        time.sleep(step)


def msg(k, size):
    return (b"%06d" % k + b"m" * size)[:size]


# ---------------------------------------------------------------- servers

class FakeServer:
    def __init__(self, mode, ctx=None):
        self.mode = mode
        self.ctx = ctx
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((LO, 0))
        self.ls.listen(64)
        self.port = self.ls.getsockname()[1]
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.ls.accept()
            except OSError:
                return
            rec = {"sock": c, "events": [], "data": bytearray(), "done": False}
            with self.lock:
                self.conns.append(rec)
            threading.Thread(target=self._handle, args=(rec,), daemon=True).start()

    def last(self):
        with self.lock:
            return self.conns[-1] if self.conns else None

    def count(self):
        with self.lock:
            return len(self.conns)

    def _handle(self, rec):
        c = rec["sock"]
        c.settimeout(15)
        ev = rec["events"].append
        try:
            if self.mode == "echo":
                self._echo(c, rec)
            else:
                if self.mode == "xmpp":
                    if not self._read_until(c, rec, rb"<stream:stream[^>]*>"):
                        return
                    c.sendall(S_HEADER + FEATURES)
                    if not self._read_until(c, rec, rb"<starttls[^>]*/>"):
                        return
                    c.sendall(PROCEED)
                    ev(("proceed",))
                self._tls(c, rec)
        except Exception as e:   # recorded, checked by the tests
            ev(("error", type(e).__name__))
        finally:
            rec["done"] = True
            try:
                c.close()
            except OSError:
                pass

    def _read_until(self, c, rec, pat):
        while not re.search(pat, rec["data"]):
            d = c.recv(65536)
            if not d:
                rec["events"].append(("eof",))
                return False
            rec["data"] += d
            rec["events"].append(("data", len(d)))
        return True

    def _echo(self, c, rec):
        while True:
            d = c.recv(65536)
            if not d:
                rec["events"].append(("eof",))
                try:
                    c.sendall(b"EOF-SEEN\n")
                except OSError:
                    pass
                return
            rec["data"] += d
            rec["events"].append(("data", len(d)))
            if d == b"RST\n":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                rec["events"].append(("rst-sent",))
                return
            c.sendall(d)

    def _tls(self, c, rec):
        ev = rec["events"].append
        s = self.ctx.wrap_socket(c, server_side=True, suppress_ragged_eofs=False)
        rec["sock"] = s
        ev(("tls",))
        while True:
            d = s.recv(65536)
            if not d:
                ev(("tls-eof",))
                return
            ev(("tls-data", bytes(d)))
            m = re.match(rb"SEND (\d+) (\d+)", d)
            if m:
                for k in range(int(m.group(1))):
                    s.sendall(msg(k, int(m.group(2))))
            else:
                s.sendall(d)

    def stop(self):
        try:
            self.ls.close()
        except OSError:
            pass


def server_ctx(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.num_tickets = 0
    return ctx


# ---------------------------------------------------------------- clients

def connect(port, timeout=3.0):
    return socket.create_connection((LO, port), timeout=timeout)


def read_all(s, timeout=2.0, want=None):
    """Read until EOF, error, timeout or `want` bytes; return (data, end)
    with end in eof|reset|timeout|want|error:NAME."""
    data = bytearray()
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return bytes(data), "timeout"
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except ConnectionResetError:
            return bytes(data), "reset"
        except socket.timeout:
            return bytes(data), "timeout"
        except OSError as e:
            return bytes(data), "error:%s" % type(e).__name__
        if not d:
            return bytes(data), "eof"
        data += d
        if want is not None and len(data) >= want:
            return bytes(data), "want"


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


class TLSClient:
    """STARTTLS (or direct TLS) client over a raw socket with ssl.SSLObject,
    so that every raw byte received after TLS starts is kept in .raw and the
    way the socket ended in .end."""

    def __init__(self, port, timeout=3.0):
        self.sock = connect(port, timeout)
        self.plain = bytearray()
        self.raw = bytearray()
        self.end = None
        self.obj = None

    def _recv(self):
        try:
            d = self.sock.recv(65536)
        except ConnectionResetError:
            self.end = "reset"
            raise
        except socket.timeout:
            self.end = "timeout"
            raise
        except OSError as e:
            self.end = "error:%s" % type(e).__name__
            raise
        if not d:
            self.end = "eof"
        return d

    def _plain_until(self, pat):
        while not re.search(pat, self.plain):
            d = self._recv()
            if not d:
                raise EOFError("eof in plaintext")
            self.plain += d

    def negotiate(self):
        self.sock.sendall(HEADER)
        self._plain_until(rb"</stream:features>")
        self.sock.sendall(STARTTLS)
        self._plain_until(rb"<proceed[^>]*/>")

    def handshake(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.inc, self.outg = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.outg, server_hostname="xmpp.test")
        self._run(self.obj.do_handshake)

    def _flush(self):
        d = self.outg.read()
        if d:
            self.sock.sendall(d)

    def _run(self, fn, *a):
        while True:
            try:
                r = fn(*a)
                self._flush()
                return r
            except ssl.SSLWantReadError:
                self._flush()
                d = self._recv()
                if d:
                    self.raw += d
                    self.inc.write(d)
                else:
                    self.inc.write_eof()

    def send(self, data):
        self._run(self.obj.write, data)

    def recv(self):
        return self._run(self.obj.read, 65536)

    def recv_until_error(self, timeout=3.0):
        """Read application data until an exception; return (data, exc)."""
        self.sock.settimeout(timeout)
        data = bytearray()
        while True:
            try:
                d = self.recv()
            except Exception as e:
                return bytes(data), e
            if not d:
                return bytes(data), None
            data += d

    def recv_exact(self, n, timeout=3.0):
        self.sock.settimeout(timeout)
        data = bytearray()
        while len(data) < n:
            d = self.recv()
            if not d:
                break
            data += d
        return bytes(data)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def tls_tail(raw):
    """Split raw TLS bytes into records; return (records, partial) where
    records is [(type, len)] and partial is None, ("hdr", n) or
    (type, len, body_bytes_received)."""
    i, recs = 0, []
    raw = bytes(raw)
    while i + 5 <= len(raw):
        t, _maj, _min, n = struct.unpack("!BBBH", raw[i:i + 5])
        if i + 5 + n > len(raw):
            return recs, (t, n, len(raw) - i - 5)
        recs.append((t, n))
        i += 5 + n
    if i < len(raw):
        return recs, ("hdr", len(raw) - i)
    return recs, None


def is_truncated_cut(partial):
    return (partial is not None and partial[0] != "hdr" and partial[1] >= 2
            and partial[2] == partial[1] // 2)


def tls_error(exc):
    """An error, not a clean close: a reset, an SSL error or an unexpected EOF."""
    return exc is not None and not isinstance(exc, ssl.SSLZeroReturnError) and \
        isinstance(exc, (OSError, EOFError))


# ---------------------------------------------------------------- proxy

class Proxy:
    n = 0

    def __init__(self, work, target_port, *extra, name=None):
        Proxy.n += 1
        self.name = name or "proxy%d" % Proxy.n
        self.pf = os.path.join(work, self.name + ".ports")
        self.logf = os.path.join(work, self.name + ".log")
        self.errf = open(os.path.join(work, self.name + ".err"), "wb")
        argv = [PY, "-B", FP, "--listen", "%s:0" % LO, "--target", "%s:%d" % (LO, target_port),
                "--control", "%s:0" % LO, "--port-file", self.pf, "--log", self.logf] + list(extra)
        self.p = subprocess.Popen(argv, stdout=self.errf, stderr=self.errf)
        ports = faultproxy.read_port_file(self.pf, 5.0)
        self.ports = ports
        self.port = ports["listen"]
        self.ctl = faultproxy.Control(LO, ports["control"], timeout=15.0)

    def cmd(self, line):
        return self.ctl.cmd(line)

    def stats(self):
        r = self.cmd("stats")
        return {k: int(v) for k, v in (w.split("=") for w in r.split()[1:])}

    def info(self, conn="last"):
        r = self.cmd("info %s" % conn)
        return dict(w.split("=", 1) for w in r.split()[1:] if "=" in w)

    def log_lines(self):
        try:
            with open(self.logf, encoding="utf-8") as f:
                return f.read().splitlines()
        except OSError:
            return []

    def rss_kb(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self, timeout=5.0):
        """SIGTERM; return the exit code (None if it had to be killed)."""
        self.ctl.close()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            return None
        finally:
            self.errf.close()


# ---------------------------------------------------------------- checks

def ping(s, data=b"ping\n"):
    s.sendall(data)
    got, _ = read_all(s, 2.0, want=len(data))
    return got == data


def plain_checks(work, echo):
    P = Proxy(work, echo.port, name="plain")
    try:
        with open(P.pf) as f:
            text = f.read()
        check("port file holds listen= and control=",
              re.fullmatch(r"listen=\d+\ncontrol=\d+\n", text) is not None, repr(text))

        # passthrough and half-close transparency
        s = connect(P.port)
        blob = os.urandom(200000)
        threading.Thread(target=s.sendall, args=(blob,), daemon=True).start()
        got, end = read_all(s, 5.0, want=len(blob))
        check("passthrough: 200000 random bytes echoed unchanged", got == blob, "%d bytes, %s" % (len(got), end))
        st = P.stats()
        check("stats: bytes_c2s and bytes_s2c count forwarded bytes",
              st["bytes_c2s"] == len(blob) and st["bytes_s2c"] == len(blob) and st["accepted"] == 1,
              "%r" % st)
        s.shutdown(socket.SHUT_WR)
        got, end = read_all(s, 2.0)
        check("passthrough: client half-close reaches the server, reply still flows",
              got == b"EOF-SEEN\n" and end == "eof", "%r %s" % (got, end))
        s.close()

        # reset
        s = connect(P.port)
        ok = ping(s)
        srv = echo.last()
        r = P.cmd("reset last")
        got, end = read_all(s, 2.0)
        check("reset: client reads ECONNRESET", ok and r.startswith("ok count=1") and end == "reset",
              "%s %s" % (r, end))
        check("reset: server reads ECONNRESET",
              wait_for(lambda: ("error", "ConnectionResetError") in srv["events"]), "%r" % srv["events"])
        s.close()

        # stall, unstall, stall then reset
        s = connect(P.port)
        ping(s)
        srv = echo.last()
        before = len(srv["data"])
        r = P.cmd("stall last")
        s.sendall(b"during-stall\n")
        got, end = read_all(s, 0.8)
        lst = P.cmd("list")
        check("stall: no bytes either way for 0.8 s, sockets stay open",
              r.startswith("ok count=1") and got == b"" and end == "timeout"
              and len(srv["data"]) == before and not srv["done"] and ":stalled" in lst,
              "%s got=%r end=%s srv=%d/%d %s" % (r, got, end, len(srv["data"]), before, lst))
        r = P.cmd("unstall last")
        got, end = read_all(s, 2.0, want=13)
        check("unstall: queued bytes are delivered", got == b"during-stall\n", "%r %s" % (got, end))
        P.cmd("stall last")
        time.sleep(0.2)
        P.cmd("reset last")
        got, end = read_all(s, 2.0)
        check("stall ends with reset: client reads ECONNRESET", end == "reset", end)
        s.close()

        # halfclose client
        s = connect(P.port)
        ping(s)
        srv = echo.last()
        r = P.cmd("halfclose last client")
        got, end = read_all(s, 2.0)
        eof_ok = r.startswith("ok count=1") and got == b"" and end == "eof"
        s.sendall(b"after-halfclose\n")
        reached = wait_for(lambda: srv["data"].endswith(b"after-halfclose\n"))
        check("halfclose client: client reads EOF, its data still reaches the server",
              eof_ok and reached and ("eof",) not in srv["events"],
              "%s %r %s reached=%s %r" % (r, got, end, reached, srv["events"]))
        check("halfclose client: later server data is dropped",
              wait_for(lambda: P.stats()["dropped_s2c"] >= 16), "%r" % P.stats())
        s.close()

        # halfclose server
        s = connect(P.port)
        ping(s)
        srv = echo.last()
        r = P.cmd("halfclose last server")
        got, end = read_all(s, 2.0)
        check("halfclose server: server reads EOF, its reply still reaches the client",
              r.startswith("ok") and ("eof",) in srv["events"] and got == b"EOF-SEEN\n",
              "%s %r %s %r" % (r, got, end, srv["events"]))
        s.close()

        # cut-mid-stanza (plaintext)
        s = connect(P.port)
        ping(s)
        r = P.cmd("cut-mid-stanza last server")
        payload = b"<message>" + b"x" * 1980 + b"</message>"
        s.sendall(payload)
        got, end = read_all(s, 2.0)
        check("cut-mid-stanza: client gets a strict prefix of the chunk, then ECONNRESET",
              r.startswith("ok count=1") and 0 < len(got) < len(payload) and payload.startswith(got)
              and end == "reset", "%s got=%d %s" % (r, len(got), end))
        s.close()

        # peer errors do not hurt the proxy
        s = connect(P.port)
        ping(s)
        srv = echo.last()
        rst_close(s)
        srv_reset = wait_for(lambda: ("error", "ConnectionResetError") in srv["events"])
        s = connect(P.port)
        ping(s)
        s.sendall(b"RST\n")
        got, end = read_all(s, 2.0)
        s.close()
        s = connect(P.port)
        alive = ping(s)
        s.close()
        st = P.stats()
        check("peer resets propagate as resets and the proxy keeps serving",
              srv_reset and end == "reset" and alive and st["peer_errors"] >= 2,
              "srv_reset=%s end=%s alive=%s peer_errors=%d" % (srv_reset, end, alive, st["peer_errors"]))

        # refuse
        n_srv = echo.count()
        P.cmd("refuse on")
        s = connect(P.port)
        t0 = time.monotonic()
        got, end = read_all(s, 2.0)
        quick = time.monotonic() - t0 < 1.0
        s.close()
        P.cmd("refuse off")
        s = connect(P.port)
        alive = ping(s)
        s.close()
        check("refuse: new connection closed at once, never reaches the server; off restores",
              end == "eof" and got == b"" and quick and echo.count() == n_srv + 1 and alive
              and P.stats()["refused"] == 1, "%s %r srv %d->%d alive=%s" % (end, got, n_srv, echo.count(), alive))

        # bounded buffers
        s = connect(P.port)
        ping(s)
        P.cmd("stall last")
        rss0 = P.rss_kb()
        s.setblocking(False)
        sent, chunk = 0, b"z" * 65536
        t_end = time.monotonic() + 1.5
        last = time.monotonic()
        while time.monotonic() < t_end:
            try:
                sent += s.send(chunk)
                last = time.monotonic()
            except BlockingIOError:
                if time.monotonic() - last > 0.3:
                    break
                select.select([], [s], [], 0.05)
        rss1 = P.rss_kb()
        check("back-pressure: a stalled connection stops the sender, proxy memory bounded",
              sent < 48 * 2 ** 20 and rss1 - rss0 < 16 * 1024,
              "sent=%d rss %d->%d kB" % (sent, rss0, rss1))
        P.cmd("reset last")
        s.close()

        # control errors and wait
        bad = [P.cmd(c) for c in ("bogus", "reset 999", "cut-after-records last x",
                                  "at-step next nosuch", "halfclose last sideways", "random 0")]
        check("control: bad commands answer err", all(b.startswith("err ") for b in bad), "%r" % bad)
        acc = P.stats()["accepted"]
        r1 = P.cmd("wait accepted %d 0.2" % (acc + 1))
        s = connect(P.port)
        r2 = P.cmd("wait accepted %d 2" % (acc + 1))
        s.close()
        check("control: wait times out, then returns once the counter is reached",
              r1.startswith("err timeout") and r2 == "ok accepted=%d" % (acc + 1), "%s / %s" % (r1, r2))
        out = subprocess.run([PY, "-B", FP, "--cmd", P.pf, "stats"], capture_output=True, timeout=10)
        out2 = subprocess.run([PY, "-B", FP, "--cmd", "%s:%d" % (LO, P.ports["control"]), "bogus"],
                              capture_output=True, timeout=10)
        out3 = subprocess.run([PY, "-B", FP, "--cmd", P.pf, "-"], input=b"ping\nlist\n",
                              capture_output=True, timeout=10)
        check("--cmd: port file or HOST:PORT, exit 0 on ok, 1 on err, - reads stdin",
              out.returncode == 0 and out.stdout.startswith(b"ok accepted=")
              and out2.returncode == 1 and out2.stdout.startswith(b"err")
              and out3.returncode == 0 and out3.stdout.startswith(b"ok pong\nok count="),
              "%r %r %r" % (out, out2, out3))

        # every fault is logged with a timestamp and the connection number
        faults = [l for l in P.log_lines() if " fault=" in l]
        stamped = all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z t=[\d.]+ conn=\d+ fault=\S+ by=\S+", l)
                      for l in faults)
        kinds = {re.search(r"fault=(\S+)", l).group(1) for l in faults}
        check("log: every fault line has timestamp, conn= and kind",
              stamped and {"reset", "stall", "halfclose", "cut-mid-stanza"} <= kinds, "%r" % kinds)

        # SIGTERM with a stalled connection open
        s = connect(P.port)
        ping(s)
        P.cmd("stall last")
        t0 = time.monotonic()
        rc = P.stop()
        got, end = read_all(s, 2.0)
        s.close()
        check("SIGTERM: exits 0 promptly, open connections closed",
              rc == 0 and time.monotonic() - t0 < 3 and end in ("eof", "reset"), "rc=%r end=%s" % (rc, end))
    finally:
        P.stop()


def stats_checks(work, echo):
    P = Proxy(work, echo.port, name="stats")
    try:
        s = connect(P.port)
        ping(s, b"0123456789")
        P.cmd("reset last")
        read_all(s, 1.0)
        s.close()
        P.cmd("refuse on")
        s = connect(P.port)
        read_all(s, 1.0)
        s.close()
        P.cmd("refuse off")
        s = connect(P.port)
        P.cmd("wait accepted 2 2")
        P.cmd("stall last")
        s.sendall(b"abcdefghij")
        time.sleep(0.1)
        P.cmd("unstall last")
        read_all(s, 2.0, want=10)
        P.cmd("halfclose last client")
        read_all(s, 2.0)
        s.close()
        P.cmd("wait closed 2 3")
        st = P.stats()
        want = dict(accepted=2, refused=1, upstream_failed=0, open=0, closed=2, bytes_c2s=20,
                    bytes_s2c=20, dropped_c2s=0, dropped_s2c=9, faults=3, reset=1, stall=1,
                    halfclose=1, cut_tls=0, cut_mid_stanza=0, cut_after_records=0, at_step=0,
                    unstall=1, random_events=0, peer_errors=0)
        check("stats: exact counters after a scripted sequence", st == want,
              " ".join("%s=%s(want %s)" % (k, st.get(k), v) for k, v in want.items() if st.get(k) != v))
    finally:
        P.stop()
    # upstream refused
    dead = socket.socket()
    dead.bind((LO, 0))
    dead_port = dead.getsockname()[1]
    dead.close()
    P = Proxy(work, dead_port, name="nodest")
    try:
        s = connect(P.port)
        got, end = read_all(s, 2.0)
        s.close()
        st = P.stats()
        check("upstream refused: client reset, counted, proxy alive",
              end == "reset" and st["upstream_failed"] == 1 and P.cmd("ping") == "ok pong",
              "%s %r" % (end, st))
    finally:
        P.stop()


def random_draws(lines):
    out = []
    for l in lines:
        m = re.search(r" random seq=(\d+) delay=(\S+) kind=(\S+)(.*) conn=\S+$", l)
        if m:
            out.append((int(m.group(1)), m.group(2), m.group(3), m.group(4).strip()))
    return out


def random_run(work, echo, name, extra, via_control=None, duration=0.7):
    P = Proxy(work, echo.port, "--stall-max", "0.2", *extra, name=name)
    try:
        if via_control:
            r = P.cmd(via_control)
            if not r.startswith("ok"):
                return [], {}, r
        end = time.monotonic() + duration
        s = None
        while time.monotonic() < end:
            try:
                if s is None:
                    s = connect(P.port, 1.0)
                s.sendall(b"p\n")
                s.settimeout(0.05)
                if s.recv(100) == b"":
                    raise OSError("eof")
            except socket.timeout:
                pass
            except OSError:
                if s is not None:
                    s.close()
                s = None
                time.sleep(0.01)
        if s is not None:
            s.close()
        r = P.cmd("random off")
        n0 = P.stats()["random_events"]
        time.sleep(0.3)
        st = P.stats()
        st["_after_off"] = st["random_events"] - n0
        return random_draws(P.log_lines()), st, r
    finally:
        P.stop()


def random_checks(work, echo):
    runs = {"a": (["--random-faults", "40", "--seed", "7"], None),
            "b": ([], "random 40 7"),
            "c": (["--random-faults", "40", "--seed", "8"], None)}
    res = {}

    def one(key):
        try:
            res[key] = random_run(work, echo, "random-" + key, runs[key][0], runs[key][1])
        except Exception as e:
            res[key] = ([], {"faults": 0, "_after_off": -1}, repr(e))
    threads = [threading.Thread(target=one, args=(k,)) for k in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    (a, sa, _), (b, sb, _), (c, _, _) = res["a"], res["b"], res["c"]
    n = min(len(a), len(b), len(c))
    check("random: same seed gives the same (delay, kind, parameters) sequence",
          n >= 8 and a[:n] == b[:n], "n=%d a=%r b=%r" % (n, a[:4], b[:4]))
    check("random: another seed gives another sequence", n >= 8 and a[:n] != c[:n], "n=%d" % n)
    kinds = {k for _, _, k, _ in a}
    check("random: faults are drawn among reset/stall/halfclose/cut-tls and applied",
          kinds <= {"reset", "stall", "halfclose", "cut-tls"} and len(kinds) >= 3
          and sa["faults"] >= 2 and sb["faults"] >= 2, "kinds=%r faults=%d/%d" % (kinds, sa["faults"], sb["faults"]))
    check("random off: no draws afterwards", sa["_after_off"] == 0 and sb["_after_off"] == 0)


def tls_checks(work, xmpp, tlsrv):
    P = Proxy(work, xmpp.port, name="starttls")
    try:
        # negotiation steps and record counting
        c = TLSClient(P.port)
        c.negotiate()
        c.handshake()
        i0 = P.info()
        for k in range(5):
            c.send(b"hello %d" % k)
            c.recv_exact(7)
        i1 = P.info()
        check("steps: client-header, server-header, features, starttls, proceed detected; TLS both ways",
              i0.get("steps") == "client-header,server-header,features,starttls,proceed"
              and i0.get("c2s_mode") == "tls" and i0.get("s2c_mode") == "tls", "%r" % i0)
        dc = int(i1["c2s_app_records"]) - int(i0["c2s_app_records"])
        ds = int(i1["s2c_app_records"]) - int(i0["s2c_app_records"])
        check("records: 5 exchanges count as 5 application-data records each way",
              dc == 5 and ds == 5, "c2s +%d s2c +%d" % (dc, ds))
        c.close()

        # cut-tls from the server
        c = TLSClient(P.port)
        c.negotiate()
        c.handshake()
        c.send(b"warmup")
        c.recv_exact(6)
        r = P.cmd("cut-tls last server")
        mark = len(c.raw)
        c.send(b"SEND 1 4000")
        data, exc = c.recv_until_error()
        recs, partial = tls_tail(c.raw[mark:])
        check("cut-tls server: client gets the header and half the record body, then ECONNRESET",
              r.startswith("ok count=1") and is_truncated_cut(partial) and partial[0] == 23
              and not recs and c.end == "reset", "%s recs=%r partial=%r end=%s" % (r, recs, partial, c.end))
        check("cut-tls server: the client's TLS read fails (not a clean close), no data",
              tls_error(exc) and data == b"", "%r %r" % (exc, data))
        c.close()

        # cut-tls from the client
        c = TLSClient(P.port)
        c.negotiate()
        c.handshake()
        srv = xmpp.last()
        r = P.cmd("cut-tls last client")
        try:
            c.send(b"c" * 3000)
        except OSError:
            pass
        ok = wait_for(lambda: srv["done"])
        errs = [e for e in srv["events"] if e[0] == "error"]
        check("cut-tls client: server's TLS read fails, it never gets the data",
              r.startswith("ok") and ok and errs and not any(e[0] in ("tls-data", "tls-eof") for e in srv["events"]),
              "%r" % srv["events"])
        c.close()

        # cut-after-records, relative, cut mode
        c = TLSClient(P.port)
        c.negotiate()
        c.handshake()
        r = P.cmd("cut-after-records last 3 server")
        mark = len(c.raw)
        c.send(b"SEND 6 100")
        data, exc = c.recv_until_error()
        recs, partial = tls_tail(c.raw[mark:])
        check("cut-after-records 3 (cut): exactly 3 records delivered, the 4th truncated",
              r.startswith("ok") and data == msg(0, 100) + msg(1, 100) + msg(2, 100)
              and len(recs) == 3 and is_truncated_cut(partial) and tls_error(exc),
              "%s data=%d recs=%r partial=%r exc=%r" % (r, len(data), recs, partial, exc))
        c.close()

        # cut-after-records, reset mode
        c = TLSClient(P.port)
        c.negotiate()
        c.handshake()
        r = P.cmd("cut-after-records last 2 server reset")
        mark = len(c.raw)
        c.send(b"SEND 6 100")
        data, exc = c.recv_until_error()
        recs, partial = tls_tail(c.raw[mark:])
        check("cut-after-records 2 (reset): exactly 2 records, then ECONNRESET at a record boundary",
              data == msg(0, 100) + msg(1, 100) and len(recs) == 2 and partial is None
              and c.end == "reset", "%s data=%d recs=%r partial=%r end=%s" % (r, len(data), recs, partial, c.end))
        c.close()

        # cut-after-records next 2 reset, counted from the start of TLS:
        # compare with the record types of an undisturbed handshake (not the
        # lengths: an ECDSA signature's length varies)
        ref = TLSClient(P.port)
        ref.negotiate()
        ref.handshake()
        ref_recs, _ = tls_tail(ref.raw)
        ref.close()
        apps = [k for k, (t, _) in enumerate(ref_recs) if t == 23]
        want = ref_recs[:apps[1] + 1] if len(apps) >= 2 else None
        r = P.cmd("cut-after-records next 2 server reset")
        c = TLSClient(P.port)
        c.negotiate()
        try:
            c.handshake()
            exc = None
        except Exception as e:
            exc = e
        recs, partial = tls_tail(c.raw)
        check("cut-after-records next 2 reset: handshake records up to the 2nd application-data one, then reset",
              want is not None and [t for t, _ in recs] == [t for t, _ in want] and partial is None and c.end == "reset" and tls_error(exc),
              "ref=%r got=%r partial=%r end=%s exc=%r" % (ref_recs, recs, partial, c.end, exc))
        c.close()

        # cut-after-records next 0: lands in the handshake
        r = P.cmd("cut-after-records next 0 server")
        c = TLSClient(P.port)
        c.negotiate()
        try:
            c.handshake()
            exc = None
        except Exception as e:
            exc = e
        recs, partial = tls_tail(c.raw)
        check("cut-after-records next 0: ServerHello record truncated, handshake fails",
              r == "ok armed=next" and is_truncated_cut(partial) and partial[0] == 22 and not recs
              and tls_error(exc), "%s recs=%r partial=%r exc=%r" % (r, recs, partial, exc))
        c.close()

        # cut-tls armed before TLS starts hits the first record
        r = P.cmd("cut-tls next client")
        c = TLSClient(P.port)
        c.negotiate()
        srv = xmpp.last()
        try:
            c.handshake()
            exc = None
        except Exception as e:
            exc = e
        check("cut-tls next client: ClientHello truncated, both handshakes fail",
              r == "ok armed=next" and tls_error(exc)
              and wait_for(lambda: srv["done"]) and ("tls",) not in srv["events"],
              "%r %r" % (exc, srv["events"]))
        c.close()

        # at-step proceed reset
        P.cmd("at-step next proceed reset")
        c = TLSClient(P.port)
        try:
            c.negotiate()
            got_proceed = True
        except Exception:
            got_proceed = False
        try:
            c._recv()
        except OSError:
            pass
        check("at-step proceed: client gets <proceed/>, then ECONNRESET, no TLS byte",
              got_proceed and PROCEED in c.plain and c.plain.endswith(PROCEED) and c.end == "reset",
              "proceed=%s end=%s tail=%r" % (got_proceed, c.end, bytes(c.plain[-60:])))
        c.close()

        # at-step client-header reset
        P.cmd("at-step next client-header")
        n_srv = xmpp.count()
        c = TLSClient(P.port)
        c.sock.sendall(HEADER)
        srv = wait_for(lambda: xmpp.count() > n_srv and xmpp.last()["data"] and xmpp.last())
        got, end = read_all(c.sock, 2.0)
        check("at-step client-header: server got the header, both sides reset",
              srv is not None and bytes(srv["data"]) == HEADER and end == "reset"
              and wait_for(lambda: ("error", "ConnectionResetError") in srv["events"]),
              "end=%s got=%r srv=%r" % (end, got, srv and srv["events"]))
        c.close()

        # at-step features stall, then unstall
        P.cmd("at-step next features stall")
        c = TLSClient(P.port)
        c.sock.sendall(HEADER)
        c._plain_until(rb"</stream:features>")
        srv = xmpp.last()
        c.sock.sendall(STARTTLS)
        time.sleep(0.5)
        stalled = b"<starttls" not in srv["data"] and P.info().get("state") == "stalled"
        P.cmd("unstall last")
        c._plain_until(rb"<proceed[^>]*/>")
        c.handshake()
        c.send(b"after-unstall")
        echoed = c.recv_exact(13)
        check("at-step features stall: features delivered, <starttls/> held until unstall, then TLS works",
              stalled and echoed == b"after-unstall", "stalled=%s echoed=%r" % (stalled, echoed))
        c.close()

        # at-step server-header halfclose-client
        P.cmd("at-step next server-header halfclose-client")
        c = TLSClient(P.port)
        c.sock.sendall(HEADER)
        got, end = read_all(c.sock, 2.0)
        check("at-step server-header halfclose-client: client gets the header only, then EOF",
              got.endswith(b"<stream:stream from='xmpp.test' id='s1' version='1.0' xmlns='jabber:client' "
                            b"xmlns:stream='http://etherx.jabber.org/streams'>") and end == "eof",
              "%r %s" % (got, end))
        c.close()

        st = P.stats()
        check("stats: TLS fault counters", st["cut_tls"] == 3 and st["cut_after_records"] == 4
              and st["at_step"] == 4, "%r" % st)
    finally:
        P.stop()

    # direct TLS
    P = Proxy(work, tlsrv.port, "--tls-from-start", name="directtls")
    try:
        c = TLSClient(P.port)
        c.handshake()
        i0 = P.info()
        r = P.cmd("cut-after-records last 1 server reset")
        mark = len(c.raw)
        c.send(b"SEND 3 50")
        data, exc = c.recv_until_error()
        recs, partial = tls_tail(c.raw[mark:])
        check("--tls-from-start: records parsed from byte 0, cut-after-records 1 reset",
              i0.get("c2s_mode") == "tls" and int(i0.get("s2c_records", 0)) >= 2 and i0.get("steps") == "-"
              and data == msg(0, 50) and len(recs) == 1 and partial is None and c.end == "reset",
              "%r %s data=%r recs=%r partial=%r" % (i0, r, data, recs, partial))
        c.close()
    finally:
        P.stop()


def gen_cert(work):
    """Fall-back when selftest.sh gave no certificate: try openssl."""
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                        "-days", "2", "-subj", "/CN=xmpp.test"], check=True,
                       capture_output=True, timeout=20)
        return cert, key
    except (OSError, subprocess.SubprocessError):
        return None, None


def serve_echo(portfile):
    srv = FakeServer("echo")
    tmp = portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("port=%d\n" % srv.port)
    os.replace(tmp, portfile)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--serve-echo", metavar="PORTFILE")
    a = ap.parse_args()
    if a.serve_echo:
        serve_echo(a.serve_echo)
        return 0
    if not a.work:
        ap.error("--work is required")
    t0 = time.monotonic()
    cert, key = a.cert, a.key
    if not cert:
        cert, key = gen_cert(a.work)
    echo = FakeServer("echo")
    groups = [("plaintext faults", lambda: plain_checks(a.work, echo)),
              ("stats", lambda: stats_checks(a.work, echo)),
              ("random mode", lambda: random_checks(a.work, echo))]
    if cert:
        ctx = server_ctx(cert, key)
        xmpp, tlsrv = FakeServer("xmpp", ctx), FakeServer("tls", ctx)
        groups.append(("TLS faults", lambda: tls_checks(a.work, xmpp, tlsrv)))
    else:
        print("skip: TLS checks (no openssl to make a certificate)")
    for name, fn in groups:
        t = time.monotonic()
        try:
            fn()
        except Exception:
            check("%s ran to the end" % name, False, traceback.format_exc().strip().replace("\n", " | "))
        print("# %s: %.2f s" % (name, time.monotonic() - t), flush=True)
    print("selftest.py: %d passed, %d failed (%.1f s)" % (len(PASSED), len(FAILED), time.monotonic() - t0))
    return 0 if not FAILED else 1


if __name__ == "__main__":
    sys.exit(main())
