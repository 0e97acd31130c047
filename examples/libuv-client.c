/* libuv-client: the echo bot of echo-bot.c, driven by a libuv loop, as a
 * Node-style server or any libuv program would run it. libxmpp never
 * blocks and owns no loop: the driver (xmpp/client.h) tells us what to
 * watch through two callbacks, and we tell it what happened through one
 * function.
 *
 *   the driver says                     we do
 *   socket_fn(fd, IN/OUT)               uv_poll_init() once per fd, uv_poll_start()
 *   socket_fn(fd, XMPP_IO_NONE)         uv_poll_stop() + uv_close()  (before it closes fd)
 *   timer_fn(ms >= 0)                   uv_timer_start(ms, no repeat)  (replaces the last)
 *   timer_fn(-1)                        uv_timer_stop()
 *   fd ready / timer fired              xmpp_client_socket_action(client, fd or -1, events)
 *
 * xmpp_client_socket_action() returns XMPP_ERR_CLOSED once the session has
 * ended and its sockets are closed: then we close our handles, and uv_run()
 * returns when none is left.
 *
 * Environment: XMPP_JID, XMPP_PASSWORD (required), XMPP_SERVER (HOST:PORT,
 * instead of SRV records), XMPP_CAFILE (trusted CAs instead of the system
 * store), ECHO_BOT_MAX (exit 0 after this many echoes). Prints "ready as
 * FULL-JID" once logged in. Exit status: 0 clean end, 1 failure, 2 bad
 * settings.
 *
 * Build: cc libuv-client.c $(pkg-config --cflags --libs libxmpp libuv)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include <xmpp/xmpp.h>

/* One poll handle per descriptor the driver watches. libuv allows only one
 * active poll handle per fd, and a handle must be stopped before its fd is
 * closed: the driver tells us (XMPP_IO_NONE) before it closes one. */
struct watch {
    uv_poll_t poll; /* first member: the handle's address is the watch's */
    struct app *app;
    int fd;
    struct watch *next;
};

struct app {
    xmpp_ctx *ctx;
    xmpp_client *client;
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_signal_t sigint, sigterm;
    struct watch *watches;
    int done;     /* the client reported XMPP_ERR_CLOSED */
    long max;     /* ECHO_BOT_MAX, 0 = no limit */
    long echoes;
    int ready;
    int failed;
    int closing;
};

/* ---- the end: close our own handles, so that uv_run() returns */

static void free_watch(uv_handle_t *h) {
    free(h); /* h is &watch->poll, the first member */
}

static void finish(struct app *a) {
    if (a->done)
        return;
    a->done = 1;
    /* The driver has already stopped every fd watch (XMPP_IO_NONE). */
    uv_close((uv_handle_t *)&a->timer, NULL);
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
}

/* ---- the loop side: descriptors */

static void on_poll(uv_poll_t *handle, int status, int uv_events) {
    struct watch *w = (struct watch *)handle;
    struct app *a = w->app;
    int events = 0;
    if (status < 0) {
        /* e.g. UV_EBADF: let the driver find out what happened */
        events = XMPP_IO_ERROR | XMPP_IO_IN | XMPP_IO_OUT;
    } else {
        if (uv_events & (UV_READABLE | UV_DISCONNECT))
            events |= XMPP_IO_IN;
        if (uv_events & UV_WRITABLE)
            events |= XMPP_IO_OUT;
    }
    if (xmpp_client_socket_action(a->client, w->fd, events) == XMPP_ERR_CLOSED)
        finish(a);
}

/* The driver's socket callback: (re)watch fd for events, or forget it. */
static void on_socket(xmpp_client *c, int fd, int events, void *user_data) {
    struct app *a = user_data;
    struct watch **p, *w;
    int uv_events = 0;
    (void)c;
    for (p = &a->watches; *p != NULL && (*p)->fd != fd; p = &(*p)->next)
        ;
    w = *p;
    if (events == XMPP_IO_NONE) {
        if (w != NULL) {
            *p = w->next;
            uv_poll_stop(&w->poll); /* takes fd out of the loop at once */
            uv_close((uv_handle_t *)&w->poll, free_watch);
        }
        return;
    }
    if (w == NULL) {
        w = calloc(1, sizeof(*w));
        if (w == NULL || uv_poll_init(a->loop, &w->poll, fd) != 0) {
            fprintf(stderr, "libuv-client: cannot watch descriptor %d\n", fd);
            abort(); /* a real program would close the client instead */
        }
        w->poll.data = w;
        w->app = a;
        w->fd = fd;
        w->next = a->watches;
        a->watches = w;
    }
    if (events & XMPP_IO_IN)
        uv_events |= UV_READABLE | UV_DISCONNECT;
    if (events & XMPP_IO_OUT)
        uv_events |= UV_WRITABLE;
    uv_poll_start(&w->poll, uv_events, on_poll); /* also changes the events */
}

/* ---- the loop side: the timer */

static void on_timeout(uv_timer_t *t) {
    struct app *a = t->data;
    if (xmpp_client_socket_action(a->client, -1, 0) == XMPP_ERR_CLOSED)
        finish(a);
}

/* The driver's timer callback: one timer, replaced at each call. */
static void on_timer(xmpp_client *c, long timeout_ms, void *user_data) {
    struct app *a = user_data;
    (void)c;
    if (a->done)
        return;
    if (timeout_ms < 0)
        uv_timer_stop(&a->timer);
    else
        uv_timer_start(&a->timer, on_timeout, (uint64_t)timeout_ms, 0); /* restarts */
}

/* SIGINT/SIGTERM: close the stream politely; the loop ends once the
 * server has answered (the driver bounds the wait). */
static void on_signal(uv_signal_t *sig, int signum) {
    struct app *a = sig->data;
    (void)signum;
    if (!a->closing) {
        a->closing = 1;
        xmpp_client_close(a->client);
    }
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
        fprintf(stderr, "libuv-client: cannot send presence: %s\n", xmpp_strerror(rc));
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
    fprintf(stderr, "libuv-client: session ended: %s\n", text ? text : "connection closed");
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
        fprintf(stderr, "libuv-client: cannot echo: %s\n", xmpp_strerror(rc));
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
        fprintf(stderr, "libuv-client: set XMPP_JID and XMPP_PASSWORD\n");
        return -1;
    }
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK ||
        (rc = xmpp_tls_config_new(&tls, ctx)) != XMPP_OK) {
        fprintf(stderr, "libuv-client: XMPP_JID/XMPP_PASSWORD: %s\n", xmpp_strerror(rc));
        xmpp_session_options_free(o);
        return -1;
    }
    if (cafile != NULL) {
        xmpp_tls_config_use_system_trust(tls, 0);
        if ((rc = xmpp_tls_config_add_cafile(tls, cafile)) != XMPP_OK) {
            fprintf(stderr, "libuv-client: XMPP_CAFILE %s: %s\n", cafile, xmpp_strerror(rc));
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
        fprintf(stderr, "libuv-client: %s\n", xmpp_strerror(rc));
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
            fprintf(stderr, "libuv-client: bad XMPP_SERVER %s (HOST:PORT)\n", server);
            xmpp_client_free(a.client);
            xmpp_ctx_free(a.ctx);
            return 2;
        }
    }

    a.loop = uv_default_loop();
    uv_timer_init(a.loop, &a.timer);
    a.timer.data = &a;
    uv_signal_init(a.loop, &a.sigint);
    uv_signal_init(a.loop, &a.sigterm);
    a.sigint.data = a.sigterm.data = &a;
    uv_signal_start(&a.sigint, on_signal, SIGINT);
    uv_signal_start(&a.sigterm, on_signal, SIGTERM);
    /* The hooks must be in place before connecting: xmpp_client_connect()
     * already asks for the first descriptor and timer. */
    xmpp_client_set_socket_fn(a.client, on_socket, &a);
    xmpp_client_set_timer_fn(a.client, on_timer, &a);

    xmpp_client_connect(a.client);
    /* Runs until finish() closed our handles and the driver stopped its
     * watches: a libuv loop ends when no active handle is left. */
    uv_run(a.loop, UV_RUN_DEFAULT);

    /* Free the client before the loop: it may still stop watches through
     * on_socket(); one more turn runs the close callbacks. */
    xmpp_client_free(a.client);
    uv_run(a.loop, UV_RUN_DEFAULT);
    uv_loop_close(a.loop);
    xmpp_ctx_free(a.ctx);
    return a.failed || !a.ready ? 1 : 0;
}
