/* echo-bot: the smallest useful libxmpp program. It logs in, announces its
 * presence and sends the body of every chat message back to whoever sent
 * it. The I/O is left to the driver's own poll(2) loop,
 * xmpp_client_run_once(): the right choice for a bot or a tool that owns
 * its process. Programs that already have an event loop should look at
 * glib-client.c and libuv-client.c instead; sansio-client.c does every
 * syscall itself.
 *
 * Configuration comes from the environment:
 *
 *   XMPP_JID       the account, e.g. bot@example.org (required)
 *   XMPP_PASSWORD  its password (required; never on the command line)
 *   XMPP_SERVER    HOST:PORT to connect to instead of looking up the
 *                  domain's SRV records; HOST may be an IP literal
 *                  ([::1]:5222 for IPv6)
 *   XMPP_CAFILE    a PEM file of trusted CAs instead of the system store
 *   ECHO_BOT_MAX   exit (status 0) after this many echoes (for tests)
 *
 * It prints "ready as FULL-JID" on stdout once logged in. The exit status
 * is 0 after a clean end, 1 when the session failed, 2 for bad settings.
 *
 *   XMPP_JID=bot@example.org XMPP_PASSWORD=secret ./echo-bot
 */
#define _POSIX_C_SOURCE 200809L /* sigaction with -std=c99 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xmpp/xmpp.h>

struct bot {
    xmpp_ctx *ctx;
    xmpp_client *client;
    long max;      /* ECHO_BOT_MAX, 0 = no limit */
    long echoes;
    int ready;     /* the session was bound once */
    int failed;    /* the session ended for another reason than our close */
};

/* Set by SIGINT/SIGTERM; the loop below then closes the stream politely. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* ---- the XMPP side: identical in every example of this directory */

/* Bound: send initial presence (RFC 6121 §4.2), so that the server routes
 * messages sent to our bare JID to this session. */
static void on_ready(xmpp_session *s, const char *jid, void *user_data) {
    struct bot *b = user_data;
    xmpp_stanza *presence = NULL;
    int rc = xmpp_presence_new(&presence, b->ctx, NULL, NULL, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, presence);
    xmpp_stanza_unref(presence);
    if (rc != XMPP_OK) {
        fprintf(stderr, "echo-bot: cannot send presence: %s\n", xmpp_strerror(rc));
        b->failed = 1;
        xmpp_client_close(b->client);
        return;
    }
    b->ready = 1;
    printf("ready as %s\n", jid);
    fflush(stdout);
}

/* The session ended. The client must not be freed from here: the loop
 * sees XMPP_ERR_CLOSED from xmpp_client_run_once() and frees it. */
static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *user_data) {
    struct bot *b = user_data;
    const char *text = NULL;
    if (cause == XMPP_CAUSE_LOCAL_CLOSE)
        return; /* our own xmpp_client_close() completed */
    xmpp_session_get_error(s, NULL, &text);
    if ((cause == XMPP_CAUSE_DNS || cause == XMPP_CAUSE_TCP) && xmpp_client_error(b->client))
        text = xmpp_client_error(b->client);
    fprintf(stderr, "echo-bot: session ended: %s\n", text ? text : "connection closed");
    b->failed = 1;
}

/* A message arrived. Echo its body to the sender's bare JID: the server
 * then delivers it to every available resource of the sender's account
 * (RFC 6121 §8.5.2.1.1). To answer only the resource that wrote, reply to
 * xmpp_stanza_from() itself. */
static int on_message(xmpp_session *s, xmpp_stanza *msg, void *user_data) {
    struct bot *b = user_data;
    const char *type = xmpp_stanza_type(msg);
    const char *from = xmpp_stanza_from(msg);
    xmpp_stanza *body = xmpp_stanza_child(msg, "body", NULL);
    xmpp_stanza *reply = NULL;
    xmpp_jid *sender = NULL, *self = NULL;
    char *text = NULL;
    int rc;

    /* Only chat and normal messages with a body and a sender. Never answer
     * errors, groupchat or headlines: two bots would loop forever. */
    if (type && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0)
        return 1;
    if (body == NULL || from == NULL || xmpp_jid_parse(&sender, b->ctx, from) != XMPP_OK)
        return 1;
    /* Nor messages from our own account (another of its resources). */
    if (xmpp_jid_parse(&self, b->ctx, xmpp_session_jid(s)) == XMPP_OK &&
        xmpp_jid_bare_equal(sender, self)) {
        xmpp_jid_free(self);
        xmpp_jid_free(sender);
        return 1;
    }
    xmpp_jid_free(self);

    rc = xmpp_stanza_text(body, &text, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_message_new(&reply, b->ctx, type, xmpp_jid_bare(sender), NULL, text);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, reply); /* queued; the driver writes it */
    if (rc == XMPP_OK) {
        b->echoes++;
        printf("echoed to %s: %s\n", xmpp_jid_bare(sender), text);
        fflush(stdout);
    } else {
        fprintf(stderr, "echo-bot: cannot echo: %s\n", xmpp_strerror(rc));
    }
    xmpp_stanza_unref(reply);
    xmpp_free(b->ctx, text);
    xmpp_jid_free(sender);

    /* Enough echoes: close the stream. The echo is already queued ahead of
     * our </stream:stream>, so it is written first. */
    if (b->max > 0 && b->echoes >= b->max)
        xmpp_client_close(b->client);
    return 1;
}

/* ---- configuration */

/* Splits "host:port", "[v6]:port" or "host" (port 5222). Returns 0 on success. */
static int parse_server(const char *spec, char *host, size_t size, unsigned *port) {
    const char *colon, *end = NULL;
    size_t len;
    *port = 5222;
    if (spec[0] == '[') {
        end = strchr(spec, ']');
        if (end == NULL)
            return -1;
        spec++;
        colon = end[1] == ':' ? end + 1 : NULL;
        if (end[1] != '\0' && colon == NULL)
            return -1;
    } else {
        colon = strrchr(spec, ':');
        end = colon ? colon : spec + strlen(spec);
    }
    len = (size_t)(end - spec);
    if (len == 0 || len >= size)
        return -1;
    memcpy(host, spec, len);
    host[len] = '\0';
    if (colon) {
        char *stop;
        long p = strtol(colon + 1, &stop, 10);
        if (*stop != '\0' || p <= 0 || p > 65535)
            return -1;
        *port = (unsigned)p;
    }
    return 0;
}

/* Builds the session options from the environment. Returns 0 on success. */
static int make_options(xmpp_ctx *ctx, xmpp_session_options **out, void *user_data) {
    const char *jid = getenv("XMPP_JID"), *password = getenv("XMPP_PASSWORD");
    const char *cafile = getenv("XMPP_CAFILE");
    xmpp_session_options *o = NULL;
    xmpp_tls_config *tls = NULL;
    int rc;
    if (jid == NULL || password == NULL) {
        fprintf(stderr, "echo-bot: set XMPP_JID and XMPP_PASSWORD\n");
        return -1;
    }
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK) {
        fprintf(stderr, "echo-bot: XMPP_JID/XMPP_PASSWORD: %s\n", xmpp_strerror(rc));
        xmpp_session_options_free(o);
        return -1;
    }
    /* The trust store: the system one, or only XMPP_CAFILE when given. */
    if ((rc = xmpp_tls_config_new(&tls, ctx)) != XMPP_OK) {
        xmpp_session_options_free(o);
        return -1;
    }
    if (cafile != NULL) {
        xmpp_tls_config_use_system_trust(tls, 0);
        if ((rc = xmpp_tls_config_add_cafile(tls, cafile)) != XMPP_OK) {
            fprintf(stderr, "echo-bot: XMPP_CAFILE %s: %s\n", cafile, xmpp_strerror(rc));
            xmpp_tls_config_unref(tls);
            xmpp_session_options_free(o);
            return -1;
        }
    }
    xmpp_session_options_set_tls_config(o, tls); /* takes its own reference */
    xmpp_tls_config_unref(tls);
    xmpp_session_options_set_callbacks(o, on_ready, on_closed, user_data);
    *out = o;
    return 0;
}

int main(void) {
    struct bot b;
    xmpp_session_options *opts = NULL;
    const char *server = getenv("XMPP_SERVER"), *max = getenv("ECHO_BOT_MAX");
    struct sigaction sa;
    int rc, closing = 0;

    memset(&b, 0, sizeof(b));
    if (max != NULL)
        b.max = strtol(max, NULL, 10);
    if (xmpp_ctx_new(&b.ctx, NULL) != XMPP_OK)
        return 1;
    if (make_options(b.ctx, &opts, &b) != 0) {
        xmpp_ctx_free(b.ctx);
        return 2;
    }
    /* The client copies the options: they can go at once. */
    rc = xmpp_client_new(&b.client, b.ctx, opts);
    xmpp_session_options_free(opts);
    if (rc != XMPP_OK) {
        fprintf(stderr, "echo-bot: %s\n", xmpp_strerror(rc));
        xmpp_ctx_free(b.ctx);
        return 1;
    }
    xmpp_session_add_handler(xmpp_client_session(b.client), "message", NULL, NULL, on_message,
                             &b, NULL);
    if (server != NULL) {
        char host[256];
        unsigned port;
        if (parse_server(server, host, sizeof(host), &port) != 0 ||
            xmpp_client_set_server(b.client, host, port) != XMPP_OK) {
            fprintf(stderr, "echo-bot: bad XMPP_SERVER %s (HOST:PORT)\n", server);
            xmpp_client_free(b.client);
            xmpp_ctx_free(b.ctx);
            return 2;
        }
    }

    /* No SA_RESTART: a signal interrupts poll(2) and the loop notices. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    /* The loop: each call waits for the sockets or the next timer (at most
     * one second here) and does all the I/O and protocol work that is due.
     * Callbacks (on_ready, on_message, on_closed) fire from inside it. */
    xmpp_client_connect(b.client);
    for (;;) {
        if (stop_requested && !closing) {
            closing = 1; /* once: the session ends after the server's answer */
            xmpp_client_close(b.client);
        }
        if (xmpp_client_run_once(b.client, 1000) == XMPP_ERR_CLOSED)
            break;
    }

    xmpp_client_free(b.client);
    xmpp_ctx_free(b.ctx);
    if (b.failed || !b.ready)
        return 1;
    return 0;
}
