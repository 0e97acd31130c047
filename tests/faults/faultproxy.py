#!/usr/bin/python3
"""faultproxy.py - TCP fault-injection proxy for libxmpp's reliability tests.

A single-file asyncio proxy (Python standard library only) that sits between
an XMPP client and a real server on 127.0.0.1 and breaks the connection on
command, at a chosen point of the negotiation, or at random.

Starting it
-----------
  faultproxy.py --listen 127.0.0.1:0 --target 127.0.0.1:5222 \\
                [--control 127.0.0.1:0] [--port-file F] [--log F] [-v]
                [--tls-from-start] [--seed N] [--random-faults RATE]
                [--stall-max SECONDS] [--cut-after-records N[:DIR[:MODE]]]
                [--at-step STEP[:ACTION]] [--times K]

Port 0 picks a free port.  Once both sockets listen, the port file is written
atomically (temporary file + rename) as

  listen=PORT
  control=PORT          (only with --control)

Every accepted client connection gets its own upstream connection to
--target and a number (1, 2, ...).  Without faults the proxy forwards bytes
unchanged in both directions, half-closes included.  Buffers are bounded: at
most READ_LIMIT bytes are read ahead per direction and writes wait for the
transport to drain, so a slow or stalled side pushes back on the other.

--log F appends one line per event (connection opened/closed, negotiation
step reached, fault injected, random draw), each with a UTC timestamp, the
seconds since start and the connection number (conn=N).  -v copies these
lines to stderr.  SIGTERM or SIGINT closes everything and exits 0.

Faults
------
  reset          RST to both peers (SO_LINGER 0, then close).
  stall          black hole: nothing is forwarded in either direction (nor
                 EOF nor errors) and both sockets stay open, until `unstall`
                 or a reset.  Data read meanwhile stays queued (bounded) and
                 is delivered after `unstall`.
  halfclose      shutdown(SHUT_WR) towards the client (the client reads EOF
                 while what it sends still reaches the server) or towards the
                 server.  Later data for the half-closed side is dropped.
  cut-tls        waits for the next TLS record from the server (or client),
                 forwards its 5-byte header and len/2 bytes of its body, waits
                 until those bytes are acknowledged, then resets.  TLS starts
                 after the plaintext <starttls/> (client to server) and
                 <proceed/> (server to client), or at byte 0 with
                 --tls-from-start.  Armed before TLS starts, it hits the first
                 TLS record (ServerHello / ClientHello).
  cut-mid-stanza on a plaintext stream: forwards half of the next chunk read
                 from the server (or client), then resets; once TLS runs in
                 that direction it is cut-tls.
  cut-after-records N
                 counts TLS application-data records (content type 23; with
                 TLS 1.3 this includes the encrypted handshake records) in one
                 direction, from the moment it is armed.  MODE cut (default):
                 after N of them the next record of any type is cut as by
                 cut-tls.  MODE reset: right after the N-th record is
                 forwarded, reset.  N=0 acts on the first TLS record.
  at-step STEP   acts when the plaintext negotiation reaches STEP, after the
                 bytes that complete it have been forwarded (and, for reset,
                 acknowledged).  STEPs: client-header (client's
                 <stream:stream ...>), server-header, features (end of the
                 server's first <stream:features>), starttls (client's
                 <starttls/>), proceed (server's <proceed/>).  ACTIONs: reset
                 (default), stall, halfclose-client, halfclose-server.

DIR is `server` (data coming from the server; default) or `client`.

Command-line arms (--cut-after-records, --at-step) apply to the first K new
connections, K = --times (default 1; 0 = every connection).

Random mode (--random-faults RATE --seed N, or the `random` command) draws,
from its own random.Random(seed), a sequence of (delay, kind, parameters)
with exponential delays of mean 1/RATE seconds and kinds among reset,
stall (then unstall or reset after uniform(0.1, --stall-max) s), halfclose
(client or server side) and cut-tls (server or client direction; on a
still-plaintext stream it cuts the next chunk as cut-mid-stanza does).  The
target is the open connection at index floor(u * count) among those open.
All draws happen whether or not a connection is open, so the same seed gives
the same sequence, logged as `random seq=I delay=D kind=K ... conn=N|-`.
`random RATE SEED KINDS` restricts the draws to a comma-separated subset of
reset, stall, halfclose-client, halfclose-server, cut-tls (a drawn halfclose
of an excluded side, or an excluded kind, is replaced by a redraw from the
same generator, so a given seed and subset still give one sequence).

Control protocol
----------------
A line-based TCP socket (--control).  One command per line, one reply line
per command, starting with `ok` or `err MESSAGE`.  CONN is a connection
number, `last` (the newest connection), `all` (every open connection) or,
where noted, `next` (armed for the next accepted connection).  Fault
commands answer `ok count=N conns=ID,ID` (conns=- when none) or
`ok armed=next`.

  help | ping                                   ok ...
  list                                          ok count=N ID:STATE ...
       STATE: connecting open stalled halfclosed-client halfclosed-server
  info CONN                                     ok conn=ID state=... key=value...
  stats                                         ok accepted=N ... (below)
  reset [CONN|all|next]                         default all
  stall [CONN|all|next]                         default all
  unstall [CONN|all]                            default all
  halfclose CONN|all|next client|server
  cut-tls [CONN|all|next] [server|client]       default all server
  cut-mid-stanza [CONN|all|next] [server|client]
  cut-after-records CONN|all|next N [server|client] [cut|reset]
  at-step CONN|all|next STEP [reset|stall|halfclose-client|halfclose-server]
  disarm [CONN|all|next]   drop armed, not yet triggered faults (default:
                           all connections and the next-connection arms)
  random RATE [SEED] | random off               ok rate=R seed=S | ok off
  refuse on|off       on: accept and close new connections at once
  wait STAT N [TIMEOUT]    block until counter STAT >= N (default 10 s):
                           ok STAT=V | err timeout STAT=V
  quit                     ok bye, closes the control connection
  shutdown                 ok, then the proxy exits

stats counters: accepted (proxied connections), refused, upstream_failed,
open, closed, bytes_c2s, bytes_s2c (forwarded), dropped_c2s, dropped_s2c
(discarded after a half-close), faults (total injected), reset, stall,
halfclose, cut_tls, cut_mid_stanza, cut_after_records, at_step (injected,
by kind: a stall that ends in a reset counts both), unstall, random_events,
peer_errors.

From a shell
------------
  faultproxy.py --cmd TARGET COMMAND...    one command, prints the reply
  faultproxy.py --cmd TARGET -             commands from stdin, one a line
TARGET is HOST:PORT of the control socket or a port file (waited for up to
--cmd-timeout seconds).  Exit status 0 if every reply starts with ok, 1
otherwise, 2 if the control socket cannot be reached.  Example:

  /usr/bin/python3 faultproxy.py --listen 127.0.0.1:0 --target 127.0.0.1:5222 \\
      --control 127.0.0.1:0 --port-file "$T/pf" --log "$T/log" &
  fp=$!
  /usr/bin/python3 faultproxy.py --cmd "$T/pf" ping >/dev/null
  port=$(sed -n 's/^listen=//p' "$T/pf")
  ... run the client against 127.0.0.1:$port ...
  /usr/bin/python3 faultproxy.py --cmd "$T/pf" wait accepted 1 5
  /usr/bin/python3 faultproxy.py --cmd "$T/pf" reset last
  kill -TERM "$fp"; wait "$fp"

From Python: import this file (sys.path) and use
Control(port_file=F) or Control(host, port); .cmd("stats") returns the
reply line.
"""

import argparse
import datetime
import fcntl
import os
import random
import re
import signal
import socket
import struct
import sys
import termios
import time

# asyncio is imported by main() for the proxy only: --cmd and Control start
# faster without it.
asyncio = None

CHUNK = 16384            # bytes read per forwarding step
READ_LIMIT = 65536       # StreamReader buffer limit per direction
WRITE_HIGH = 65536       # transport write buffer high-water mark
PLAIN_CAP = 65536        # plaintext kept per direction for step detection
TLS_MAX_BODY = 16384 + 2048
CONNECT_TIMEOUT = 10.0
SENT_TIMEOUT = 1.0       # wait for a cut's partial bytes to be acknowledged
CONTROL_LINE_MAX = 4096

FAULT_KINDS = ("reset", "stall", "halfclose", "cut_tls", "cut_mid_stanza",
               "cut_after_records", "at_step")
STAT_NAMES = ("accepted", "refused", "upstream_failed", "open", "closed",
              "bytes_c2s", "bytes_s2c", "dropped_c2s", "dropped_s2c",
              "faults") + FAULT_KINDS + ("unstall", "random_events",
                                         "peer_errors")

# ---- plaintext negotiation steps
_ATTRS = rb"""(?:[^>'"]|'[^']*'|"[^"]*")*"""
_PFX = rb"(?:[A-Za-z_][\w.-]*:)?"
RX_STREAM = re.compile(rb"<" + _PFX + rb"stream(?=[\s>/])" + _ATTRS + rb">")
RX_FEATURES = re.compile(rb"</" + _PFX + rb"features\s*>|<" + _PFX +
                         rb"features(?=[\s>/])" + _ATTRS + rb"/>")
RX_STARTTLS = re.compile(rb"</" + _PFX + rb"starttls\s*>|<" + _PFX +
                         rb"starttls(?=[\s>/])" + _ATTRS + rb"/>")
RX_PROCEED = re.compile(rb"</" + _PFX + rb"proceed\s*>|<" + _PFX +
                        rb"proceed(?=[\s>/])" + _ATTRS + rb"/>")
MARKERS = {
    "c2s": (("client-header", RX_STREAM), ("starttls", RX_STARTTLS)),
    "s2c": (("server-header", RX_STREAM), ("features", RX_FEATURES),
            ("proceed", RX_PROCEED)),
}
STEPS = ("client-header", "server-header", "features", "starttls", "proceed")
STEP_ACTIONS = ("reset", "stall", "halfclose-client", "halfclose-server")
RANDOM_KINDS = ("reset", "stall", "halfclose", "cut-tls")


def stamp():
    return datetime.datetime.now(datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


def errname(e):
    if isinstance(e, OSError) and e.errno:
        import errno as _errno
        return _errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def parse_hostport(s, what):
    host, sep, port = s.rpartition(":")
    if not sep or not host:
        raise argparse.ArgumentTypeError("%s: expected HOST:PORT, got %r" % (what, s))
    host = host.strip("[]")
    try:
        p = int(port)
    except ValueError:
        raise argparse.ArgumentTypeError("%s: bad port in %r" % (what, s))
    if not 0 <= p <= 65535:
        raise argparse.ArgumentTypeError("%s: bad port in %r" % (what, s))
    return host, p


class Log:
    def __init__(self, path, verbose):
        self.f = open(path, "a", encoding="utf-8") if path else None
        self.verbose = verbose
        self.t0 = time.monotonic()

    def __call__(self, msg):
        line = "%s t=%.6f %s\n" % (stamp(), time.monotonic() - self.t0, msg)
        if self.f:
            try:
                self.f.write(line)
                self.f.flush()
            except OSError:
                pass
        if self.verbose:
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except OSError:
                pass


class Stats:
    def __init__(self):
        self.c = {n: 0 for n in STAT_NAMES}
        self.waiters = []

    def inc(self, name, n=1):
        self.c[name] += n
        if name in FAULT_KINDS:
            self.c["faults"] += n
        if self.waiters:
            self._wake()

    def add(self, name, n):
        self.inc(name, n)

    def _wake(self):
        keep = []
        for name, value, fut in self.waiters:
            if fut.done():
                continue
            if self.c[name] >= value:
                fut.set_result(True)
            else:
                keep.append((name, value, fut))
        self.waiters = keep

    async def wait(self, name, value, timeout):
        if self.c[name] >= value:
            return True
        fut = asyncio.get_running_loop().create_future()
        self.waiters.append((name, value, fut))
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def line(self):
        return " ".join("%s=%d" % (k, v) for k, v in self.c.items())


class Direction:
    """One direction of a proxied connection: c2s or s2c."""

    def __init__(self, conn, name, tls_from_start):
        self.conn = conn
        self.name = name
        self.src = "client" if name == "c2s" else "server"
        self.reader = None
        self.writer = None          # towards the destination
        self.forwarded = 0
        self.dropped = 0
        self.out_closed = False     # EOF sent or half-closed towards dst
        self.eof = False            # EOF read from src
        self.plain = bytearray()
        self.pending_markers = [] if tls_from_start else list(MARKERS[name])
        self.scan_from = {m: 0 for m, _ in MARKERS[name]}
        self.mode = "tls" if tls_from_start else "plain"   # plain|tls|opaque
        self.tls_state = "hdr"
        self.hdr = bytearray()
        self.body_left = 0
        self.rec_type = 0
        self.rec_len = 0
        self.records = 0
        self.app_records = 0
        self.cut = None    # dict(kind=tls|auto, state=wait|in-record, fault, by)
        self.car = None    # dict(threshold, mode, by)

    def scan_plain(self, data, i):
        """Append data[i:] to the plaintext seen so far; return (end, step)
        where end is the index in data just past the earliest step found
        (or len(data) and None)."""
        if not self.pending_markers or len(self.plain) > PLAIN_CAP:
            return len(data), None
        start = len(self.plain)
        self.plain += data[i:]
        best = None
        for name, rx in self.pending_markers:
            m = rx.search(self.plain, self.scan_from[name])
            if m:
                if best is None or m.end() < best[0]:
                    best = (m.end(), name)
            else:
                lt = self.plain.rfind(b"<", self.scan_from[name])
                self.scan_from[name] = lt if lt >= 0 else len(self.plain)
        if best is None:
            return len(data), None
        end, name = best
        del self.plain[end:]
        self.pending_markers = [(n, r) for n, r in self.pending_markers if n != name]
        return i + (end - start), name

    def describe(self):
        return ("%s_mode=%s %s_bytes=%d %s_dropped=%d %s_records=%d "
                "%s_app_records=%d %s_eof=%s" % (
                    self.name, self.mode, self.name, self.forwarded,
                    self.name, self.dropped, self.name, self.records,
                    self.name, self.app_records, self.name,
                    "yes" if self.eof else "no"))


class Conn:
    def __init__(self, proxy, cid, reader, writer):
        self.p = proxy
        self.id = cid
        self.c_reader = reader
        self.c_writer = writer
        self.s_reader = None
        self.s_writer = None
        try:
            pn = writer.get_extra_info("peername")
            self.peer = "%s:%s" % (pn[0], pn[1])
        except (TypeError, IndexError):
            self.peer = "?"
        tfs = proxy.args.tls_from_start
        self.c2s = Direction(self, "c2s", tfs)
        self.s2c = Direction(self, "s2c", tfs)
        self.state = "connecting"
        self.closed = False
        self.stalled = False
        self.unstalled = asyncio.Event()
        self.unstalled.set()
        self.tasks = []
        self.step_arms = {}
        self.steps = []
        self.timers = []
        self.halfclosed = []

    # ---- helpers
    def dir_from(self, side):
        """Direction carrying data that comes from `side`."""
        return self.s2c if side == "server" else self.c2s

    def state_name(self):
        if self.closed:
            return "closed"
        if self.state != "open":
            return self.state
        if self.stalled:
            return "stalled"
        if self.halfclosed:
            return "halfclosed-" + self.halfclosed[0]
        return "open"

    def log(self, msg):
        self.p.log("conn=%d %s" % (self.id, msg))

    def fault(self, kind, by, detail=""):
        self.p.stats.inc(kind.replace("-", "_"))
        self.log("fault=%s by=%s%s" % (kind, by, (" " + detail) if detail else ""))

    # ---- faults
    def reset(self, kind="reset", by="command", detail=""):
        if self.closed:
            return False
        if kind:
            self.fault(kind, by, detail)
        self.teardown(rst=True)
        return True

    def stall(self, kind="stall", by="command", detail=""):
        if self.closed or self.stalled:
            return False
        self.stalled = True
        self.unstalled.clear()
        self.fault(kind, by, detail)
        return True

    def unstall(self, by="command"):
        if self.closed or not self.stalled:
            return False
        self.stalled = False
        self.unstalled.set()
        self.p.stats.inc("unstall")
        self.log("unstall by=%s" % by)
        return True

    def halfclose(self, side, kind="halfclose", by="command", detail=""):
        d = self.s2c if side == "client" else self.c2s   # data towards side
        w = d.writer if d.writer is not None else (
            self.c_writer if side == "client" else None)
        if self.closed or w is None or d.out_closed:
            return False
        d.out_closed = True
        self.halfclosed.append(side)
        try:
            if w.can_write_eof():
                w.write_eof()
        except (OSError, RuntimeError):
            pass
        self.fault(kind, by, ("side=%s %s" % (side, detail)).strip())
        return True

    def arm_cut(self, side, kind, fault, by):
        """kind tls: the next TLS record; auto: the next plaintext chunk or,
        once TLS runs in that direction, the next TLS record."""
        if self.closed:
            return False
        d = self.dir_from(side)
        d.cut = {"kind": kind, "state": "wait", "fault": fault, "by": by}
        self.log("armed=%s dir=%s by=%s" % (fault, d.name, by))
        return True

    def arm_car(self, side, n, mode, by):
        if self.closed:
            return False
        d = self.dir_from(side)
        d.car = {"threshold": d.app_records + n, "n": n, "mode": mode, "by": by}
        self.log("armed=cut-after-records dir=%s n=%d mode=%s by=%s" % (d.name, n, mode, by))
        if d.mode == "tls" and n == 0 and d.tls_state == "hdr" and not d.hdr:
            d.car = None
            if mode == "reset":
                self.reset("cut-after-records", by, "dir=%s n=0 app_records=%d mode=reset"
                           % (d.name, d.app_records))
            else:
                d.cut = {"kind": "tls", "state": "wait", "fault": "cut-after-records", "by": by}
        return True

    def arm_step(self, step, action, by):
        if self.closed or step in self.steps:
            return False
        self.step_arms[step] = (action, by)
        self.log("armed=at-step step=%s action=%s by=%s" % (step, action, by))
        return True

    def disarm(self):
        for d in (self.c2s, self.s2c):
            d.cut = None
            d.car = None
        self.step_arms.clear()

    # ---- lifecycle
    def teardown(self, rst):
        if self.closed:
            return
        self.closed = True
        self.unstalled.set()
        for h in self.timers:
            h.cancel()
        for w in (self.c_writer, self.s_writer):
            if w is None:
                continue
            tr = w.transport
            try:
                if rst:
                    sock = tr.get_extra_info("socket")
                    if sock is not None:
                        try:
                            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                            struct.pack("ii", 1, 0))
                        except OSError:
                            pass
                    tr.abort()
                else:
                    tr.close()
            except (OSError, RuntimeError):
                pass
        cur = asyncio.current_task()
        for t in self.tasks:
            if t is not cur and not t.done():
                t.cancel()
        self.p.conn_closed(self, rst)

    async def run(self):
        host, port = self.p.args.target
        try:
            try:
                self.s_reader, self.s_writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port, limit=READ_LIMIT),
                    CONNECT_TIMEOUT)
            except (OSError, asyncio.TimeoutError) as e:
                self.p.stats.inc("upstream_failed")
                self.log("upstream-failed error=%s" % errname(e))
                self.teardown(rst=True)
                return
            if self.closed:
                self.s_writer.transport.abort()
                return
            for w in (self.c_writer, self.s_writer):
                w.transport.set_write_buffer_limits(high=WRITE_HIGH)
            self.c2s.reader, self.c2s.writer = self.c_reader, self.s_writer
            self.s2c.reader, self.s2c.writer = self.s_reader, self.c_writer
            self.state = "open"
            self.log("upstream-connected")
            self.p.apply_pending(self)
            if self.closed:
                return
            self.tasks = [asyncio.ensure_future(self.pump(self.c2s)),
                          asyncio.ensure_future(self.pump(self.s2c))]
            await asyncio.gather(*self.tasks, return_exceptions=True)
            if not self.closed:
                self.teardown(rst=False)
        except asyncio.CancelledError:
            self.teardown(rst=False)
            raise
        except Exception as e:  # never let one connection take the proxy down
            self.log("internal-error %r" % (e,))
            self.teardown(rst=True)

    async def wait_unstalled(self):
        while self.stalled and not self.closed:
            await self.unstalled.wait()

    async def pump(self, d):
        try:
            while not self.closed:
                err = None
                try:
                    data = await d.reader.read(CHUNK)
                except (ConnectionError, OSError) as e:
                    err, data = e, b""
                await self.wait_unstalled()     # a black hole hides errors too
                if self.closed:
                    return
                if err is not None:
                    self.peer_error(d.src, err)
                    return
                if not data:
                    d.eof = True
                    self.log("eof from=%s" % d.src)
                    if not d.out_closed:
                        d.out_closed = True
                        if d.writer.can_write_eof():
                            d.writer.write_eof()
                    return
                if d.out_closed:
                    d.dropped += len(data)
                    self.p.stats.inc("dropped_" + d.name, len(data))
                    continue
                await self.process(d, data)
        except asyncio.CancelledError:
            raise
        except (ConnectionError, OSError, RuntimeError) as e:
            if not self.closed:
                self.peer_error("client" if d.src == "server" else "server", e)

    def peer_error(self, side, e):
        if self.closed:
            return
        self.p.stats.inc("peer_errors")
        self.log("peer-error side=%s error=%s" % (side, errname(e)))
        self.teardown(rst=True)

    async def flush(self, d, out):
        if not out:
            return
        data = b"".join(out)
        out.clear()
        if not data:
            return
        await self.wait_unstalled()
        if self.closed:
            return
        if d.out_closed:
            d.dropped += len(data)
            self.p.stats.inc("dropped_" + d.name, len(data))
            return
        d.writer.write(data)
        d.forwarded += len(data)
        self.p.stats.inc("bytes_" + d.name, len(data))
        await d.writer.drain()

    async def wait_sent(self, w):
        """Wait (bounded) until what was written to w has left the asyncio
        buffer and been acknowledged by the peer, so an RST cannot discard
        it."""
        loop = asyncio.get_running_loop()
        tr = w.transport
        deadline = loop.time() + SENT_TIMEOUT
        while not self.closed and loop.time() < deadline:
            pending = tr.get_write_buffer_size()
            if pending == 0:
                try:
                    sock = tr.get_extra_info("socket")
                    buf = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
                    pending = struct.unpack("i", buf)[0]
                except (OSError, AttributeError, ValueError, TypeError):
                    pending = 0
            if pending == 0:
                return
            await asyncio.sleep(0.005)

    async def cut_finish(self, d, out, detail):
        cut = d.cut
        d.cut = None
        await self.flush(d, out)
        if self.closed:
            return
        await self.wait_sent(d.writer)
        self.reset(cut["fault"], cut["by"], "dir=%s %s" % (d.name, detail))

    async def record_done(self, d, out):
        d.records += 1
        if d.rec_type == 23:
            d.app_records += 1
        d.tls_state = "hdr"
        d.hdr = bytearray()
        await self.car_check(d, out)

    async def car_check(self, d, out):
        car = d.car
        if car is None or d.mode != "tls" or d.app_records < car["threshold"]:
            return
        d.car = None
        if car["mode"] == "reset":
            await self.flush(d, out)
            if self.closed:
                return
            await self.wait_sent(d.writer)
            self.reset("cut-after-records", car["by"], "dir=%s n=%d app_records=%d mode=reset"
                       % (d.name, car["n"], d.app_records))
        else:
            d.cut = {"kind": "tls", "state": "wait", "fault": "cut-after-records",
                     "by": car["by"]}

    async def on_step(self, d, step, out):
        self.steps.append(step)
        self.log("step=%s" % step)
        if step in ("starttls", "proceed"):
            d.mode = "tls"
            d.pending_markers = []
            d.plain = bytearray()
            self.log("tls-start dir=%s" % d.name)
            await self.car_check(d, out)
        arm = self.step_arms.pop(step, None)
        if arm is None or self.closed:
            return
        action, by = arm
        await self.flush(d, out)
        if self.closed:
            return
        detail = "step=%s action=%s" % (step, action)
        if action == "reset":
            await self.wait_sent(d.writer)
            self.reset("at-step", by, detail)
        elif action == "stall":
            self.stall("at-step", by, detail)
        elif action == "halfclose-client":
            self.halfclose("client", "at-step", by, detail)
        elif action == "halfclose-server":
            self.halfclose("server", "at-step", by, detail)

    async def process(self, d, data):
        out = []
        i, n = 0, len(data)
        while i < n:
            if self.closed:
                return
            if d.mode != "tls":
                if d.cut is not None and (d.cut["kind"] == "auto" or d.mode == "opaque"):
                    k = (n - i) // 2
                    out.append(data[i:i + k])
                    await self.cut_finish(d, out, "chunk=%d forwarded=%d" % (n - i, k))
                    return
                if d.mode == "opaque":
                    out.append(data[i:])
                    break
                end, step = d.scan_plain(data, i)
                if end > i:
                    out.append(data[i:end])
                    i = end
                if step:
                    await self.on_step(d, step, out)
                continue
            if d.tls_state == "hdr":
                if not d.hdr and d.cut is not None and d.cut["state"] == "wait":
                    d.cut["state"] = "in-record"
                take = min(5 - len(d.hdr), n - i)
                d.hdr += data[i:i + take]
                out.append(data[i:i + take])
                i += take
                if len(d.hdr) < 5:
                    continue
                ctype, vmaj, _vmin, length = struct.unpack("!BBBH", bytes(d.hdr))
                if not (20 <= ctype <= 24 and vmaj == 3 and length <= TLS_MAX_BODY):
                    d.mode = "opaque"
                    self.log("tls-framing-lost dir=%s header=%s" % (d.name, bytes(d.hdr).hex()))
                    continue
                d.rec_type, d.rec_len, d.body_left = ctype, length, length
                d.tls_state = "body"
                cut = d.cut
                if cut is not None and cut["state"] == "in-record":
                    cut["remaining"] = length // 2
                    cut["detail"] = "record_type=%d record_len=%d forwarded=5+%d" % (
                        ctype, length, length // 2)
                    if cut["remaining"] == 0:
                        await self.cut_finish(d, out, cut["detail"])
                        return
                if length == 0:
                    await self.record_done(d, out)
                continue
            take = min(d.body_left, n - i)
            cut = d.cut
            cutting = cut is not None and cut["state"] == "in-record"
            if cutting:
                take = min(take, cut["remaining"])
            out.append(data[i:i + take])
            i += take
            d.body_left -= take
            if cutting:
                cut["remaining"] -= take
                if cut["remaining"] == 0:
                    await self.cut_finish(d, out, cut["detail"])
                    return
            if d.body_left == 0:
                await self.record_done(d, out)
        await self.flush(d, out)

    def info(self):
        return ("conn=%d state=%s peer=%s %s %s steps=%s armed=%s" % (
            self.id, self.state_name(), self.peer, self.c2s.describe(),
            self.s2c.describe(), ",".join(self.steps) or "-",
            ",".join(self.armed()) or "-"))

    def armed(self):
        a = []
        for d in (self.c2s, self.s2c):
            if d.cut:
                a.append("%s:%s" % (d.cut["fault"], d.name))
            if d.car:
                a.append("cut-after-records:%s:%d" % (d.name, d.car["threshold"]))
        a.extend("at-step:%s:%s" % (s, v[0]) for s, v in self.step_arms.items())
        return a


class CommandError(Exception):
    pass


class Proxy:
    def __init__(self, args, log):
        self.args = args
        self.log = log
        self.stats = Stats()
        self.conns = {}
        self.next_id = 0
        self.last_id = None
        self.pending = []          # [fn, remaining or None, label]
        self.refuse = False
        self.random_task = None
        self.stop = asyncio.Event()
        self.servers = []
        self.control_writers = set()

    # ---- connections
    async def on_client(self, reader, writer):
        if self.stop.is_set():
            writer.transport.abort()
            return
        if self.refuse:
            self.stats.inc("refused")
            pn = writer.get_extra_info("peername")
            self.log("refused peer=%s:%s" % (pn[0], pn[1]) if pn else "refused")
            writer.close()
            return
        self.next_id += 1
        conn = Conn(self, self.next_id, reader, writer)
        self.conns[conn.id] = conn
        self.last_id = conn.id
        self.stats.inc("accepted")
        self.stats.inc("open")
        conn.log("open peer=%s" % conn.peer)
        await conn.run()

    def conn_closed(self, conn, rst):
        if self.conns.pop(conn.id, None) is not None:
            self.stats.c["open"] -= 1
            self.stats.inc("closed")
        conn.log("closed how=%s c2s=%d s2c=%d" % ("rst" if rst else "close",
                                                 conn.c2s.forwarded, conn.s2c.forwarded))

    def apply_pending(self, conn):
        keep = []
        for arm in self.pending:
            fn, remaining, label = arm
            conn.log("apply-next %s" % label)
            fn(conn)
            if remaining is not None:
                remaining -= 1
                if remaining <= 0:
                    continue
            keep.append([fn, remaining, label])
        self.pending = keep

    def arm_next(self, fn, label, times=1):
        self.pending.append([fn, times, label])

    # ---- random faults
    def start_random(self, rate, seed, kinds=None):
        self.stop_random()
        self.random_task = asyncio.ensure_future(self.random_loop(rate, seed, kinds))
        self.log("random start rate=%g seed=%d kinds=%s" % (rate, seed, ",".join(kinds or ["all"])))

    def stop_random(self):
        if self.random_task is not None:
            self.random_task.cancel()
            self.random_task = None
            self.log("random stop")

    async def random_loop(self, rate, seed, kinds=None):
        rng = random.Random(seed)
        stall_max = max(0.1, self.args.stall_max)
        seq = 0
        while True:
            delay = rng.expovariate(rate)
            while True:
                kind = rng.choice(RANDOM_KINDS)
                pick = rng.random()
                params = {}
                if kind == "stall":
                    params["dur"] = round(rng.uniform(0.1, stall_max), 3)
                    params["then"] = rng.choice(("unstall", "reset"))
                elif kind == "halfclose":
                    params["side"] = rng.choice(("client", "server"))
                elif kind == "cut-tls":
                    params["dir"] = rng.choice(("server", "client"))
                name = kind + "-" + params["side"] if kind == "halfclose" else kind
                if kinds is None or name in kinds:
                    break
            await asyncio.sleep(delay)
            seq += 1
            live = sorted(c.id for c in self.conns.values()
                          if c.state == "open" and not c.closed)
            conn = self.conns[live[int(pick * len(live))]] if live else None
            self.stats.inc("random_events")
            self.log(" ".join(["random seq=%d delay=%.6f kind=%s" % (seq, delay, kind)]
                              + ["%s=%s" % kv for kv in params.items()]
                              + ["conn=%s" % (conn.id if conn else "-")]))
            if conn is None:
                continue
            try:
                self.random_apply(conn, kind, params)
            except Exception as e:
                self.log("random-apply-error %r" % (e,))

    def random_apply(self, conn, kind, params):
        if kind == "reset":
            conn.reset("reset", "random")
        elif kind == "stall":
            if conn.stall("stall", "random", "dur=%s then=%s" % (params["dur"], params["then"])):
                loop = asyncio.get_running_loop()

                def end():
                    if params["then"] == "unstall":
                        conn.unstall("random")
                    else:
                        conn.reset("reset", "random", "after-stall")
                conn.timers.append(loop.call_later(params["dur"], end))
        elif kind == "halfclose":
            conn.halfclose(params["side"], "halfclose", "random")
        elif kind == "cut-tls":
            conn.arm_cut(params["dir"], "auto", "cut-tls", "random")

    # ---- control
    async def on_control(self, reader, writer):
        self.control_writers.add(writer)
        try:
            while not self.stop.is_set():
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(b"err line too long\n")
                    break
                if not line:
                    break
                text = line.decode("utf-8", "replace").strip()
                if not text:
                    continue
                try:
                    reply = await self.command(text)
                except CommandError as e:
                    reply = "err %s" % e
                except Exception as e:
                    reply = "err internal %r" % (e,)
                    self.log("control-internal-error %r" % (e,))
                writer.write((reply.replace("\n", " ") + "\n").encode())
                await writer.drain()
                if text in ("quit", "shutdown"):
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            self.control_writers.discard(writer)
            writer.close()

    def targets(self, spec, allow_next=True):
        """Return None for `next`, else a list of open connections."""
        if spec == "next":
            if not allow_next:
                raise CommandError("next is not allowed here")
            return None
        if spec == "all":
            return [c for _, c in sorted(self.conns.items()) if not c.closed]
        if spec == "last":
            c = self.conns.get(self.last_id) if self.last_id is not None else None
            if c is None or c.closed:
                raise CommandError("no open last connection")
            return [c]
        try:
            cid = int(spec)
        except ValueError:
            raise CommandError("bad connection %r (number, last, all or next)" % spec)
        c = self.conns.get(cid)
        if c is None or c.closed:
            raise CommandError("no such connection %d" % cid)
        return [c]

    @staticmethod
    def ok_conns(done):
        return "ok count=%d conns=%s" % (len(done), ",".join(str(c.id) for c in done) or "-")

    def apply(self, spec, fn, label):
        t = self.targets(spec)
        if t is None:
            self.arm_next(fn, label)
            self.log("armed-next %s" % label)
            return "ok armed=next"
        return self.ok_conns([c for c in t if fn(c)])

    @staticmethod
    def side_arg(args, default="server"):
        side = args.pop(0) if args else default
        if side not in ("server", "client"):
            raise CommandError("expected server or client, got %r" % side)
        return side

    async def command(self, text):
        words = text.split()
        cmd, args = words[0].lower(), words[1:]
        if cmd in ("help", "ping"):
            if cmd == "ping":
                return "ok pong"
            return ("ok commands: list info stats reset stall unstall halfclose "
                    "cut-tls cut-mid-stanza cut-after-records at-step disarm "
                    "random refuse wait ping quit shutdown")
        if cmd == "list":
            items = ["%d:%s" % (c.id, c.state_name()) for _, c in sorted(self.conns.items())]
            return " ".join(["ok count=%d" % len(items)] + items)
        if cmd == "info":
            if len(args) != 1:
                raise CommandError("usage: info CONN")
            t = self.targets(args[0], allow_next=False)
            if len(t) != 1:
                raise CommandError("info takes one connection")
            return "ok " + t[0].info()
        if cmd == "stats":
            return "ok " + self.stats.line()
        if cmd in ("reset", "stall", "unstall"):
            if len(args) > 1:
                raise CommandError("usage: %s [CONN|all|next]" % cmd)
            spec = args[0] if args else "all"
            if cmd == "reset":
                return self.apply(spec, lambda c: c.reset("reset", "command"), "reset")
            if cmd == "stall":
                return self.apply(spec, lambda c: c.stall("stall", "command"), "stall")
            t = self.targets(spec, allow_next=False)
            return self.ok_conns([c for c in t if c.unstall("command")])
        if cmd == "halfclose":
            if len(args) != 2 or args[1] not in ("client", "server"):
                raise CommandError("usage: halfclose CONN|all|next client|server")
            side = args[1]
            return self.apply(args[0], lambda c: c.halfclose(side, "halfclose", "command"),
                              "halfclose " + side)
        if cmd in ("cut-tls", "cut-mid-stanza"):
            spec = "all"
            if args and args[0] not in ("server", "client"):
                spec = args.pop(0)
            side = self.side_arg(args)
            if args:
                raise CommandError("usage: %s [CONN|all|next] [server|client]" % cmd)
            kind = "tls" if cmd == "cut-tls" else "auto"
            return self.apply(spec, lambda c: c.arm_cut(side, kind, cmd, "command"),
                              "%s %s" % (cmd, side))
        if cmd == "cut-after-records":
            if len(args) < 2 or len(args) > 4:
                raise CommandError("usage: cut-after-records CONN|all|next N [server|client] [cut|reset]")
            spec = args.pop(0)
            try:
                n = int(args.pop(0))
            except ValueError:
                raise CommandError("N must be a number")
            if n < 0:
                raise CommandError("N must be >= 0")
            side = self.side_arg(args)
            mode = args.pop(0) if args else "cut"
            if mode not in ("cut", "reset"):
                raise CommandError("mode must be cut or reset")
            return self.apply(spec, lambda c: c.arm_car(side, n, mode, "command"),
                              "cut-after-records %d %s %s" % (n, side, mode))
        if cmd == "at-step":
            if len(args) not in (2, 3):
                raise CommandError("usage: at-step CONN|all|next STEP [ACTION]")
            spec, step = args[0], args[1]
            action = args[2] if len(args) == 3 else "reset"
            if step not in STEPS:
                raise CommandError("unknown step %r (%s)" % (step, " ".join(STEPS)))
            if action not in STEP_ACTIONS:
                raise CommandError("unknown action %r (%s)" % (action, " ".join(STEP_ACTIONS)))
            return self.apply(spec, lambda c: c.arm_step(step, action, "command"),
                              "at-step %s %s" % (step, action))
        if cmd == "disarm":
            spec = args[0] if args else None
            if spec in (None, "next"):
                self.pending = []
            if spec == "next":
                return "ok armed=none"
            t = self.targets(spec or "all", allow_next=False)
            for c in t:
                c.disarm()
            return self.ok_conns(t)
        if cmd == "random":
            if args == ["off"]:
                self.stop_random()
                return "ok off"
            if len(args) not in (1, 2, 3):
                raise CommandError("usage: random RATE [SEED [KINDS]] | random off")
            try:
                rate = float(args[0])
                seed = int(args[1]) if len(args) >= 2 else (
                    self.args.seed if self.args.seed is not None
                    else random.SystemRandom().randrange(1 << 31))
            except ValueError:
                raise CommandError("bad rate or seed")
            if not 0 < rate <= 1000:
                raise CommandError("rate must be in (0, 1000]")
            kinds = None
            if len(args) == 3:
                kinds = args[2].split(",")
                known = ("reset", "stall", "halfclose-client", "halfclose-server", "cut-tls")
                if not kinds or any(k not in known for k in kinds):
                    raise CommandError("KINDS: comma-separated among " + ",".join(known))
            self.start_random(rate, seed, kinds)
            return "ok rate=%g seed=%d" % (rate, seed)
        if cmd == "refuse":
            if args not in (["on"], ["off"]):
                raise CommandError("usage: refuse on|off")
            self.refuse = args[0] == "on"
            self.log("refuse %s" % args[0])
            return "ok refuse=%s" % args[0]
        if cmd == "wait":
            if len(args) not in (2, 3) or args[0] not in self.stats.c:
                raise CommandError("usage: wait STAT N [TIMEOUT] (STAT: %s)" % " ".join(STAT_NAMES))
            try:
                value = int(args[1])
                timeout = float(args[2]) if len(args) == 3 else 10.0
            except ValueError:
                raise CommandError("bad number")
            timeout = min(max(timeout, 0.0), 600.0)
            if await self.stats.wait(args[0], value, timeout):
                return "ok %s=%d" % (args[0], self.stats.c[args[0]])
            return "err timeout %s=%d" % (args[0], self.stats.c[args[0]])
        if cmd == "quit":
            return "ok bye"
        if cmd == "shutdown":
            self.log("shutdown by=command")
            asyncio.get_running_loop().call_soon(self.stop.set)
            return "ok"
        raise CommandError("unknown command %r" % cmd)

    # ---- start and stop
    async def start(self):
        a = self.args
        srv = await asyncio.start_server(self.on_client, a.listen[0], a.listen[1],
                                         limit=READ_LIMIT)
        self.servers.append(srv)
        listen_port = srv.sockets[0].getsockname()[1]
        lines = "listen=%d\n" % listen_port
        ctl_port = None
        if a.control:
            csrv = await asyncio.start_server(self.on_control, a.control[0], a.control[1],
                                              limit=CONTROL_LINE_MAX)
            self.servers.append(csrv)
            ctl_port = csrv.sockets[0].getsockname()[1]
            lines += "control=%d\n" % ctl_port
        self.log("start listen=%d control=%s target=%s:%d pid=%d" % (
            listen_port, ctl_port if ctl_port else "-", a.target[0], a.target[1], os.getpid()))
        if a.port_file:
            tmp = "%s.tmp.%d" % (a.port_file, os.getpid())
            with open(tmp, "w", encoding="ascii") as f:
                f.write(lines)
            os.replace(tmp, a.port_file)
        times = None if a.times == 0 else a.times
        for spec in a.cut_after_records or ():
            n, side, mode = spec
            self.arm_next(lambda c, n=n, side=side, mode=mode: c.arm_car(side, n, mode, "cli"),
                          "cut-after-records %d %s %s" % (n, side, mode), times)
        for step, action in a.at_step or ():
            self.arm_next(lambda c, step=step, action=action: c.arm_step(step, action, "cli"),
                          "at-step %s %s" % (step, action), times)
        if a.random_faults:
            seed = a.seed if a.seed is not None else random.SystemRandom().randrange(1 << 31)
            self.start_random(a.random_faults, seed)

    async def shutdown(self):
        self.stop_random()
        for s in self.servers:
            s.close()
        for c in list(self.conns.values()):
            c.teardown(rst=False)
        for w in list(self.control_writers):
            w.close()
        await asyncio.sleep(0.05)
        self.log("exit accepted=%d faults=%d" % (self.stats.c["accepted"], self.stats.c["faults"]))


async def amain(args, log):
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda _loop, ctx: log("asyncio %s %r" % (ctx.get("message"), ctx.get("exception"))))
    proxy = Proxy(args, log)
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, proxy.stop.set)
    try:
        await proxy.start()
    except OSError as e:
        sys.stderr.write("faultproxy: %s\n" % e)
        return 2
    await proxy.stop.wait()
    await proxy.shutdown()
    return 0


# ---- client side helpers (also used by --cmd)

def read_port_file(path, timeout=10.0):
    """Wait up to timeout seconds for the port file; return its key=value
    pairs as a dict of ints."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, encoding="ascii") as f:
                text = f.read()
            vals = {}
            for line in text.splitlines():
                k, sep, v = line.partition("=")
                if sep:
                    vals[k.strip()] = int(v)
            if "listen" in vals:
                return vals
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            raise TimeoutError("port file %s did not appear" % path)
        time.sleep(0.02)


class Control:
    """Control(host, port) or Control(port_file=F); .cmd(line) -> reply."""

    def __init__(self, host="127.0.0.1", port=None, timeout=30.0, port_file=None):
        if port_file is not None:
            port = read_port_file(port_file, timeout).get("control")
            if port is None:
                raise ValueError("no control= line in %s" % port_file)
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.f = self.sock.makefile("rb")

    def cmd(self, line):
        self.sock.sendall(line.strip().encode() + b"\n")
        reply = self.f.readline()
        if not reply:
            raise ConnectionError("control connection closed")
        return reply.decode("utf-8", "replace").rstrip("\r\n")

    __call__ = cmd

    def close(self):
        try:
            self.f.close()
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def cmd_main(args):
    target = args.cmd
    try:
        if ":" in target and not os.path.exists(target):
            host, port = parse_hostport(target, "--cmd")
            ctl = Control(host, port, timeout=args.cmd_timeout)
        else:
            ctl = Control(port_file=target, timeout=args.cmd_timeout)
    except (OSError, ValueError, argparse.ArgumentTypeError) as e:
        sys.stderr.write("faultproxy --cmd: %s\n" % e)
        return 2
    if args.command == ["-"]:
        cmds = [l.strip() for l in sys.stdin if l.strip() and not l.lstrip().startswith("#")]
    else:
        cmds = [" ".join(args.command)] if args.command else []
    if not cmds:
        sys.stderr.write("faultproxy --cmd: no command\n")
        return 2
    rc = 0
    with ctl:
        for c in cmds:
            try:
                reply = ctl.cmd(c)
            except OSError as e:
                sys.stderr.write("faultproxy --cmd: %s\n" % e)
                return 2
            print(reply, flush=True)
            if not reply.startswith("ok"):
                rc = 1
    return rc


def parse_args(argv):
    def hostport(what):
        return lambda s: parse_hostport(s, what)

    def car(s):
        parts = s.split(":")
        try:
            n = int(parts[0])
        except ValueError:
            raise argparse.ArgumentTypeError("N[:server|client[:cut|reset]]")
        side = parts[1] if len(parts) > 1 else "server"
        mode = parts[2] if len(parts) > 2 else "cut"
        if n < 0 or side not in ("server", "client") or mode not in ("cut", "reset") or len(parts) > 3:
            raise argparse.ArgumentTypeError("N[:server|client[:cut|reset]]")
        return n, side, mode

    def step(s):
        st, _, action = s.partition(":")
        action = action or "reset"
        if st not in STEPS or action not in STEP_ACTIONS:
            raise argparse.ArgumentTypeError("STEP[:ACTION], STEP in %s, ACTION in %s"
                                             % (",".join(STEPS), ",".join(STEP_ACTIONS)))
        return st, action

    ap = argparse.ArgumentParser(
        prog="faultproxy.py", description="TCP fault-injection proxy (see the module docstring)",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", type=hostport("--listen"), help="HOST:PORT to accept clients on")
    ap.add_argument("--target", type=hostport("--target"), help="HOST:PORT of the real server")
    ap.add_argument("--control", type=hostport("--control"), help="HOST:PORT of the control socket")
    ap.add_argument("--port-file", help="write listen=PORT and control=PORT here (atomically)")
    ap.add_argument("--log", help="append one line per event to this file")
    ap.add_argument("-v", "--verbose", action="store_true", help="copy log lines to stderr")
    ap.add_argument("--tls-from-start", action="store_true",
                    help="direct TLS: both directions are TLS records from byte 0")
    ap.add_argument("--seed", type=int, help="seed of the random fault sequence")
    ap.add_argument("--random-faults", type=float, metavar="RATE",
                    help="inject random faults at RATE per second")
    ap.add_argument("--stall-max", type=float, default=2.0, metavar="SECONDS",
                    help="longest random stall (default 2)")
    ap.add_argument("--cut-after-records", type=car, action="append", metavar="N[:DIR[:MODE]]",
                    help="arm cut-after-records on new connections")
    ap.add_argument("--at-step", type=step, action="append", metavar="STEP[:ACTION]",
                    help="arm an at-step fault on new connections")
    ap.add_argument("--times", type=int, default=1, metavar="K",
                    help="command-line arms apply to the first K connections (0: all)")
    ap.add_argument("--cmd", metavar="TARGET",
                    help="client mode: send COMMAND to the control socket HOST:PORT or port file")
    ap.add_argument("--cmd-timeout", type=float, default=30.0)
    ap.add_argument("command", nargs="*", help="control command for --cmd")
    args = ap.parse_args(argv)
    if args.cmd is None:
        if args.command:
            ap.error("unexpected arguments %s (commands need --cmd)" % " ".join(args.command))
        if not args.listen or not args.target:
            ap.error("--listen and --target are required")
        if args.random_faults is not None and not 0 < args.random_faults <= 1000:
            ap.error("--random-faults must be in (0, 1000]")
        if args.times < 0:
            ap.error("--times must be >= 0")
    return args


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.cmd is not None:
        return cmd_main(args)
    global asyncio
    import asyncio
    log = Log(args.log, args.verbose)
    try:
        return asyncio.run(amain(args, log))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
