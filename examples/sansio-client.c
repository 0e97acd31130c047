/* sansio-client: the echo bot of echo-bot.c without libxmpp's I/O driver.
 * The session (xmpp/session.h) does no I/O and reads no clock: this
 * program makes every syscall itself (socket, connect, poll, recv, send)
 * and tells the session what time it is. The same pattern fits any
 * transport the driver does not know: a proxy, a custom event loop, a
 * simulated network in tests.
 *
 *   we do                               then we tell the session
 *   connect() succeeded                 xmpp_session_start(s, now)
 *   recv() returned bytes               xmpp_session_recv(s, bytes, now)
 *   recv() returned 0 / an error        xmpp_session_transport_closed()
 *   (always)                            xmpp_session_drain() -> send() -> xmpp_session_consume()
 *   poll() timeout                      from xmpp_session_next_deadline()
 *   the deadline passed                 xmpp_session_handle_timeout(s, now)
 *
 * "now" is our own monotonic clock in milliseconds (CLOCK_MONOTONIC): any
 * clock works as long as it never goes back.
 *
 * Environment: XMPP_JID, XMPP_PASSWORD (required), XMPP_SERVER (required
 * here: an IP literal and port, 127.0.0.1:5222 or [::1]:5222; this program
 * does no DNS), XMPP_CAFILE (trusted CAs instead of the system store),
 * ECHO_BOT_MAX (exit 0 after this many echoes). Prints "ready as FULL-JID"
 * once logged in. Exit status: 0 clean end, 1 failure, 2 bad settings.
 *
 * Build: cc sansio-client.c $(pkg-config --cflags --libs libxmpp)
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getaddrinfo, sigaction */

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <xmpp/xmpp.h>

#define CONNECT_TIMEOUT_MS 10000
#define CLOSE_TIMEOUT_MS 5000 /* after the session ended: flushing its last bytes */

struct app {
    xmpp_ctx *ctx;
    xmpp_session *session;
    long max;     /* ECHO_BOT_MAX, 0 = no limit */
    long echoes;
    int ready;
    int failed;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* Our clock: milliseconds that only go forward. */
static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the XMPP side: the same as in echo-bot.c, on the session alone */

static void on_ready(xmpp_session *s, const char *jid, void *user_data) {
    struct app *a = user_data;
    xmpp_stanza *presence = NULL;
    int rc = xmpp_presence_new(&presence, a->ctx, NULL, NULL, NULL);
    if (rc == XMPP_OK)
        rc = xmpp_session_send(s, presence); /* queued: our loop writes it */
    xmpp_stanza_unref(presence);
    if (rc != XMPP_OK) {
        fprintf(stderr, "sansio-client: cannot send presence: %s\n", xmpp_strerror(rc));
        a->failed = 1;
        xmpp_session_close(s);
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
    fprintf(stderr, "sansio-client: session ended: %s\n", text ? text : "connection closed");
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
        fprintf(stderr, "sansio-client: cannot echo: %s\n", xmpp_strerror(rc));
    }
    xmpp_stanza_unref(reply);
    xmpp_free(a->ctx, text);
    xmpp_jid_free(sender);
    if (a->max > 0 && a->echoes >= a->max)
        xmpp_session_close(s); /* </stream:stream> goes out after the echo */
    return 1;
}

/* ---- the transport: a non-blocking TCP socket */

/* Connects to an IP literal (never a DNS lookup: AI_NUMERICHOST) within
 * CONNECT_TIMEOUT_MS. Returns the socket, or -1 with a message printed. */
static int tcp_connect(const char *spec) {
    char host[256];
    const char *port, *end;
    struct addrinfo hints, *ai = NULL;
    struct pollfd pfd;
    int fd, err, one = 1, rc;
    socklen_t len = sizeof(err);
    size_t hl;

    /* "[v6]:port" or "v4:port" */
    if (spec[0] == '[') {
        end = strchr(spec, ']');
        port = end && end[1] == ':' ? end + 2 : NULL;
        spec++;
    } else {
        end = strrchr(spec, ':');
        port = end ? end + 1 : NULL;
    }
    hl = end ? (size_t)(end - spec) : 0;
    if (port == NULL || *port == '\0' || hl == 0 || hl >= sizeof(host)) {
        fprintf(stderr, "sansio-client: XMPP_SERVER must be IP:PORT or [IPv6]:PORT\n");
        return -1;
    }
    memcpy(host, spec, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
        fprintf(stderr, "sansio-client: XMPP_SERVER %s:%s: %s\n", host, port, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0 || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
        perror("sansio-client: socket");
        freeaddrinfo(ai);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* XMPP is chatty and interactive: no Nagle delay on small stanzas */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (rc < 0 && errno != EINPROGRESS) {
        fprintf(stderr, "sansio-client: connect: %s\n", strerror(errno));
        close(fd);
        return -1;
    }
    /* Writable means connected or failed; SO_ERROR says which. */
    pfd.fd = fd;
    pfd.events = POLLOUT;
    do
        rc = poll(&pfd, 1, CONNECT_TIMEOUT_MS);
    while (rc < 0 && errno == EINTR && !stop_requested);
    if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0) {
        fprintf(stderr, "sansio-client: connect: %s\n",
                rc == 0 ? "timed out" : strerror(rc < 0 ? errno : err));
        close(fd);
        return -1;
    }
    return fd;
}

/* Writes what the session has queued, until the kernel buffer is full.
 * Returns 0, or -1 when the connection failed (the session is told). */
static int flush_out(xmpp_session *s, int fd) {
    const void *data;
    size_t len;
    for (;;) {
        ssize_t n;
        xmpp_session_drain(s, &data, &len);
        if (len == 0)
            return 0;
        n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0; /* POLLOUT tells us when to go on */
            xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, strerror(errno));
            xmpp_session_drain(s, &data, &len); /* nothing more can be sent */
            xmpp_session_consume(s, len);
            return -1;
        }
        xmpp_session_consume(s, (size_t)n); /* may be less than len */
    }
}

/* Reads everything available into the session. */
static void read_in(xmpp_session *s, int fd) {
    char buf[16384];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
            /* Callbacks (on_ready, on_message, ...) fire from in here. */
            if (xmpp_session_recv(s, buf, (size_t)n, now_ms()) == XMPP_ERR_CLOSED)
                return;
            continue;
        }
        if (n == 0) {
            xmpp_session_transport_closed(s, XMPP_CAUSE_REMOTE_CLOSE, "connection closed");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, strerror(errno));
        return;
    }
}

/* The event loop. Returns when the session has ended and its last bytes
 * (</stream:stream>, the TLS close_notify) are written or cannot be. */
static void run(xmpp_session *s, int fd) {
    int closing = 0;
    uint64_t give_up = 0; /* bounds the final flush */
    for (;;) {
        struct pollfd pfd;
        const void *data;
        size_t pending;
        uint64_t now, deadline;
        int timeout, rc;

        if (stop_requested && !closing) {
            closing = 1;
            /* xmpp_session_close() measures its wait for the server's
             * answer from the last time we gave the session; outside a
             * callback, bring its clock up to date first. */
            xmpp_session_handle_timeout(s, now_ms());
            xmpp_session_close(s);
        }
        flush_out(s, fd);
        xmpp_session_drain(s, &data, &pending);
        if (xmpp_session_get_state(s) == XMPP_STATE_CLOSED) {
            if (pending == 0)
                return;
            if (give_up == 0)
                give_up = now_ms() + CLOSE_TIMEOUT_MS;
        }

        /* Wait for the socket (writable only while output is pending) or
         * the session's next deadline, whichever comes first. */
        now = now_ms();
        deadline = give_up ? give_up : xmpp_session_next_deadline(s);
        if (deadline == UINT64_MAX)
            timeout = -1;
        else if (deadline <= now)
            timeout = 0;
        else
            timeout = deadline - now > 60000 ? 60000 : (int)(deadline - now);
        pfd.fd = fd;
        pfd.events = POLLIN | (pending ? POLLOUT : 0);
        pfd.revents = 0;
        rc = poll(&pfd, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            perror("sansio-client: poll");
            xmpp_session_transport_closed(s, XMPP_CAUSE_TCP, "poll failed");
            return;
        }
        if (rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)))
            read_in(s, fd); /* recv() reports the error or the EOF */
        /* Timers (negotiation, IQ, keepalive, the close wait) are due? */
        now = now_ms();
        if (give_up != 0 && now >= give_up)
            return; /* the peer does not read any more */
        if (xmpp_session_next_deadline(s) <= now)
            xmpp_session_handle_timeout(s, now);
    }
}

/* ---- configuration */

static int make_options(xmpp_ctx *ctx, xmpp_session_options **out, void *user_data) {
    const char *jid = getenv("XMPP_JID"), *password = getenv("XMPP_PASSWORD");
    const char *cafile = getenv("XMPP_CAFILE");
    xmpp_session_options *o = NULL;
    xmpp_tls_config *tls = NULL;
    int rc;
    if (jid == NULL || password == NULL) {
        fprintf(stderr, "sansio-client: set XMPP_JID and XMPP_PASSWORD\n");
        return -1;
    }
    if ((rc = xmpp_session_options_new(&o, ctx)) != XMPP_OK ||
        (rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK ||
        (rc = xmpp_session_options_set_password(o, password)) != XMPP_OK ||
        (rc = xmpp_tls_config_new(&tls, ctx)) != XMPP_OK) {
        fprintf(stderr, "sansio-client: XMPP_JID/XMPP_PASSWORD: %s\n", xmpp_strerror(rc));
        xmpp_session_options_free(o);
        return -1;
    }
    if (cafile != NULL) {
        xmpp_tls_config_use_system_trust(tls, 0);
        if ((rc = xmpp_tls_config_add_cafile(tls, cafile)) != XMPP_OK) {
            fprintf(stderr, "sansio-client: XMPP_CAFILE %s: %s\n", cafile, xmpp_strerror(rc));
            xmpp_tls_config_unref(tls);
            xmpp_session_options_free(o);
            return -1;
        }
    }
    /* STARTTLS is the default; TLS runs inside the session (the bytes we
     * move are TLS records), verified against the JID's domain. */
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
    struct sigaction sa;
    int rc, fd;

    memset(&a, 0, sizeof(a));
    if (max != NULL)
        a.max = strtol(max, NULL, 10);
    if (server == NULL) {
        fprintf(stderr, "sansio-client: set XMPP_SERVER (IP:PORT): this example does no DNS\n");
        return 2;
    }
    if (xmpp_ctx_new(&a.ctx, NULL) != XMPP_OK)
        return 1;
    if (make_options(a.ctx, &opts, &a) != 0) {
        xmpp_ctx_free(a.ctx);
        return 2;
    }
    rc = xmpp_session_new(&a.session, a.ctx, opts);
    xmpp_session_options_free(opts);
    if (rc != XMPP_OK) {
        fprintf(stderr, "sansio-client: %s\n", xmpp_strerror(rc));
        xmpp_ctx_free(a.ctx);
        return 1;
    }
    xmpp_session_add_handler(a.session, "message", NULL, NULL, on_message, &a, NULL);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    fd = tcp_connect(server);
    if (fd < 0) {
        xmpp_session_free(a.session);
        xmpp_ctx_free(a.ctx);
        return 1;
    }
    /* Connected: the session queues its stream header; run() sends it. */
    xmpp_session_start(a.session, now_ms());
    run(a.session, fd);
    close(fd);

    xmpp_session_free(a.session);
    xmpp_ctx_free(a.ctx);
    return a.failed || !a.ready ? 1 : 0;
}
