"""libxmpp.py: a small ctypes binding of libxmpp, driven by asyncio.

The library's I/O driver (xmpp/client.h) owns sockets but never the loop:
it says which descriptors to watch and when to wake it, and is told what
happened. Here asyncio's own loop does the watching:

    the driver says                    this binding does
    socket_fn(fd, IN and/or OUT)       loop.add_reader / loop.add_writer
    socket_fn(fd, NONE)                loop.remove_reader / remove_writer
    timer_fn(ms >= 0)                  loop.call_later(ms / 1000, ...)
    timer_fn(-1)                       cancel that call
    fd ready / timer due               xmpp_client_socket_action(c, fd or -1, ev)

    import asyncio, libxmpp

    async def main():
        ctx = libxmpp.Context()
        client = libxmpp.Client(ctx, "alice@example.org", "secret")
        client.add_handler("message", lambda st: print(st.child_text("body")))
        client.connect()
        print("logged in as", await client.ready)
        client.send_message("bob@example.org", "hello")
        ...
        client.close()
        print("ended:", await client.closed)
        client.free()
        ctx.free()

    asyncio.run(main())

The library is found through the LIBXMPP_SO environment variable (a path,
e.g. build/lib/.libs/libxmpp.so), else as libxmpp.so.0.

Only the functions the examples need are bound; the others follow the same
pattern (see _PROTOTYPES). Strings cross as UTF-8.
"""

import asyncio
import ctypes
import os
from ctypes import (CFUNCTYPE, POINTER, byref, c_char_p, c_int, c_long, c_size_t,
                    c_uint, c_ulong, c_void_p)

__all__ = ["Error", "Context", "Client", "Stanza", "version", "bare_jid",
           "IO_IN", "IO_OUT", "IO_ERROR", "CAUSES"]

# ---- constants (from the public headers)
XMPP_OK = 0
XMPP_ERR_CLOSED = -8
IO_NONE, IO_IN, IO_OUT, IO_ERROR = 0, 1, 2, 4
LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_NONE = range(5)
CAUSE_NONE, CAUSE_LOCAL_CLOSE, CAUSE_DNS, CAUSE_TCP = 0, 1, 2, 3
#: xmpp_disconnect_cause values, by number
CAUSES = ("none", "local-close", "dns", "tcp", "tls", "tls-verify", "tls-required",
          "sasl", "stream-error", "protocol", "timeout", "nomem", "remote-close")

# ---- callback types (every one carries a user_data pointer; unused here,
# since Python closures carry their own state)
LOG_FN = CFUNCTYPE(None, c_int, c_char_p, c_char_p, c_void_p)
READY_FN = CFUNCTYPE(None, c_void_p, c_char_p, c_void_p)
CLOSED_FN = CFUNCTYPE(None, c_void_p, c_int, c_void_p)
HANDLER_FN = CFUNCTYPE(c_int, c_void_p, c_void_p, c_void_p)
SOCKET_FN = CFUNCTYPE(None, c_void_p, c_int, c_int, c_void_p)
TIMER_FN = CFUNCTYPE(None, c_void_p, c_long, c_void_p)

_PP = POINTER(c_void_p)
_PROTOTYPES = {
    # name: (restype, argtypes)
    "xmpp_version_string": (c_char_p, []),
    "xmpp_strerror": (c_char_p, [c_int]),
    "xmpp_ctx_new": (c_int, [_PP, c_void_p]),
    "xmpp_ctx_free": (None, [c_void_p]),
    "xmpp_ctx_set_log": (None, [c_void_p, LOG_FN, c_int, c_void_p]),
    "xmpp_free": (None, [c_void_p, c_void_p]),
    "xmpp_jid_parse": (c_int, [_PP, c_void_p, c_char_p]),
    "xmpp_jid_bare": (c_char_p, [c_void_p]),
    "xmpp_jid_free": (None, [c_void_p]),
    "xmpp_stanza_unref": (None, [c_void_p]),
    "xmpp_stanza_name": (c_char_p, [c_void_p]),
    "xmpp_stanza_attr": (c_char_p, [c_void_p, c_char_p]),
    "xmpp_stanza_child": (c_void_p, [c_void_p, c_char_p, c_char_p]),
    "xmpp_stanza_text": (c_int, [c_void_p, _PP, POINTER(c_size_t)]),
    "xmpp_stanza_serialize": (c_int, [c_void_p, c_char_p, _PP, POINTER(c_size_t)]),
    "xmpp_message_new": (c_int, [_PP, c_void_p, c_char_p, c_char_p, c_char_p, c_char_p]),
    "xmpp_presence_new": (c_int, [_PP, c_void_p, c_char_p, c_char_p, c_char_p]),
    "xmpp_tls_config_new": (c_int, [_PP, c_void_p]),
    "xmpp_tls_config_unref": (None, [c_void_p]),
    "xmpp_tls_config_use_system_trust": (c_int, [c_void_p, c_int]),
    "xmpp_tls_config_add_cafile": (c_int, [c_void_p, c_char_p]),
    "xmpp_session_options_new": (c_int, [_PP, c_void_p]),
    "xmpp_session_options_free": (None, [c_void_p]),
    "xmpp_session_options_set_jid": (c_int, [c_void_p, c_char_p]),
    "xmpp_session_options_set_password": (c_int, [c_void_p, c_char_p]),
    "xmpp_session_options_set_tls_config": (c_int, [c_void_p, c_void_p]),
    "xmpp_session_options_set_callbacks": (c_int, [c_void_p, READY_FN, CLOSED_FN, c_void_p]),
    "xmpp_session_send": (c_int, [c_void_p, c_void_p]),
    "xmpp_session_add_handler": (c_int, [c_void_p, c_char_p, c_char_p, c_char_p, HANDLER_FN,
                                         c_void_p, POINTER(c_ulong)]),
    "xmpp_session_get_error": (c_int, [c_void_p, POINTER(c_int), POINTER(c_char_p)]),
    "xmpp_session_sasl_condition": (c_char_p, [c_void_p]),
    "xmpp_client_new": (c_int, [_PP, c_void_p, c_void_p]),
    "xmpp_client_free": (None, [c_void_p]),
    "xmpp_client_session": (c_void_p, [c_void_p]),
    "xmpp_client_set_server": (c_int, [c_void_p, c_char_p, c_uint]),
    "xmpp_client_set_socket_fn": (c_int, [c_void_p, SOCKET_FN, c_void_p]),
    "xmpp_client_set_timer_fn": (c_int, [c_void_p, TIMER_FN, c_void_p]),
    "xmpp_client_connect": (c_int, [c_void_p]),
    "xmpp_client_socket_action": (c_int, [c_void_p, c_int, c_int]),
    "xmpp_client_close": (c_int, [c_void_p]),
    "xmpp_client_error": (c_char_p, [c_void_p]),
}


def _load():
    lib = ctypes.CDLL(os.environ.get("LIBXMPP_SO") or "libxmpp.so.0")
    for name, (restype, argtypes) in _PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_lib = _load()


def _b(s):
    return None if s is None else s.encode("utf-8")


def _s(b):
    return None if b is None else b.decode("utf-8", "replace")


class Error(Exception):
    """A negative xmpp_error code, with xmpp_strerror()'s text."""

    def __init__(self, code, what=""):
        self.code = code
        text = _s(_lib.xmpp_strerror(code))
        super().__init__(f"{what}: {text}" if what else text)


def _check(rc, what=""):
    if rc < 0:
        raise Error(rc, what)
    return rc


def version():
    """The run-time version of the library, "MAJOR.MINOR.MICRO"."""
    return _s(_lib.xmpp_version_string())


class Context:
    """An xmpp_ctx: the allocator and log shared by the objects made with it.
    It must outlive them: free it last."""

    def __init__(self, log=None, level=LOG_WARN):
        ptr = c_void_p()
        _check(_lib.xmpp_ctx_new(byref(ptr), None), "xmpp_ctx_new")
        self._ptr = ptr.value
        self._log = None
        if log is not None:
            # log(level, area, message); the strings are copied into Python
            self._log = LOG_FN(lambda lv, area, msg, ud: log(lv, _s(area), _s(msg)))
            _lib.xmpp_ctx_set_log(self._ptr, self._log, level, None)

    @property
    def ptr(self):
        if self._ptr is None:
            raise ValueError("the context was freed")
        return self._ptr

    def free(self):
        if self._ptr is not None:
            _lib.xmpp_ctx_free(self._ptr)
            self._ptr = None


def bare_jid(ctx, jid):
    """The prepared bare JID of a JID string (RFC 7622): compare these,
    never raw strings. Raises Error for an invalid JID."""
    j = c_void_p()
    _check(_lib.xmpp_jid_parse(byref(j), ctx.ptr, _b(jid)), f"JID {jid!r}")
    try:
        return _s(_lib.xmpp_jid_bare(j))
    finally:
        _lib.xmpp_jid_free(j)


class Stanza:
    """A stanza lent to a handler. It is borrowed from the session: valid
    only while the handler runs (it is invalidated when the handler
    returns)."""

    def __init__(self, ctx, ptr):
        self._ctx = ctx
        self._ptr = ptr

    def _p(self):
        if self._ptr is None:
            raise ValueError("the stanza is only valid inside its handler")
        return self._ptr

    @property
    def name(self):
        return _s(_lib.xmpp_stanza_name(self._p()))

    def attr(self, name):
        return _s(_lib.xmpp_stanza_attr(self._p(), _b(name)))

    type = property(lambda self: self.attr("type"))
    from_ = property(lambda self: self.attr("from"))
    to = property(lambda self: self.attr("to"))
    id = property(lambda self: self.attr("id"))

    def child_text(self, name, ns=None):
        """The text of the first child element called name, or None."""
        child = _lib.xmpp_stanza_child(self._p(), _b(name), _b(ns))
        if not child:
            return None
        out = c_void_p()
        _check(_lib.xmpp_stanza_text(child, byref(out), None), "xmpp_stanza_text")
        try:
            return _s(ctypes.string_at(out.value))
        finally:
            _lib.xmpp_free(self._ctx.ptr, out)  # memory handed to us: free it

    def xml(self):
        out = c_void_p()
        size = c_size_t()
        _check(_lib.xmpp_stanza_serialize(self._p(), b"jabber:client", byref(out),
                                          byref(size)), "xmpp_stanza_serialize")
        try:
            return _s(ctypes.string_at(out.value, size.value))
        finally:
            _lib.xmpp_free(self._ctx.ptr, out)


def _split_server(spec):
    """'host:port', '[v6]:port' or 'host' -> (host, port)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else 5222
    host, sep, port = spec.rpartition(":")
    return (host, int(port)) if sep else (spec, 5222)


class Client:
    """An XMPP client connection (xmpp_client), driven by an asyncio loop.

    ready   a future: the bound full JID, or an exception if the session
            ended first;
    closed  a future: (cause, text) once the session has ended and the
            sockets are closed (cause: one of CAUSES), or the exception a
            callback raised (the client is then closed).
    """

    def __init__(self, ctx, jid, password, *, server=None, cafile=None, loop=None):
        self._ctx = ctx
        self._loop = loop or asyncio.get_running_loop()
        self._ptr = None
        self._readers, self._writers = set(), set()
        self._timer = None
        self._depth = 0  # > 0 while the library runs (callbacks may fire)
        self._error = None  # the first exception raised by a callback
        self._handlers = []  # ctypes callbacks must outlive the client
        self.ready = self._loop.create_future()
        self.closed = self._loop.create_future()
        self.cause = None

        self._c_ready = READY_FN(self._guard(self._on_ready))
        self._c_closed = CLOSED_FN(self._guard(self._on_closed))
        self._c_socket = SOCKET_FN(self._guard(self._on_socket))
        self._c_timer = TIMER_FN(self._guard(self._on_timer))

        opts, tls, client = c_void_p(), c_void_p(), c_void_p()
        _check(_lib.xmpp_session_options_new(byref(opts), ctx.ptr), "options")
        try:
            _check(_lib.xmpp_session_options_set_jid(opts, _b(jid)), f"JID {jid!r}")
            _check(_lib.xmpp_session_options_set_password(opts, _b(password)), "password")
            _check(_lib.xmpp_tls_config_new(byref(tls), ctx.ptr), "TLS configuration")
            try:
                if cafile is not None:  # only these CAs, not the system store
                    _lib.xmpp_tls_config_use_system_trust(tls, 0)
                    _check(_lib.xmpp_tls_config_add_cafile(tls, _b(cafile)), cafile)
                _check(_lib.xmpp_session_options_set_tls_config(opts, tls), "TLS")
            finally:
                _lib.xmpp_tls_config_unref(tls)  # the options hold their own reference
            _check(_lib.xmpp_session_options_set_callbacks(opts, self._c_ready,
                                                           self._c_closed, None), "callbacks")
            _check(_lib.xmpp_client_new(byref(client), ctx.ptr, opts), "xmpp_client_new")
        finally:
            _lib.xmpp_session_options_free(opts)  # the client copied them
        self._ptr = client.value
        if server is not None:
            try:
                host, port = _split_server(server)
                _check(_lib.xmpp_client_set_server(self._ptr, _b(host), port),
                       f"server {server}")
            except BaseException:
                self.free()
                raise
        _lib.xmpp_client_set_socket_fn(self._ptr, self._c_socket, None)
        _lib.xmpp_client_set_timer_fn(self._ptr, self._c_timer, None)

    # ---- the application's side
    @property
    def session(self):
        """The current xmpp_session pointer. Asked for at every use: it
        changes when the server redirects the client (see-other-host)."""
        return _lib.xmpp_client_session(self._ptr)

    def add_handler(self, name, fn, ns=None, type=None):
        """Calls fn(stanza) for inbound stanzas of element name (message,
        presence, iq), the namespace ns of their first child and type (None:
        any). fn returns True to stop other handlers from seeing it."""
        ctx = self._ctx

        def handler(session, ptr, ud):
            st = Stanza(ctx, ptr)
            try:
                return 1 if fn(st) else 0
            finally:
                st._ptr = None  # borrowed: gone after the call

        c_fn = HANDLER_FN(self._guard(handler, 0))
        self._handlers.append(c_fn)
        handle = c_ulong()
        _check(_lib.xmpp_session_add_handler(self.session, _b(name), _b(ns), _b(type), c_fn,
                                             None, byref(handle)), "add_handler")
        return handle.value

    def connect(self):
        """Starts resolving and connecting; `await client.ready` for the login."""
        self._call(_lib.xmpp_client_connect, flush=False)

    def send_message(self, to, body, type="chat", id=None):
        st = c_void_p()
        _check(_lib.xmpp_message_new(byref(st), self._ctx.ptr, _b(type), _b(to), _b(id),
                                     _b(body)), "message")
        self._send(st)

    def send_presence(self, type=None, to=None):
        st = c_void_p()
        _check(_lib.xmpp_presence_new(byref(st), self._ctx.ptr, _b(type), _b(to), None),
               "presence")
        self._send(st)

    def close(self):
        """Closes the stream politely; `await client.closed` for the end.
        Idempotent, callable from handlers."""
        if self._ptr is not None:
            self._call(_lib.xmpp_client_close)

    def free(self):
        """Frees the client (after `closed` is done, or to abort it)."""
        if self._ptr is None:
            return
        if self._depth > 0:
            raise RuntimeError("Client.free() called from a callback of the client")
        self._depth += 1  # the driver tells socket_fn to forget its descriptor
        _lib.xmpp_client_free(self._ptr)
        self._depth -= 1
        self._ptr = None
        for fd in list(self._readers):
            self._loop.remove_reader(fd)
        for fd in list(self._writers):
            self._loop.remove_writer(fd)
        self._readers.clear()
        self._writers.clear()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _send(self, st):
        try:
            _check(_lib.xmpp_session_send(self.session, st), "send")
        finally:
            _lib.xmpp_stanza_unref(st)  # the session serialised it at once
        self._flush()

    def _flush(self):
        # From a callback the driver writes what was queued on its way out.
        # From anywhere else the stanza is only queued: socket_action(-1)
        # writes it at once (xmpp/client.h).
        if self._depth == 0:
            self._action(-1, 0)

    def _call(self, fn, flush=True):
        self._depth += 1
        try:
            fn(self._ptr)
        finally:
            self._depth -= 1
        if flush:
            self._flush()

    # ---- the loop's side
    def _action(self, fd, events):
        if self._ptr is None:
            return
        self._depth += 1
        try:
            rc = _lib.xmpp_client_socket_action(self._ptr, fd, events)
        finally:
            self._depth -= 1
        if rc == XMPP_ERR_CLOSED:
            self._finish()

    def _on_socket(self, c, fd, events, ud):
        want = {IO_IN: (self._readers, self._loop.add_reader, self._loop.remove_reader),
                IO_OUT: (self._writers, self._loop.add_writer, self._loop.remove_writer)}
        for bit, (watched, add, remove) in want.items():
            if events & bit and fd not in watched:
                add(fd, self._action, fd, bit)
                watched.add(fd)
            elif not events & bit and fd in watched:
                remove(fd)
                watched.discard(fd)

    def _on_timer(self, c, timeout_ms, ud):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if timeout_ms >= 0:
            self._timer = self._loop.call_later(timeout_ms / 1000.0, self._on_timeout)

    def _on_timeout(self):
        self._timer = None
        self._action(-1, 0)

    # ---- session callbacks
    def _on_ready(self, session, jid, ud):
        if not self.ready.done():
            self.ready.set_result(_s(jid))

    def _on_closed(self, session, cause, ud):
        text = c_char_p()
        _lib.xmpp_session_get_error(session, None, byref(text))
        detail = _s(text.value)
        if cause in (CAUSE_DNS, CAUSE_TCP) and self._ptr is not None:  # the driver knows more
            detail = _s(_lib.xmpp_client_error(self._ptr)) or detail
        self.cause = (CAUSES[cause] if 0 <= cause < len(CAUSES) else str(cause), detail)

    def _finish(self):
        cause = self.cause or ("none", None)
        if not self.ready.done():
            self.ready.set_exception(self._error or ConnectionError(
                f"session ended before it was ready: {cause[0]}: {cause[1]}"))
        if not self.closed.done():
            if self._error is not None:
                self.closed.set_exception(self._error)
            else:
                self.closed.set_result(cause)

    def _guard(self, fn, default=None):
        # An exception cannot cross the C library: keep the first one, close
        # the client (from the loop, not from inside the library), and raise
        # it from `closed`.
        def call(*args):
            try:
                return fn(*args)
            except BaseException as e:  # noqa: BLE001 - re-raised from `closed`
                if self._error is None:
                    self._error = e
                    self._loop.call_soon(self.close)
                return default
        return call
