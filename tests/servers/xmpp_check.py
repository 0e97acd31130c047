#!/usr/bin/python3
"""Client side of tests/servers/check.sh. Reads the server's DIR/env values
from the environment (source DIR/env first).

  xmpp_check.py features [--tls12]
      raw probe (no XMPP library): stream features before TLS and after
      STARTTLS, and after direct TLS, sending from='alice@DOMAIN' in the
      stream header (Prosody's FAST is only offered then). --tls12 caps TLS
      at 1.2 (channel binding tls-unique exists only there).
  xmpp_check.py login
      slixmpp: alice over STARTTLS and over direct TLS, certificate verified
      against XMPP_CAFILE; bob online; alice sends bob a message, bob must
      receive it.
  xmpp_check.py badcert
      slixmpp with verification on must fail to log in.
Exit status 0 on success.
"""
import asyncio
import logging
import os
import re
import socket
import ssl
import sys
import time
import xml.etree.ElementTree as ET

TIMEOUT = 15.0
NS_STREAM = "http://etherx.jabber.org/streams"
NS_TLS = "urn:ietf:params:xml:ns:xmpp-tls"
NS_SASL = "urn:ietf:params:xml:ns:xmpp-sasl"
NS_SASL2 = "urn:xmpp:sasl:2"
NS_FAST = "urn:xmpp:fast:0"


def env(name):
    v = os.environ.get(name)
    if not v:
        sys.exit("xmpp_check.py: %s not set (source DIR/env)" % name)
    return v


# ---------------------------------------------------------------- raw probe

class Probe:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def send(self, s):
        self.sock.sendall(s.encode())

    def read_until(self, pattern):
        deadline = time.monotonic() + TIMEOUT
        rx = re.compile(pattern, re.S)
        while True:
            m = rx.search(self.buf)
            if m:
                out = self.buf[:m.end()]
                self.buf = self.buf[m.end():]
                return out.decode()
            self.sock.settimeout(max(0.1, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("connection closed; got %r" % self.buf[:500])
            self.buf += chunk


def open_stream(p, domain, jid):
    p.send("<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
           "xmlns:stream='%s' to='%s' from='%s' version='1.0' xml:lang='en'>"
           % (NS_STREAM, domain, jid))
    p.read_until(rb"<(stream:)?stream[^>]*>")
    raw = p.read_until(rb"</(stream:)?features>|<(stream:)?features[^>]*/>")
    return raw


def describe_features(raw):
    """One line per interesting feature."""
    # make the fragment parseable: declare the stream prefix
    frag = raw
    if frag.startswith("<stream:features"):
        frag = frag.replace("<stream:features",
                            "<stream:features xmlns:stream='%s'" % NS_STREAM, 1)
    root = ET.fromstring(frag)
    lines = []
    for child in root:
        ns, _, tag = child.tag[1:].partition("}")
        if ns == NS_TLS:
            req = child.find("{%s}required" % NS_TLS) is not None
            lines.append("starttls%s" % (" (required)" if req else ""))
        elif ns == NS_SASL:
            mechs = [m.text for m in child.findall("{%s}mechanism" % NS_SASL)]
            lines.append("sasl: " + " ".join(mechs))
        elif ns == NS_SASL2:
            mechs = [m.text for m in child.findall("{%s}mechanism" % NS_SASL2)]
            lines.append("sasl2: " + " ".join(mechs))
            inline = child.find("{%s}inline" % NS_SASL2)
            if inline is not None:
                for f in inline:
                    ins, _, itag = f.tag[1:].partition("}")
                    if ins == NS_FAST:
                        fm = [m.text for m in f.findall("{%s}mechanism" % NS_FAST)]
                        lines.append("  sasl2 inline: fast (%s) %s" % (ins, " ".join(fm)))
                    elif itag == "bind":
                        subs = []
                        for x in f.iter():
                            if x.get("var") and x.get("var") not in subs:
                                subs.append(x.get("var"))
                        lines.append("  sasl2 inline: bind2 (%s)%s" % (
                            ins, " inline: " + " ".join(subs) if subs else ""))
                    else:
                        lines.append("  sasl2 inline: %s (%s)" % (itag, ins))
        elif tag == "sasl-channel-binding":
            types = [c.get("type") for c in child]
            lines.append("channel-binding types: " + " ".join(types))
        else:
            lines.append("%s (%s)" % (tag, ns))
    return lines


def tls_context(tls12):
    ctx = ssl.create_default_context(cafile=env("XMPP_CAFILE"))
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    return ctx


def cmd_features(args):
    tls12 = "--tls12" in args
    host, domain = env("XMPP_HOST"), env("XMPP_DOMAIN")
    jid = env("ALICE_JID")
    ctx = tls_context(tls12)

    # STARTTLS port
    s = socket.create_connection((host, int(env("XMPP_PORT"))), timeout=TIMEOUT)
    p = Probe(s)
    pre = open_stream(p, domain, jid)
    print("  STARTTLS port, before TLS:")
    for line in describe_features(pre):
        print("    " + line)
    p.send("<starttls xmlns='%s'/>" % NS_TLS)
    p.read_until(rb"<proceed[^>]*/>")
    if p.buf:
        raise RuntimeError("data after <proceed/>")
    t = ctx.wrap_socket(s, server_hostname=domain)
    p = Probe(t)
    post = open_stream(p, domain, jid)
    print("  STARTTLS port, after TLS (%s, %s):" % (t.version(), t.cipher()[0]))
    for line in describe_features(post):
        print("    " + line)
    t.close()

    # direct TLS port
    s = socket.create_connection((host, int(env("XMPP_TLS_PORT"))), timeout=TIMEOUT)
    t = ctx.wrap_socket(s, server_hostname=domain)
    p = Probe(t)
    feats = open_stream(p, domain, jid)
    print("  direct TLS port (%s, ALPN %s):" % (t.version(), t.selected_alpn_protocol()))
    for line in describe_features(feats):
        print("    " + line)
    t.close()
    return 0


# ---------------------------------------------------------------- slixmpp

def load_slixmpp():
    try:
        import slixmpp  # noqa: F401
    except ImportError:
        sys.exit("xmpp_check.py: slixmpp missing (apt-get install python3-slixmpp; "
                 "run with /usr/bin/python3)")
    return slixmpp


def make_client(slixmpp, jid, password):
    class Client(slixmpp.ClientXMPP):
        def __init__(self):
            super().__init__(jid, password)
            self.ca_certs = env("XMPP_CAFILE")
            self.mechanism = None
            self.started = asyncio.get_event_loop().create_future()
            self.add_event_handler("session_start", self._started)
            self.add_event_handler("failed_all_auth", self._fail("authentication failed"))
            self.add_event_handler("connection_failed", self._fail_arg)
            self.add_event_handler("ssl_invalid_chain", self._fail_arg)
            self.add_event_handler("disconnected", self._fail("disconnected"))
            self.add_event_handler("auth_success", self._auth_ok)

        async def get_dns_records(self, domain, port=None):
            # never ask DNS: the server is on XMPP_HOST, whatever the domain
            return [(domain, env("XMPP_HOST"), self.address[1])]

        def _auth_ok(self, _stanza):
            try:
                self.mechanism = self.plugin["feature_mechanisms"].mech.name
            except (KeyError, AttributeError):
                self.mechanism = "?"

        def _started(self, _):
            self.send_presence()
            if not self.started.done():
                self.started.set_result(True)

        def _fail(self, why):
            def h(*_a):
                if not self.started.done():
                    self.started.set_exception(RuntimeError(why))
            return h

        def _fail_arg(self, err):
            if not self.started.done():
                self.started.set_exception(RuntimeError(str(err)))

    c = Client()
    c.register_plugin("xep_0199")
    return c


async def login(slixmpp, jid, password, direct):
    c = make_client(slixmpp, jid, password)
    port = int(env("XMPP_TLS_PORT" if direct else "XMPP_PORT"))
    t0 = time.monotonic()
    c.connect((env("XMPP_HOST"), port), use_ssl=direct,
              force_starttls=not direct, disable_starttls=direct)
    # slixmpp leaves the TLS server name empty (no SNI, no name check) when
    # connecting to an IP address; verify against the XMPP domain instead.
    c.default_domain = env("XMPP_DOMAIN")
    await asyncio.wait_for(c.started, TIMEOUT)
    return c, (time.monotonic() - t0) * 1000


async def run_login():
    slixmpp = load_slixmpp()
    bob, t_bob = await login(slixmpp, env("BOB_JID"), env("BOB_PASSWORD"), False)
    got = asyncio.get_event_loop().create_future()

    def on_msg(msg):
        if msg["type"] in ("chat", "normal") and not got.done():
            got.set_result((str(msg["from"]), msg["body"]))
    bob.add_event_handler("message", on_msg)

    ok = True
    for direct in (False, True):
        what = "direct TLS" if direct else "STARTTLS"
        alice, ms = await login(slixmpp, env("ALICE_JID"), env("ALICE_PASSWORD"), direct)
        print("  alice logged in over %s in %.0f ms (SASL %s, bound %s)"
              % (what, ms, alice.mechanism, alice.boundjid.full))
        if not direct:
            body = "hello bob %d" % os.getpid()
            alice.send_message(mto=env("BOB_JID"), mbody=body, mtype="chat")
            try:
                frm, rbody = await asyncio.wait_for(got, TIMEOUT)
            except asyncio.TimeoutError:
                print("  FAIL: bob did not receive alice's message")
                ok = False
            else:
                good = rbody == body and frm.startswith(env("ALICE_JID") + "/")
                print("  bob received %r from %s: %s" % (rbody, frm, "ok" if good else "WRONG"))
                ok = ok and good
        alice.disconnect()
    bob.disconnect()
    await asyncio.sleep(0.1)
    return ok


async def run_badcert():
    slixmpp = load_slixmpp()
    ok = True
    for direct in (False, True):
        what = "direct TLS" if direct else "STARTTLS"
        try:
            c, _ = await login(slixmpp, env("ALICE_JID"), env("ALICE_PASSWORD"), direct)
        except (RuntimeError, asyncio.TimeoutError, OSError, ssl.SSLError) as e:
            print("  %s: rejected as expected (%s)" % (what, str(e).splitlines()[0][:120] or type(e).__name__))
        else:
            print("  FAIL: %s: logged in despite certificate %s" % (what, env("XMPP_BAD_CERT")))
            c.disconnect()
            ok = False
    return ok


def main(argv):
    logging.basicConfig(level=logging.CRITICAL)
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd = argv[1]
    if cmd == "features":
        return cmd_features(argv[2:])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    if cmd == "login":
        return 0 if loop.run_until_complete(run_login()) else 1
    if cmd == "badcert":
        return 0 if loop.run_until_complete(run_badcert()) else 1
    sys.stderr.write("unknown command %s\n" % cmd)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
