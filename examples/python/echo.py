#!/usr/bin/python3
"""echo.py: the echo bot of examples/echo-bot.c in Python, through the
ctypes binding libxmpp.py, driven by asyncio's own event loop.

    echo.py                  the bot: answers every chat message with its
                             body, to the resource that sent it
    echo.py send TO TEXT     sends TEXT to TO, waits for a message from TO's
                             account and prints it

Environment:
    XMPP_JID, XMPP_PASSWORD  the account (required)
    XMPP_SERVER              HOST:PORT to connect to instead of looking up
                             SRV records ([::1]:5222 for IPv6)
    XMPP_CAFILE              trusted CAs (PEM) instead of the system store
    ECHO_BOT_MAX             the bot exits (status 0) after this many echoes
    ECHO_TIMEOUT             send: seconds to wait for the answer (10)
    LIBXMPP_SO               the library (default: libxmpp.so.0)

Prints "ready as FULL-JID" once logged in; the bot "echoed to JID: TEXT"
for each echo, send "answer from JID: TEXT". SIGINT and SIGTERM close the
stream politely. Exit status: 0 clean end, 1 failure (session, no answer),
2 usage.
"""

import asyncio
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import libxmpp  # noqa: E402


def say(*args):
    print(*args, flush=True)


def echo_handler(client, ctx, state):
    """Echo chat and normal messages that have a body, never our own."""

    def on_message(msg):
        if msg.type not in (None, "chat", "normal") or msg.from_ is None:
            return True  # never answer errors, groupchat or headlines
        body = msg.child_text("body")
        if body is None or libxmpp.bare_jid(ctx, msg.from_) == state["self"]:
            return True
        client.send_message(msg.from_, body, type=msg.type or "chat")
        state["echoes"] += 1
        say(f"echoed to {msg.from_}: {body}")
        if 0 < state["max"] <= state["echoes"]:
            client.close()  # the echo is queued ahead of </stream:stream>
        return True

    return on_message


async def run(argv):
    jid, password = os.environ.get("XMPP_JID"), os.environ.get("XMPP_PASSWORD")
    if not jid or password is None:
        print("echo.py: set XMPP_JID and XMPP_PASSWORD", file=sys.stderr)
        return 2
    sending = len(argv) == 3 and argv[0] == "send"
    if argv and not sending:
        print("usage: echo.py [send TO TEXT]", file=sys.stderr)
        return 2

    ctx = libxmpp.Context()
    client = None
    try:
        client = libxmpp.Client(ctx, jid, password, server=os.environ.get("XMPP_SERVER"),
                                cafile=os.environ.get("XMPP_CAFILE"))
        state = {"self": libxmpp.bare_jid(ctx, jid), "echoes": 0,
                 "max": int(os.environ.get("ECHO_BOT_MAX", "0"))}
        answer = asyncio.get_running_loop().create_future()
        if sending:
            peer = libxmpp.bare_jid(ctx, argv[1])

            def on_answer(msg):
                body = msg.child_text("body")
                if (msg.from_ and body is not None and not answer.done() and
                        libxmpp.bare_jid(ctx, msg.from_) == peer):
                    answer.set_result((msg.from_, body))
                return True

            client.add_handler("message", on_answer)
        else:
            client.add_handler("message", echo_handler(client, ctx, state))
    except (libxmpp.Error, ValueError) as e:
        print(f"echo.py: {e}", file=sys.stderr)
        if client:
            client.free()
        ctx.free()
        return 2

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, client.close)

    status = 0
    client.connect()
    try:
        say(f"ready as {await client.ready}")
        # initial presence (RFC 6121 4.2), so that the server routes
        # messages sent to our bare JID to us
        client.send_presence()
        if sending:
            client.send_message(argv[1], argv[2])
            say(f"sent to {argv[1]}: {argv[2]}")
            timeout = float(os.environ.get("ECHO_TIMEOUT", "10"))
            done, _ = await asyncio.wait([answer, client.closed], timeout=timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
            if answer.done():
                say("answer from %s: %s" % answer.result())
            else:
                print("echo.py: no answer", file=sys.stderr)
                status = 1
            client.close()
        cause, text = await client.closed
        if cause != "local-close":
            print(f"echo.py: session ended: {cause}: {text or 'connection closed'}",
                  file=sys.stderr)
            status = 1
    except (ConnectionError, libxmpp.Error) as e:
        await client.closed
        print(f"echo.py: {e}", file=sys.stderr)
        status = 1
    finally:
        client.free()
        ctx.free()
    return status


if __name__ == "__main__":
    sys.exit(asyncio.run(run(sys.argv[1:])))
