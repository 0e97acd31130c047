/* glib-client: the echo bot of echo-bot.c, driven by a GLib main loop, as a
 * GTK or GIO application would run it. libxmpp never blocks and owns no
 * loop: the driver (xmpp/client.h) tells us what to watch through two
 * callbacks, and we tell it what happened through one function.
 *
 *   the driver says                     we do
 *   socket_fn(fd, IN/OUT)               g_unix_fd_add(fd, ...)   (one source per fd)
 *   socket_fn(fd, XMPP_IO_NONE)         g_source_remove()        (before it closes fd)
 *   timer_fn(ms >= 0)                   g_timeout_add(ms, ...)   (one-shot, replaces the last)
 *   timer_fn(-1)                        g_source_remove()
 *   fd ready / timer fired              xmpp_client_socket_action(client, fd or -1, events)
 *
 * xmpp_client_socket_action() returns XMPP_ERR_CLOSED once the session has
 * ended and its sockets are closed: then we leave the loop.
 *
 * Environment: XMPP_JID, XMPP_PASSWORD (required), XMPP_SERVER (HOST:PORT,
 * instead of SRV records), XMPP_CAFILE (trusted CAs instead of the system
 * store), ECHO_BOT_MAX (exit 0 after this many echoes). Prints "ready as
 * FULL-JID" once logged in. Exit status: 0 clean end, 1 failure, 2 bad
 * settings.
 *
 * Build: cc glib-client.c $(pkg-config --cflags --libs libxmpp glib-2.0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib-unix.h>

#include <xmpp/xmpp.h>

#define MAX_WATCHES 32 /* the driver watches a few descriptors at most */

struct watch {
    int fd;
    guint source; /* the g_unix_fd_add() source */
};

struct app {
    xmpp_ctx *ctx;
    xmpp_client *client;
    GMainLoop *loop;
    guint timer;  /* the g_timeout_add() source, 0 when none */
    struct watch watches[MAX_WATCHES];
    int nwatches;
    long max;     /* ECHO_BOT_MAX, 0 = no limit */
    long echoes;
    int ready;
    int failed;
    int closing;
};

/* ---- the loop side: descriptors */

/* A watched descriptor is ready. */
static gboolean on_fd_ready(gint fd, GIOCondition cond, gpointer user_data) {
    struct app *a = user_data;
    int events = 0;
    if (cond & G_IO_IN)
        events |= XMPP_IO_IN;
    if (cond & G_IO_OUT)
        events |= XMPP_IO_OUT;
    if (cond & (G_IO_ERR | G_IO_HUP | G_IO_NVAL))
        events |= XMPP_IO_ERROR;
    if (xmpp_client_socket_action(a->client, fd, events) == XMPP_ERR_CLOSED)
        g_main_loop_quit(a->loop);
    /* Keep the source: the driver removes it through on_socket() when it
     * no longer wants it (possibly already, from inside the call above;
     * GLib copes with a source that was destroyed while dispatching). */
    return G_SOURCE_CONTINUE;
}

/* The driver's socket callback: (re)watch fd for events, or forget it. */
static void on_socket(xmpp_client *c, int fd, int events, void *user_data) {
    struct app *a = user_data;
    GIOCondition cond = G_IO_ERR | G_IO_HUP;
    int i;
    (void)c;
    for (i = 0; i < a->nwatches; i++)
        if (a->watches[i].fd == fd)
            break;
    if (i < a->nwatches) {
        /* A g_unix_fd_add() source cannot change its condition: drop it
         * (a custom GSource with g_source_modify_unix_fd() could). */
        g_source_remove(a->watches[i].source);
        if (events == XMPP_IO_NONE) {
            a->watches[i] = a->watches[--a->nwatches];
            return;
        }
    } else {
        if (events == XMPP_IO_NONE)
            return;
        if (a->nwatches == MAX_WATCHES) {
            fprintf(stderr, "glib-client: too many descriptors\n");
            abort();
        }
        i = a->nwatches++;
        a->watches[i].fd = fd;
    }
    if (events & XMPP_IO_IN)
        cond |= G_IO_IN;
    if (events & XMPP_IO_OUT)
        cond |= G_IO_OUT;
    a->watches[i].source = g_unix_fd_add(fd, cond, on_fd_ready, a);
}

/* ---- the loop side: the timer */

static gboolean on_timeout(gpointer user_data) {
    struct app *a = user_data;
    /* This one-shot source ends when we return; forget it first, since the
     * driver usually arms the next timer from inside socket_action. */
    a->timer = 0;
    if (xmpp_client_socket_action(a->client, -1, 0) == XMPP_ERR_CLOSED)
        g_main_loop_quit(a->loop);
    return G_SOURCE_REMOVE;
}

/* The driver's timer callback: one timer, replaced at each call. */
static void on_timer(xmpp_client *c, long timeout_ms, void *user_data) {
    struct app *a = user_data;
    (void)c;
    if (a->timer != 0) {
        g_source_remove(a->timer);
        a->timer = 0;
    }
    if (timeout_ms >= 0)
        a->timer = g_timeout_add((guint)timeout_ms, on_timeout, a);
}

/* SIGINT/SIGTERM: close the stream politely; the loop ends once the
 * server has answered (the driver bounds the wait). */
static gboolean on_signal(gpointer user_data) {
    struct app *a = user_data;
    if (!a->closing) {
        a->closing = 1;
        xmpp_client_close(a->client);
    }
    return G_SOURCE_CONTINUE;
}

/* ---- the XMPP side: the same as in echo-bot.c */

static void on_ready(xmpp_session *s, const char *jid, void *user_data) {
    struct app *a = user_data;
    xmpp_stanza *presence = NULL;
    int rc = xmpp_presence_new(&presence, a->ctx, NULL, NULL, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, presence); /* so messages reach us */
    xmpp_stanza_unref(presence);
    if (rc != XMPP_OK) {
        fprintf(stderr, "glib-client: cannot send presence: %s\n", xmpp_strerror(rc));
        a->failed = 1;
        xmpp_client_close(a->client);
        return;
    }
    a->ready = 1;
    printf("ready as %s\n", jid);
    fflush(stdout);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *user_data) {
    struct app *a = user_data;
    const char *text = NULL;
    if (cause == XMPP_CAUSE_LOCAL_CLOSE)
        return;
    xmpp_session_get_error(s, NULL, &text);
    if ((cause == XMPP_CAUSE_DNS || cause == XMPP_CAUSE_TCP) && xmpp_client_error(a->client))
        text = xmpp_client_error(a->client);
    fprintf(stderr, "glib-client: session ended: %s\n", text ? text : "connection closed");
    a->failed = 1;
}

/* Echo chat and normal messages to the sender's bare JID (see echo-bot.c). */
static int on_message(xmpp_session *s, xmpp_stanza *msg, void *user_data) {
    struct app *a = user_data;
    const char *type = xmpp_stanza_type(msg), *from = xmpp_stanza_from(msg);
    xmpp_stanza *body = xmpp_stanza_child(msg, "body", NULL), *reply = NULL;
    xmpp_jid *sender = NULL, *self = NULL;
    char *text = NULL;
    int rc, own;
    if (type && strcmp(type, "chat") != 0 && strcmp(type, "normal") != 0)
        return 1; /* never answer errors, groupchat or headlines */
    if (body == NULL || from == NULL || xmpp_jid_parse(&sender, a->ctx, from) != XMPP_OK)
        return 1;
    own = xmpp_jid_parse(&self, a->ctx, xmpp_session_jid(s)) == XMPP_OK &&
          xmpp_jid_bare_equal(sender, self);
    xmpp_jid_free(self);
    if (own) {
        xmpp_jid_free(sender);
        return 1;
    }
    rc = xmpp_stanza_text(body, &text, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_message_new(&reply, a->ctx, type, xmpp_jid_bare(sender), NULL, text);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, reply);
    if (rc == XMPP_OK) {
        a->echoes++;
        printf("echoed to %s: %s\n", xmpp_jid_bare(sender), text);
        fflush(stdout);
    } else {
        fprintf(stderr, "glib-client: cannot echo: %s\n", xmpp_strerror(rc));
    }
    xmpp_stanza_unref(reply);
    xmpp_free(a->ctx, text);
    xmpp_jid_free(sender);
    if (a->max > 0 && a->echoes >= a->max) {
        a->closing = 1;
        xmpp_client_close(a->client);
    }
    return 1;
}

/* ---- configuration (as in echo-bot.c) */

static int parse_server(const char *spec, char *host, size_t size, unsigned *port) {
    const char *colon, *end;
    size_t len;
    *port = 5222;
    if (spec[0] == '[') { /* [v6]:port */
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

static int make_options(xmpp_ctx *ctx, xmpp_session_options **out, void *user_data) {
    const char *jid = getenv("XMPP_JID"), *password = getenv("XMPP_PASSWORD");
    const char *cafile = getenv("XMPP_CAFILE");
    xmpp_session_options *o = NULL;
    xmpp_tls_config *tls = NULL;
    int rc;
    if (jid == NULL || password == NULL) {
        fprintf(stderr, "glib-client: set XMPP_JID and XMPP_PASSWORD\n");
        return -1;
    }
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK ||
        (rc = xmpp_tls_config_new(&tls, ctx)) != XMPP_OK) {
        fprintf(stderr, "glib-client: XMPP_JID/XMPP_PASSWORD: %s\n", xmpp_strerror(rc));
        xmpp_session_options_free(o);
        return -1;
    }
    if (cafile != NULL) {
        xmpp_tls_config_use_system_trust(tls, 0);
        if ((rc = xmpp_tls_config_add_cafile(tls, cafile)) != XMPP_OK) {
            fprintf(stderr, "glib-client: XMPP_CAFILE %s: %s\n", cafile, xmpp_strerror(rc));
            xmpp_tls_config_unref(tls);
            xmpp_session_options_free(o);
            return -1;
        }
    }
    xmpp_session_options_set_tls_config(o, tls);
    xmpp_tls_config_unref(tls);
    xmpp_session_options_set_callbacks(o, on_ready, on_closed, user_data);
    *out = o;
    return 0;
}

int main(void) {
    struct app a;
    xmpp_session_options *opts = NULL;
    const char *server = getenv("XMPP_SERVER"), *max = getenv("ECHO_BOT_MAX");
    guint sigint, sigterm;
    int rc;

    memset(&a, 0, sizeof(a));
    if (max != NULL)
        a.max = strtol(max, NULL, 10);
    if (xmpp_ctx_new(&a.ctx, NULL) != XMPP_OK)
        return 1;
    if (make_options(a.ctx, &opts, &a) != 0) {
        xmpp_ctx_free(a.ctx);
        return 2;
    }
    rc = xmpp_client_new(&a.client, a.ctx, opts);
    xmpp_session_options_free(opts);
    if (rc != XMPP_OK) {
        fprintf(stderr, "glib-client: %s\n", xmpp_strerror(rc));
        xmpp_ctx_free(a.ctx);
        return 1;
    }
    xmpp_session_add_handler(xmpp_client_session(a.client), "message", NULL, NULL, on_message,
                             &a, NULL);
    if (server != NULL) {
        char host[256];
        unsigned port;
        if (parse_server(server, host, sizeof(host), &port) != 0 ||
            xmpp_client_set_server(a.client, host, port) != XMPP_OK) {
            fprintf(stderr, "glib-client: bad XMPP_SERVER %s (HOST:PORT)\n", server);
            xmpp_client_free(a.client);
            xmpp_ctx_free(a.ctx);
            return 2;
        }
    }

    a.loop = g_main_loop_new(NULL, FALSE);
    /* The hooks must be in place before connecting: xmpp_client_connect()
     * already asks for the first descriptor and timer. */
    xmpp_client_set_socket_fn(a.client, on_socket, &a);
    xmpp_client_set_timer_fn(a.client, on_timer, &a);
    sigint = g_unix_signal_add(SIGINT, on_signal, &a);
    sigterm = g_unix_signal_add(SIGTERM, on_signal, &a);

    xmpp_client_connect(a.client);
    g_main_loop_run(a.loop);

    /* Free the client while the loop still exists: it removes its last
     * watches through on_socket(). Our timer is ours to cancel. */
    xmpp_client_free(a.client);
    if (a.timer != 0)
        g_source_remove(a.timer);
    g_source_remove(sigint);
    g_source_remove(sigterm);
    g_main_loop_unref(a.loop);
    xmpp_ctx_free(a.ctx);
    return a.failed || !a.ready ? 1 : 0;
}
