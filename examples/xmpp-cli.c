/* xmpp-cli: a command-line XMPP client for scripts, built on libxmpp's
 * driver (xmpp/client.h) and run_once loop.
 *
 *   xmpp-cli [options] send TO TEXT...
 *   xmpp-cli [options] send TO --stdin       (one message per line)
 *   xmpp-cli [options] listen [--count N]
 *   xmpp-cli [options] ping [JID]
 *   xmpp-cli [options] version JID
 *   xmpp-cli [options] disco JID
 *   xmpp-cli [options] upload [--type MIME] [--allow-http] FILE   (prints the GET URL)
 *
 * Exit codes: 0 ok, 1 other failure (e.g. an error reply), 2 usage,
 * 3 DNS or TCP, 4 TLS, 5 authentication, 6 stream error or protocol
 * violation, 7 timeout. Passwords never come from the command line.
 *
 * send and listen keep their session across network faults: stream
 * management (XEP-0198) plus the driver's reconnect policy, on by default
 * for them (--reconnect / --no-reconnect). send --stdin exits 0 only once
 * the server has acknowledged every line; listen prints each message once,
 * de-duplicated by sender and id. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/upload.h>
#include <sys/stat.h>

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_NET = 3, EX_TLS = 4, EX_AUTH = 5,
       EX_STREAM = 6, EX_TIMEOUT = 7 };

struct cli {
    xmpp_ctx *ctx;
    xmpp_client *client;
    xmpp_session *s;
    const char *command;
    char **args;
    int nargs;
    long count;       /* listen --count */
    long received;
    int ready;
    int done;         /* the command finished */
    int exit_code;
    int verbose;
    uint64_t started;
    int reconnect;    /* -1 default, 0 off, 1 on */
    /* listen: (bare sender, id) of messages printed, for de-duplication */
    uint64_t *seen;   /* open addressing, 0 = empty */
    uint64_t *seen_fifo;
    size_t nseen, seen_head;
    /* send --stdin */
    int from_stdin, stdin_eof;
    char *line;       /* a line the queue could not take yet */
    char inbuf[65536];
    size_t inlen;
    unsigned long lines, acked, untracked, returned;
    /* listen: archive catch-up (XEP-0313) after a stream was not resumed */
    char last_archive_id[256];
    char catchup_id[32];
    char listen_since[32];
    time_t last_msg_time;  /* when the last message was printed */
    int catchup_by_time;   /* the archive did not know our last id */
    int paging;            /* a later page of the current catch-up */
    char catchup_since[32];/* its start, the same for every page */
};

#define SEEN_MAX 131072 /* remembered message keys (FIFO beyond) */
#define SEEN_SLOTS (2 * SEEN_MAX)

static void usage(void) {
    fprintf(stderr,
            "usage: xmpp-cli [--jid JID] [--password-file F | --password-env VAR]\n"
            "                [--server HOST[:PORT]] [--tls starttls|direct] [--cafile F]\n"
            "                [--pin SHA256] [--allow-plaintext] [--timeout S] [--sasl MECH]\n"
            "                [--tls-max 1.2|1.3] [--reconnect | --no-reconnect]\n"
            "                [--keepalive S] [--compress]\n"
            "                [--proxy socks5://[USER:PASS@]HOST:PORT|http://... | --proxy-env VAR]\n"
            "                [-v] COMMAND ...\n"
            "commands: send TO TEXT... | send TO --stdin | listen [--count N] | ping [JID] |\n"
            "          version JID | disco JID | upload [--type MIME] [--allow-http] FILE\n"
            "The JID may also come from XMPP_JID, the password from --password-env or a file.\n");
}

static void die(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int code, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "xmpp-cli: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(code);
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void log_cb(xmpp_log_level level, const char *area, const char *msg, void *ud) {
    static const char *const names[] = {"debug", "info", "warn", "error"};
    (void)ud;
    fprintf(stderr, "[%s] %s: %s\n", names[level < 4 ? level : 3], area, msg);
}

/* ---- JSON output for listen */
static void json_str(const char *s) {
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    putchar('"');
    for (; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", stdout); break;
        case '\\': fputs("\\\\", stdout); break;
        case '\n': fputs("\\n", stdout); break;
        case '\r': fputs("\\r", stdout); break;
        case '\t': fputs("\\t", stdout); break;
        default:
            if (*p < 0x20)
                printf("\\u%04x", *p);
            else
                putchar(*p);
        }
    }
    putchar('"');
}

static void json_field(const char *name, const char *value, int first) {
    if (!first)
        fputs(", ", stdout);
    json_str(name);
    fputs(": ", stdout);
    if (value)
        json_str(value);
    else
        fputs("null", stdout);
}

/* 64-bit FNV-1a of "bare-sender\nid": a message re-sent after a failed
 * resumption keeps its id but may come from another resource. */
static uint64_t msg_key(const char *from, const char *id) {
    uint64_t h = 1469598103934665603ull;
    const char *p;
    for (p = from ? from : ""; *p && *p != '/'; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    h = (h ^ '\n') * 1099511628211ull;
    for (p = id; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return h ? h : 1;
}

static size_t seen_slot(const struct cli *c, uint64_t k) {
    size_t i = (size_t)(k % SEEN_SLOTS);
    while (c->seen[i] != 0 && c->seen[i] != k)
        i = (i + 1) % SEEN_SLOTS;
    return i;
}

static void seen_remove(struct cli *c, uint64_t k) {
    size_t i = seen_slot(c, k), j;
    if (c->seen[i] == 0)
        return;
    c->seen[i] = 0;
    /* re-insert the rest of the cluster (linear probing deletion) */
    for (j = (i + 1) % SEEN_SLOTS; c->seen[j] != 0; j = (j + 1) % SEEN_SLOTS) {
        uint64_t m = c->seen[j];
        c->seen[j] = 0;
        c->seen[seen_slot(c, m)] = m;
    }
}

static int seen_before(struct cli *c, const char *from, const char *id) {
    uint64_t k;
    size_t i;
    if (id == NULL || c->seen == NULL)
        return 0;
    k = msg_key(from, id);
    i = seen_slot(c, k);
    if (c->seen[i] == k)
        return 1;
    if (c->nseen == SEEN_MAX) { /* forget the oldest */
        seen_remove(c, c->seen_fifo[c->seen_head]);
        c->seen_head = (c->seen_head + 1) % SEEN_MAX;
        c->nseen--;
        i = seen_slot(c, k);
    }
    c->seen[i] = k;
    c->seen_fifo[(c->seen_head + c->nseen) % SEEN_MAX] = k;
    c->nseen++;
    return 0;
}

#define NS_MAM "urn:xmpp:mam:2"
#define NS_SID "urn:xmpp:sid:0"
#define NS_FORWARD "urn:xmpp:forward:0"
#define NS_RSM "http://jabber.org/protocol/rsm"

/* Whether @p from is our own account (no from, our bare JID or a resource
 * of it): only our own archive may feed us its results (XEP-0313 §5). */
static int from_self(struct cli *c, const char *from) {
    const char *me = xmpp_session_jid(xmpp_client_session(c->client));
    size_t n;
    if (from == NULL)
        return 1;
    if (me == NULL)
        return 0;
    n = strcspn(me, "/");
    return strncmp(from, me, n) == 0 && (from[n] == '\0' || from[n] == '/');
}

/* XEP-0359: the archive id our server gave the message, to resume a
 * catch-up after it. */
static void note_archive_id(struct cli *c, const xmpp_stanza *st) {
    const xmpp_stanza *sid;
    const char *me = xmpp_session_jid(xmpp_client_session(c->client));
    size_t n = me ? strcspn(me, "/") : 0;
    for (sid = xmpp_stanza_child(st, "stanza-id", NS_SID); sid;
         sid = xmpp_stanza_next_match(sid, "stanza-id", NS_SID)) {
        const char *by = xmpp_stanza_attr(sid, "by"), *id = xmpp_stanza_attr(sid, "id");
        if (me && by && id && strlen(by) == n && strncmp(by, me, n) == 0 && strlen(id) < 256) {
            snprintf(c->last_archive_id, sizeof(c->last_archive_id), "%s", id);
            return;
        }
    }
}

static void print_message(struct cli *c, const xmpp_stanza *st) {
    xmpp_stanza *body = xmpp_stanza_child(st, "body", NULL);
    char *text = NULL;
    const char *type = xmpp_stanza_type(st);
    if (body == NULL || (type && strcmp(type, "error") == 0))
        return; /* chat states, receipts, errors: not messages to print */
    if (seen_before(c, xmpp_stanza_from(st), xmpp_stanza_id(st)))
        return;
    xmpp_stanza_text(body, &text, NULL);
    putchar('{');
    json_field("from", xmpp_stanza_from(st), 1);
    json_field("to", xmpp_stanza_to(st), 0);
    json_field("type", type ? type : "normal", 0);
    json_field("id", xmpp_stanza_id(st), 0);
    json_field("body", text, 0);
    fputs("}\n", stdout);
    fflush(stdout);
    xmpp_free(c->ctx, text);
    c->last_msg_time = time(NULL);
    c->received++;
    if (c->count > 0 && c->received >= c->count) {
        c->done = 1;
        c->exit_code = EX_OK;
    }
}

static int send_catchup(struct cli *c);
static void print_error_reply(const xmpp_stanza *reply);

/* A page of the catch-up query is complete. */
static void on_catchup(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct cli *c = ud;
    const xmpp_stanza *fin = reply ? xmpp_stanza_child(reply, "fin", NS_MAM) : NULL;
    const char *complete = fin ? xmpp_stanza_attr(fin, "complete") : NULL;
    (void)s;
    c->catchup_id[0] = '\0';
    if (status == XMPP_IQ_ERROR && !c->catchup_by_time && c->last_archive_id[0]) {
        /* the archive may not know that id (expired, or another store):
         * ask by time instead; repeats are dropped by id */
        xmpp_stanza_condition cond;
        if (c->verbose && xmpp_stanza_get_error(reply, &cond, NULL) == XMPP_OK)
            fprintf(stderr, "xmpp-cli: archive catch-up after id refused (%s); by time instead\n",
                    xmpp_stanza_condition_name(cond));
        c->catchup_by_time = 1;
        send_catchup(c);
        return;
    }
    if (status != XMPP_IQ_RESULT || fin == NULL) {
        if (status == XMPP_IQ_ERROR && c->verbose)
            print_error_reply(reply);
        return;
    }
    if (complete && (strcmp(complete, "true") == 0 || strcmp(complete, "1") == 0)) {
        c->paging = 0;
        c->catchup_by_time = 0;
        if (c->verbose)
            fprintf(stderr, "xmpp-cli: archive catch-up complete\n");
        return;
    }
    if (c->last_archive_id[0] && !c->done) {
        c->paging = 1; /* the next page: after the last result */
        send_catchup(c);
    }
}

/* XEP-0313: the messages archived since the last one we saw (or since we
 * started listening), in pages of 100. */
static int send_catchup(struct cli *c) {
    xmpp_session *s = xmpp_client_session(c->client);
    xmpp_stanza *iq = NULL, *q = NULL, *x = NULL, *f = NULL, *v = NULL, *set = NULL, *e = NULL;
    char id[32];
    int rc;
    xmpp_session_new_id(s, id, sizeof(id));
    snprintf(c->catchup_id, sizeof(c->catchup_id), "%s", id);
    if ((rc = xmpp_iq_new(&iq, c->ctx, "set", NULL, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, "query", NS_MAM, &q)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(q, "queryid", id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(q, "x", "jabber:x:data", &x)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(x, "type", "submit")) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(x, "field", NULL, &f)) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(f, "var", "FORM_TYPE")) != XMPP_OK ||
        (rc = xmpp_stanza_set_attr(f, "type", "hidden")) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(f, "value", NULL, &v)) != XMPP_OK ||
        (rc = xmpp_stanza_add_text(v, NS_MAM, strlen(NS_MAM))) != XMPP_OK)
        goto out;
    if (!c->last_archive_id[0] || c->catchup_by_time) {
        /* since a minute before the last message printed (clocks differ a
         * little), else since we started listening */
        if (!c->paging) {
            snprintf(c->catchup_since, sizeof(c->catchup_since), "%s", c->listen_since);
            if (c->last_msg_time) {
                time_t t = c->last_msg_time - 60;
                struct tm tm;
                gmtime_r(&t, &tm);
                strftime(c->catchup_since, sizeof(c->catchup_since), "%Y-%m-%dT%H:%M:%SZ", &tm);
            }
        }
        if ((rc = xmpp_stanza_add_child_new(x, "field", NULL, &f)) != XMPP_OK ||
            (rc = xmpp_stanza_set_attr(f, "var", "start")) != XMPP_OK ||
            (rc = xmpp_stanza_add_child_new(f, "value", NULL, &v)) != XMPP_OK ||
            (rc = xmpp_stanza_add_text(v, c->catchup_since, strlen(c->catchup_since))) != XMPP_OK)
            goto out;
    }
    if ((rc = xmpp_stanza_add_child_new(q, "set", NS_RSM, &set)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(set, "max", NULL, &e)) != XMPP_OK ||
        (rc = xmpp_stanza_add_text(e, "100", 3)) != XMPP_OK)
        goto out;
    if (c->last_archive_id[0] && (!c->catchup_by_time || c->paging) &&
        ((rc = xmpp_stanza_add_child_new(set, "after", NULL, &e)) != XMPP_OK ||
         (rc = xmpp_stanza_add_text(e, c->last_archive_id, strlen(c->last_archive_id))) != XMPP_OK))
        goto out;
    rc = xmpp_session_send_iq(s, iq, 30000, on_catchup, c);
out:
    xmpp_stanza_unref(iq);
    if (rc != XMPP_OK)
        c->catchup_id[0] = '\0';
    return rc;
}

static int on_message(xmpp_session *s, xmpp_stanza *st, void *ud) {
    struct cli *c = ud;
    const xmpp_stanza *res = xmpp_stanza_child(st, "result", NS_MAM);
    (void)s;
    if (res != NULL) {
        /* an archived message: only from our own archive, only for our
         * open query (XEP-0313 §5, SECURITY.md: MAM spoofing) */
        const xmpp_stanza *fwd = xmpp_stanza_child(res, "forwarded", NS_FORWARD);
        const xmpp_stanza *m = fwd ? xmpp_stanza_child(fwd, "message", XMPP_NS_CLIENT) : NULL;
        const char *qid = xmpp_stanza_attr(res, "queryid"), *aid = xmpp_stanza_attr(res, "id");
        if (!c->catchup_id[0] || qid == NULL || strcmp(qid, c->catchup_id) != 0 ||
            !from_self(c, xmpp_stanza_from(st)) || m == NULL)
            return 1;
        if (aid && strlen(aid) < sizeof(c->last_archive_id))
            snprintf(c->last_archive_id, sizeof(c->last_archive_id), "%s", aid);
        /* messages we sent ourselves are in the archive too */
        if (!from_self(c, xmpp_stanza_from(m)) || xmpp_stanza_from(m) == NULL)
            print_message(c, m);
        return 1;
    }
    note_archive_id(c, st);
    print_message(c, st);
    return 1;
}

/* ---- IQ commands */
static void print_error_reply(const xmpp_stanza *reply) {
    xmpp_stanza_condition cond;
    const char *text = NULL;
    if (xmpp_stanza_get_error(reply, &cond, &text) == XMPP_OK)
        fprintf(stderr, "xmpp-cli: error from %s: %s%s%s\n",
                xmpp_stanza_from(reply) ? xmpp_stanza_from(reply) : "server",
                xmpp_stanza_condition_name(cond), text ? ": " : "", text ? text : "");
    else
        fprintf(stderr, "xmpp-cli: error reply without a condition\n");
}

static char *child_text(const xmpp_stanza *st, const char *path, xmpp_ctx *ctx) {
    char *t = NULL;
    const xmpp_stanza *e = xmpp_stanza_path(st, path);
    if (e && xmpp_stanza_text(e, &t, NULL) == XMPP_OK)
        return t;
    (void)ctx;
    return NULL;
}

static void on_iq(xmpp_session *s, xmpp_iq_status status, xmpp_stanza *reply, void *ud) {
    struct cli *c = ud;
    (void)s;
    c->done = 1;
    if (status == XMPP_IQ_TIMEOUT) {
        fprintf(stderr, "xmpp-cli: no answer to the request\n");
        c->exit_code = EX_TIMEOUT;
        return;
    }
    if (status == XMPP_IQ_CANCELLED) {
        c->done = 0; /* the session ended: its cause decides the exit code */
        return;
    }
    if (status == XMPP_IQ_ERROR) {
        print_error_reply(reply);
        c->exit_code = EX_FAIL;
        return;
    }
    c->exit_code = EX_OK;
    if (strcmp(c->command, "ping") == 0) {
        printf("pong from %s in %llu ms\n",
               xmpp_stanza_from(reply) ? xmpp_stanza_from(reply) : "server",
               (unsigned long long)(now_ms() - c->started));
    } else if (strcmp(c->command, "version") == 0) {
        char *name = child_text(reply, "query@jabber:iq:version/name", c->ctx);
        char *ver = child_text(reply, "query@jabber:iq:version/version", c->ctx);
        char *os = child_text(reply, "query@jabber:iq:version/os", c->ctx);
        printf("name: %s\nversion: %s\n", name ? name : "", ver ? ver : "");
        if (os)
            printf("os: %s\n", os);
        xmpp_free(c->ctx, name);
        xmpp_free(c->ctx, ver);
        xmpp_free(c->ctx, os);
    } else if (strcmp(c->command, "disco") == 0) {
        const xmpp_stanza *q = xmpp_stanza_child(reply, "query",
                                                 "http://jabber.org/protocol/disco#info");
        const xmpp_stanza *e;
        for (e = xmpp_stanza_child(q, "identity", NULL); e;
             e = xmpp_stanza_next_match(e, "identity", NULL))
            printf("identity: %s/%s%s%s\n", xmpp_stanza_attr(e, "category"),
                   xmpp_stanza_attr(e, "type"), xmpp_stanza_attr(e, "name") ? " " : "",
                   xmpp_stanza_attr(e, "name") ? xmpp_stanza_attr(e, "name") : "");
        for (e = xmpp_stanza_child(q, "feature", NULL); e;
             e = xmpp_stanza_next_match(e, "feature", NULL))
            printf("feature: %s\n", xmpp_stanza_attr(e, "var"));
    }
    fflush(stdout);
}

static int send_query(struct cli *c, const char *to, const char *elem, const char *ns) {
    xmpp_stanza *iq = NULL;
    char id[32];
    int rc;
    xmpp_session_new_id(xmpp_client_session(c->client), id, sizeof(id));
    if ((rc = xmpp_iq_new(&iq, c->ctx, "get", to, id)) != XMPP_OK ||
        (rc = xmpp_stanza_add_child_new(iq, elem, ns, NULL)) != XMPP_OK ||
        (rc = xmpp_session_send_iq(xmpp_client_session(c->client), iq, 0, on_iq, c)) != XMPP_OK) {
        xmpp_stanza_unref(iq);
        return rc;
    }
    xmpp_stanza_unref(iq);
    return XMPP_OK;
}

/* ---- send: every message is tracked; the command ends when each one is
 * settled (acknowledged by the server, or known lost). */
static void finish_send(struct cli *c) {
    unsigned long settled = c->acked + c->untracked + c->returned;
    if (c->done || settled < c->lines)
        return;
    if (c->from_stdin && (!c->stdin_eof || c->line != NULL || c->inlen > 0))
        return;
    if (!c->from_stdin && c->untracked > 0)
        return; /* confirmed by the ping round trip (on_iq) */
    c->done = 1;
    if (c->acked == c->lines) {
        c->exit_code = EX_OK;
        return;
    }
    fprintf(stderr, "xmpp-cli: %lu of %lu line(s) not acknowledged by the server%s\n",
            c->lines - c->acked, c->lines,
            c->untracked ? " (it does not offer stream management)" : "");
    c->exit_code = EX_FAIL;
}

static void on_sent(xmpp_session *s, const xmpp_stanza *st, xmpp_sent_status status, void *ud) {
    struct cli *c = ud;
    (void)st;
    if (status == XMPP_SENT_ACKED) {
        c->acked++;
    } else if (status == XMPP_SENT_UNTRACKED) {
        c->untracked++;
        /* without stream management a ping round trip shows the server
         * has processed what came before it */
        if (!c->from_stdin && send_query(c, NULL, "ping", "urn:xmpp:ping") != XMPP_OK)
            c->returned++, c->untracked--;
        (void)s;
    } else {
        c->returned++;
    }
    finish_send(c);
}

/* Queues one message; XMPP_ERR_LIMIT when the queue is full (try later). */
static int send_line(struct cli *c, const char *text) {
    xmpp_session *s = xmpp_client_session(c->client);
    xmpp_stanza *m = NULL;
    char id[32];
    int rc;
    xmpp_session_new_id(s, id, sizeof(id));
    rc = xmpp_message_new(&m, c->ctx, "chat", c->args[0], id, text);
    if (rc == XMPP_OK)
        rc = xmpp_session_send_tracked(s, m, on_sent, c);
    xmpp_stanza_unref(m);
    if (rc == XMPP_OK)
        c->lines++;
    return rc;
}

static int do_send(struct cli *c) {
    char *text;
    size_t len = 0;
    int i, rc;
    for (i = 1; i < c->nargs; i++)
        len += strlen(c->args[i]) + 1;
    text = calloc(1, len + 1);
    if (text == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 1; i < c->nargs; i++) {
        if (i > 1)
            strcat(text, " ");
        strcat(text, c->args[i]);
    }
    rc = send_line(c, text);
    free(text);
    return rc;
}

/* Feeds complete lines from the input buffer while the queue takes them. */
static void feed_lines(struct cli *c) {
    for (;;) {
        char *nl;
        int rc;
        if (c->line == NULL) {
            size_t n;
            nl = memchr(c->inbuf, '\n', c->inlen);
            if (nl == NULL && !(c->stdin_eof && c->inlen > 0) && c->inlen < sizeof(c->inbuf))
                break;
            n = nl ? (size_t)(nl - c->inbuf) : c->inlen;
            c->line = malloc(n + 1);
            if (c->line == NULL)
                die(EX_FAIL, "out of memory");
            memcpy(c->line, c->inbuf, n);
            c->line[n] = '\0';
            if (n > 0 && c->line[n - 1] == '\r')
                c->line[n - 1] = '\0';
            n = nl ? n + 1 : n;
            memmove(c->inbuf, c->inbuf + n, c->inlen - n);
            c->inlen -= n;
        }
        if (c->line[0] == '\0') { /* empty lines are not messages */
            free(c->line);
            c->line = NULL;
            continue;
        }
        rc = send_line(c, c->line);
        if (rc == XMPP_ERR_LIMIT)
            break; /* back-pressure: again once acknowledgements came */
        if (rc != XMPP_OK) {
            fprintf(stderr, "xmpp-cli: line %lu not sent: %s\n", c->lines + 1, xmpp_strerror(rc));
            c->lines++;
            c->returned++;
        }
        free(c->line);
        c->line = NULL;
    }
    finish_send(c);
}

static void read_stdin(struct cli *c) {
    ssize_t r = read(0, c->inbuf + c->inlen, sizeof(c->inbuf) - c->inlen);
    if (r > 0)
        c->inlen += (size_t)r;
    else if (r == 0 || (errno != EINTR && errno != EAGAIN))
        c->stdin_eof = 1;
    feed_lines(c);
}

/* ---- upload FILE: XEP-0363 discovery, slot, HTTP PUT on the client's own
 * loop; the GET URL on stdout, progress on stderr only when it is a
 * terminal. */
static struct {
    const char *path, *type, *cafile;
    char *get_url;
    uint64_t size;
    int allow_http;
    xmpp_upload *up;
} upl;

static void upl_fail(struct cli *c, int code, const char *what, const char *why) {
    fprintf(stderr, "xmpp-cli: upload: %s%s%s\n", what, why ? ": " : "", why ? why : "");
    c->done = 1;
    c->exit_code = code;
}

static void upl_progress(xmpp_upload *up, uint64_t sent, uint64_t total, void *ud) {
    (void)up;
    (void)ud;
    if (isatty(2))
        fprintf(stderr, "\rxmpp-cli: uploaded %llu of %llu bytes (%u%%)%s",
                (unsigned long long)sent, (unsigned long long)total,
                total ? (unsigned)(sent * 100 / total) : 100u, sent == total ? "\n" : "");
}

static void upl_done(xmpp_upload *up, int err, long http_status, void *ud) {
    struct cli *c = ud;
    if (err == XMPP_OK) {
        printf("%s\n", upl.get_url);
        fflush(stdout);
        c->done = 1;
        c->exit_code = EX_OK;
    } else {
        /* no HTTP answer: network or TLS failure; an HTTP status: refused */
        upl_fail(c, http_status ? EX_FAIL : EX_NET, "the HTTP PUT failed",
                 xmpp_upload_error(up) ? xmpp_upload_error(up) : xmpp_strerror(err));
    }
    upl.up = NULL;
    xmpp_upload_free(up);
    free(upl.get_url);
    upl.get_url = NULL;
}

static void upl_slot(xmpp_session *s, xmpp_iq_status status, int err, xmpp_upload_slot *slot,
                     xmpp_stanza *error, void *ud) {
    struct cli *c = ud;
    int rc;
    (void)s;
    if (status == XMPP_IQ_CANCELLED)
        return; /* the session ended: its cause decides */
    if (status == XMPP_IQ_TIMEOUT) {
        upl_fail(c, EX_TIMEOUT, "no answer to the slot request", NULL);
    } else if (status == XMPP_IQ_ERROR) {
        uint64_t max = xmpp_upload_error_max_size(error);
        print_error_reply(error);
        if (max)
            fprintf(stderr, "xmpp-cli: upload: the service takes at most %llu bytes\n",
                    (unsigned long long)max);
        upl_fail(c, EX_FAIL, "slot refused", NULL);
    } else if (err != XMPP_OK) {
        upl_fail(c, EX_FAIL, "unusable slot", xmpp_strerror(err));
    } else if ((rc = xmpp_upload_new(&upl.up, c->client, slot)) != XMPP_OK ||
               (upl.cafile && (rc = xmpp_upload_set_cafile(upl.up, upl.cafile)) != XMPP_OK) ||
               (rc = xmpp_upload_allow_http(upl.up, upl.allow_http)) != XMPP_OK ||
               (rc = xmpp_upload_set_callbacks(upl.up, upl_progress, upl_done, c)) != XMPP_OK ||
               (rc = xmpp_upload_start_file(upl.up, upl.path, upl.type)) != XMPP_OK) {
        xmpp_upload_free(upl.up);
        upl.up = NULL;
        upl_fail(c, EX_FAIL, "cannot start the transfer", xmpp_strerror(rc));
    } else if ((upl.get_url = strdup(xmpp_upload_slot_get_url(slot))) == NULL) {
        xmpp_upload_free(upl.up); /* fires upl_done: cancelled */
    }
    xmpp_upload_slot_free(slot);
}

static void upl_service(xmpp_session *s, xmpp_iq_status status, const char *service, uint64_t max,
                        void *ud) {
    struct cli *c = ud;
    const char *name = strrchr(upl.path, '/') ? strrchr(upl.path, '/') + 1 : upl.path;
    int rc;
    if (status == XMPP_IQ_CANCELLED)
        return;
    if (status == XMPP_IQ_TIMEOUT) {
        upl_fail(c, EX_TIMEOUT, "no answer to the service discovery", NULL);
        return;
    }
    if (status != XMPP_IQ_RESULT || service == NULL) {
        upl_fail(c, EX_FAIL, "the server offers no upload service", NULL);
        return;
    }
    if (max && upl.size > max) {
        fprintf(stderr, "xmpp-cli: upload: %s takes at most %llu bytes\n", service,
                (unsigned long long)max);
        upl_fail(c, EX_FAIL, "file too large", NULL);
        return;
    }
    rc = xmpp_upload_request_slot(s, service, name, upl.size, upl.type,
                                  upl.allow_http ? XMPP_UPLOAD_ALLOW_HTTP : 0, 0, upl_slot, c);
    if (rc != XMPP_OK)
        upl_fail(c, EX_FAIL, "cannot request a slot", xmpp_strerror(rc));
}

static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    struct cli *c = ud;
    int rc = XMPP_OK, first = !c->ready;
    c->ready = 1;
    /* logged in once: from now on keep trying whatever happens */
    if (first && c->reconnect > 0)
        xmpp_client_set_reconnect(c->client, 250, 10000, 0);
    c->started = now_ms();
    if (c->verbose)
        fprintf(stderr, "xmpp-cli: %s as %s (%s)\n",
                xmpp_session_resumed(s) ? "resumed the stream" : "logged in", jid,
                xmpp_session_mechanism(s));
    if (strcmp(c->command, "send") == 0) {
        /* the message (or the lines) are queued: a reconnection re-sends */
        if (first && !c->from_stdin)
            rc = do_send(c);
    } else if (strcmp(c->command, "listen") == 0 && xmpp_session_resumed(s)) {
        /* the stream carries on: presence and routing are unchanged */
    } else if (strcmp(c->command, "listen") == 0) {
        /* a new session after a lost one: what the server held for the
         * old stream may not come again (it may bounce it or store it);
         * the archive has it */
        xmpp_stanza *p = NULL;
        /* initial presence, so the server routes messages to us */
        rc = xmpp_presence_new(&p, c->ctx, NULL, NULL, NULL);
        if (rc == XMPP_OK)
            rc = xmpp_session_send(s, p);
        xmpp_stanza_unref(p);
        c->paging = 0;
        c->catchup_by_time = 0;
        if (rc == XMPP_OK && !first && c->reconnect > 0 && send_catchup(c) != XMPP_OK &&
            c->verbose)
            fprintf(stderr, "xmpp-cli: cannot start the archive catch-up\n");
    } else if (strcmp(c->command, "ping") == 0) {
        rc = send_query(c, c->nargs > 0 ? c->args[0] : NULL, "ping", "urn:xmpp:ping");
    } else if (strcmp(c->command, "version") == 0) {
        rc = send_query(c, c->args[0], "query", "jabber:iq:version");
    } else if (strcmp(c->command, "disco") == 0) {
        rc = send_query(c, c->args[0], "query", "http://jabber.org/protocol/disco#info");
    } else if (strcmp(c->command, "upload") == 0 && first) {
        rc = xmpp_upload_discover(s, 0, upl_service, c);
    }
    if (rc != XMPP_OK) {
        fprintf(stderr, "xmpp-cli: %s\n", xmpp_strerror(rc));
        c->done = 1;
        /* a malformed recipient JID, or message text that XML cannot
         * carry (invalid UTF-8, control characters), is a usage error */
        c->exit_code = (rc <= XMPP_ERR_JID_MALFORMED && rc >= XMPP_ERR_JID_ESCAPE) ||
                               rc == XMPP_ERR_INVALID || rc == XMPP_ERR_UTF8
                           ? EX_USAGE
                           : EX_FAIL;
    }
}

static int exit_for_cause(xmpp_disconnect_cause cause) {
    switch (cause) {
    case XMPP_CAUSE_DNS:
    case XMPP_CAUSE_TCP:
    case XMPP_CAUSE_PROXY: return EX_NET;
    case XMPP_CAUSE_TLS:
    case XMPP_CAUSE_TLS_VERIFY:
    case XMPP_CAUSE_TLS_REQUIRED: return EX_TLS;
    case XMPP_CAUSE_SASL: return EX_AUTH;
    case XMPP_CAUSE_STREAM_ERROR:
    case XMPP_CAUSE_PROTOCOL:
    case XMPP_CAUSE_REMOTE_CLOSE: return EX_STREAM;
    case XMPP_CAUSE_TIMEOUT: return EX_TIMEOUT;
    case XMPP_CAUSE_LOCAL_CLOSE:
    case XMPP_CAUSE_NONE: return EX_OK;
    default: return EX_FAIL;
    }
}

static void on_reconnect(xmpp_client *cl, xmpp_disconnect_cause cause, unsigned attempt,
                         unsigned delay_ms, void *ud) {
    struct cli *c = ud;
    const char *text = NULL;
    (void)cl;
    xmpp_session_get_error(xmpp_client_session(c->client), NULL, &text);
    if (cause == XMPP_CAUSE_DNS || cause == XMPP_CAUSE_TCP || cause == XMPP_CAUSE_PROXY)
        text = xmpp_client_error(c->client) ? xmpp_client_error(c->client) : text;
    if (c->verbose)
        fprintf(stderr, "xmpp-cli: connection lost (%s); reconnecting in %u ms (attempt %u)\n",
                text ? text : "closed", delay_ms, attempt);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct cli *c = ud;
    xmpp_stream_condition cond;
    const char *text = NULL;
    if (c->done && cause == XMPP_CAUSE_LOCAL_CLOSE)
        return;
    xmpp_session_get_error(s, &cond, &text);
    if (cause == XMPP_CAUSE_DNS || cause == XMPP_CAUSE_TCP || cause == XMPP_CAUSE_PROXY)
        text = xmpp_client_error(c->client) ? xmpp_client_error(c->client) : text;
    if (cause != XMPP_CAUSE_LOCAL_CLOSE) {
        if (cause == XMPP_CAUSE_STREAM_ERROR)
            fprintf(stderr, "xmpp-cli: stream error: %s%s%s\n", xmpp_stream_condition_name(cond),
                    text ? ": " : "", text ? text : "");
        else
            fprintf(stderr, "xmpp-cli: %s\n", text ? text : "connection closed");
    }
    if (!c->done) {
        c->done = 1;
        c->exit_code = exit_for_cause(cause);
        if (c->exit_code == EX_OK && !c->ready)
            c->exit_code = EX_NET;
    }
}

/* One iteration of a poll loop over the client's descriptors and, for
 * send --stdin, standard input (read only while the queue takes lines). */
static int loop_once(struct cli *c, int wait) {
    struct pollfd pfd[40];
    int fds[3 * 39], n, k, t, rc, any = 0, want_in;
    n = xmpp_client_get_pollfds(c->client, fds, 39, &t);
    if (n < 0)
        return n;
    if (t < 0 || t > wait)
        t = wait;
    for (k = 0; k < n; k++) {
        pfd[k].fd = fds[3 * k];
        pfd[k].events = (short)fds[3 * k + 1];
        pfd[k].revents = 0;
    }
    want_in = !c->stdin_eof && c->line == NULL && c->inlen < sizeof(c->inbuf);
    if (want_in) {
        pfd[n].fd = 0;
        pfd[n].events = POLLIN;
        pfd[n].revents = 0;
    }
    rc = poll(pfd, (nfds_t)(n + want_in), t);
    if (rc < 0 && errno != EINTR)
        return XMPP_ERR_STATE;
    for (k = 0; rc > 0 && k < n; k++) {
        int ev = 0;
        if (pfd[k].revents & POLLIN)
            ev |= XMPP_IO_IN;
        if (pfd[k].revents & POLLOUT)
            ev |= XMPP_IO_OUT;
        if (pfd[k].revents & (POLLERR | POLLHUP | POLLNVAL))
            ev |= XMPP_IO_ERROR | XMPP_IO_IN | XMPP_IO_OUT;
        if (ev) {
            any = 1;
            if (xmpp_client_socket_action(c->client, pfd[k].fd, ev) == XMPP_ERR_CLOSED)
                return XMPP_ERR_CLOSED;
        }
    }
    /* timers; and the session's clock brought up to date before sending
     * from here (the ack timeout runs from the send) */
    (void)any;
    if (xmpp_client_socket_action(c->client, -1, 0) == XMPP_ERR_CLOSED)
        return XMPP_ERR_CLOSED;
    if (want_in && rc > 0 && pfd[n].revents)
        read_stdin(c);
    else if (c->line != NULL || (c->stdin_eof && c->inlen > 0))
        feed_lines(c); /* acknowledgements may have made room */
    /* writes what was queued from here */
    return xmpp_client_socket_action(c->client, -1, 0);
}

/* ---- configuration */
static char *read_password_file(const char *path) {
    FILE *f = fopen(path, "r");
    char buf[1024];
    size_t n;
    if (f == NULL)
        die(EX_USAGE, "cannot read password file %s: %s", path, strerror(errno));
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    buf[strcspn(buf, "\r\n")] = '\0';
    return strdup(buf);
}

static int parse_pin(const char *s, unsigned char out[32]) {
    size_t len = strlen(s), i;
    if (strncmp(s, "sha256/", 7) == 0) {
        s += 7;
        len -= 7;
    }
    if (len == 64) {
        for (i = 0; i < 32; i++) {
            unsigned v;
            if (sscanf(s + 2 * i, "%2x", &v) != 1)
                return -1;
            out[i] = (unsigned char)v;
        }
        return 0;
    }
    if (len == 44) { /* base64 */
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        unsigned acc = 0, bits = 0, n = 0;
        for (i = 0; i < len && s[i] != '='; i++) {
            const char *p = strchr(tab, s[i]);
            if (p == NULL || s[i] == '\0')
                return -1;
            acc = (acc << 6) | (unsigned)(p - tab);
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                if (n == 32)
                    return -1;
                out[n++] = (unsigned char)(acc >> bits);
            }
        }
        return n == 32 ? 0 : -1;
    }
    return -1;
}

int main(int argc, char **argv) {
    struct cli c;
    const char *jid = getenv("XMPP_JID"), *server = NULL, *cafile = NULL, *tls = NULL;
    const char *proxy = NULL;
    const char *sasl = NULL, *tls_max = NULL;
    char *password = NULL;
    unsigned char pin[32];
    int have_pin = 0, allow_plain = 0, compress = 0, i, rc;
    double timeout = 0, keepalive = 0;
    xmpp_session_options *o = NULL;
    xmpp_tls_config *cfg = NULL;
    uint64_t deadline = 0;

    memset(&c, 0, sizeof(c));
    c.reconnect = -1;
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
#define NEXT() (i + 1 < argc ? argv[++i] : (usage(), exit(EX_USAGE), (char *)NULL))
        if (strcmp(a, "--jid") == 0)
            jid = NEXT();
        else if (strcmp(a, "--password-file") == 0)
            password = read_password_file(NEXT());
        else if (strcmp(a, "--password-env") == 0) {
            const char *var = NEXT(), *v = getenv(var);
            if (v == NULL)
                die(EX_USAGE, "environment variable %s is not set", var);
            password = strdup(v);
        } else if (strcmp(a, "--server") == 0)
            server = NEXT();
        else if (strcmp(a, "--proxy") == 0 || strcmp(a, "--proxy-env") == 0) {
            /* --proxy-env keeps the proxy's password off the command line */
            proxy = NEXT();
            if (a[7] == '-' && (proxy = getenv(proxy)) == NULL)
                die(EX_USAGE, "environment variable %s is not set", argv[i]);
        }
        else if (strcmp(a, "--tls") == 0)
            tls = NEXT();
        else if (strcmp(a, "--cafile") == 0)
            cafile = NEXT();
        else if (strcmp(a, "--pin") == 0) {
            if (parse_pin(NEXT(), pin) != 0)
                die(EX_USAGE, "--pin takes a SHA-256 SPKI hash in hex (64 digits) or base64");
            have_pin = 1;
        } else if (strcmp(a, "--allow-plaintext") == 0)
            allow_plain = 1;
        else if (strcmp(a, "--timeout") == 0) {
            char *end;
            timeout = strtod(NEXT(), &end);
            if (*end || timeout <= 0)
                die(EX_USAGE, "--timeout takes a positive number of seconds");
        } else if (strcmp(a, "--sasl") == 0)
            sasl = NEXT();
        else if (strcmp(a, "--tls-max") == 0)
            tls_max = NEXT();
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            c.verbose = 1;
        else if (strcmp(a, "--compress") == 0)
            compress = 1;
        else if (strcmp(a, "--reconnect") == 0)
            c.reconnect = 1;
        else if (strcmp(a, "--no-reconnect") == 0)
            c.reconnect = 0;
        else if (strcmp(a, "--keepalive") == 0) {
            char *end;
            keepalive = strtod(NEXT(), &end);
            if (*end || keepalive <= 0)
                die(EX_USAGE, "--keepalive takes a positive number of seconds");
        }
        else if (strcmp(a, "--password") == 0)
            die(EX_USAGE, "passwords are never taken from the command line: use --password-file "
                          "or --password-env");
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            return EX_OK;
        } else {
            usage();
            die(EX_USAGE, "unknown option %s", a);
        }
    }
    if (i >= argc) {
        usage();
        die(EX_USAGE, "no command given");
    }
    c.command = argv[i++];
    c.args = argv + i;
    c.nargs = argc - i;
    if (strcmp(c.command, "send") == 0 || strcmp(c.command, "listen") == 0) {
        /* --reconnect / --no-reconnect may also follow the command */
        int j, k = 0;
        for (j = 0; j < c.nargs; j++) {
            if (strcmp(c.args[j], "--reconnect") == 0)
                c.reconnect = 1;
            else if (strcmp(c.args[j], "--no-reconnect") == 0)
                c.reconnect = 0;
            else
                c.args[k++] = c.args[j];
        }
        c.nargs = k;
        if (c.reconnect < 0)
            c.reconnect = 1; /* on by default for these two */
    }
    if (strcmp(c.command, "send") == 0) {
        if (c.nargs == 2 && strcmp(c.args[1], "--stdin") == 0)
            c.from_stdin = 1;
        else if (c.nargs < 2)
            die(EX_USAGE, "usage: send TO TEXT... | send TO --stdin");
    } else if (strcmp(c.command, "listen") == 0) {
        if (c.nargs == 2 && strcmp(c.args[0], "--count") == 0) {
            char *end;
            c.count = strtol(c.args[1], &end, 10);
            if (*end || c.count <= 0)
                die(EX_USAGE, "--count takes a positive number");
        } else if (c.nargs != 0) {
            die(EX_USAGE, "usage: listen [--count N]");
        }
        {
            time_t now = time(NULL);
            struct tm tm;
            gmtime_r(&now, &tm);
            strftime(c.listen_since, sizeof(c.listen_since), "%Y-%m-%dT%H:%M:%SZ", &tm);
        }
        c.seen = calloc(SEEN_SLOTS, sizeof(*c.seen));
        c.seen_fifo = calloc(SEEN_MAX, sizeof(*c.seen_fifo));
        if (c.seen == NULL || c.seen_fifo == NULL)
            die(EX_FAIL, "out of memory");
    } else if (strcmp(c.command, "ping") == 0) {
        if (c.nargs > 1)
            die(EX_USAGE, "usage: ping [JID]");
    } else if (strcmp(c.command, "upload") == 0) {
        struct stat st;
        int j;
        for (j = 0; j < c.nargs; j++) {
            if (strcmp(c.args[j], "--allow-http") == 0)
                upl.allow_http = 1;
            else if (strcmp(c.args[j], "--type") == 0 && j + 1 < c.nargs)
                upl.type = c.args[++j];
            else if (upl.path == NULL && c.args[j][0] != '-')
                upl.path = c.args[j];
            else
                die(EX_USAGE, "usage: upload [--type MIME] [--allow-http] FILE");
        }
        if (upl.path == NULL)
            die(EX_USAGE, "usage: upload [--type MIME] [--allow-http] FILE");
        if (stat(upl.path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
            die(EX_USAGE, "cannot upload %s: not a readable, non-empty file", upl.path);
        upl.size = (uint64_t)st.st_size;
        upl.cafile = cafile; /* the HTTPS server is checked against the same CA */
    } else if (strcmp(c.command, "version") == 0 || strcmp(c.command, "disco") == 0) {
        if (c.nargs != 1)
            die(EX_USAGE, "usage: %s JID", c.command);
    } else {
        usage();
        die(EX_USAGE, "unknown command %s", c.command);
    }
    if (jid == NULL)
        die(EX_USAGE, "no JID: use --jid or XMPP_JID");
    if (password == NULL)
        die(EX_USAGE, "no password: use --password-file or --password-env");

    if (xmpp_ctx_new(&c.ctx, NULL) != XMPP_OK)
        die(EX_FAIL, "out of memory");
    if (c.verbose)
        xmpp_ctx_set_log(c.ctx, log_cb, XMPP_LOG_DEBUG, NULL);
    if (xmpp_session_options_new(&o, c.ctx) != XMPP_OK)
        die(EX_FAIL, "out of memory");
    if ((rc = xmpp_session_options_set_jid(o, jid)) != XMPP_OK)
        die(EX_USAGE, "invalid JID %s: %s", jid, xmpp_strerror(rc));
    if (xmpp_session_options_set_password(o, password) != XMPP_OK)
        die(EX_USAGE, "invalid password");
    memset(password, 0, strlen(password));
    free(password);
    if (tls != NULL) {
        if (strcmp(tls, "starttls") == 0)
            xmpp_session_options_set_tls_mode(o, XMPP_TLS_STARTTLS);
        else if (strcmp(tls, "direct") == 0)
            xmpp_session_options_set_tls_mode(o, XMPP_TLS_DIRECT);
        else
            die(EX_USAGE, "--tls takes starttls or direct");
    }
    if (allow_plain) {
        fprintf(stderr, "xmpp-cli: WARNING: --allow-plaintext: the stream and the password may "
                        "cross the network unencrypted\n");
        xmpp_session_options_allow_plaintext(o, 1);
    }
    if (compress)
        xmpp_session_options_set_compression(o, 1);
    if (sasl != NULL && xmpp_session_options_set_mechanisms(o, &sasl, 1) != XMPP_OK)
        die(EX_USAGE, "invalid --sasl mechanism");
    if (xmpp_tls_config_new(&cfg, c.ctx) != XMPP_OK)
        die(EX_FAIL, "out of memory");
    if (cafile != NULL && (rc = xmpp_tls_config_add_cafile(cfg, cafile)) != XMPP_OK)
        die(EX_USAGE, "cannot load CA file %s: %s", cafile, xmpp_strerror(rc));
    if (have_pin)
        xmpp_tls_config_add_pin_sha256(cfg, pin);
    if (tls_max != NULL) {
        if (strcmp(tls_max, "1.2") == 0)
            xmpp_tls_config_set_max_version(cfg, XMPP_TLS_VERSION_1_2);
        else if (strcmp(tls_max, "1.3") != 0)
            die(EX_USAGE, "--tls-max takes 1.2 or 1.3");
    }
    xmpp_session_options_set_tls_config(o, cfg);
    xmpp_tls_config_unref(cfg);
    if (timeout > 0)
        xmpp_session_options_set_timeouts(o, (unsigned)(timeout * 1000), (unsigned)(timeout * 1000));
    /* a dead connection (a black hole) is noticed by the keepalive: an
     * ack request with stream management, else a ping */
    if (keepalive > 0)
        xmpp_session_options_set_keepalive(o, (unsigned)(keepalive * 1000),
                                           (unsigned)(keepalive * 1000));
    else if (c.reconnect > 0)
        xmpp_session_options_set_keepalive(o, 30000, 15000);
    xmpp_session_options_set_callbacks(o, on_ready, on_closed, &c);
    if ((rc = xmpp_client_new(&c.client, c.ctx, o)) != XMPP_OK)
        die(EX_FAIL, "cannot create the client: %s", xmpp_strerror(rc));
    xmpp_session_options_free(o);
    c.s = xmpp_client_session(c.client);
    if (c.reconnect > 0) {
        /* until the first login, a few attempts only: a server that is
         * down or refuses us is reported, not retried forever */
        xmpp_client_set_reconnect(c.client, 250, 10000, 3);
        xmpp_client_set_reconnect_fn(c.client, on_reconnect, &c);
    }
    if (strcmp(c.command, "listen") == 0)
        xmpp_session_add_handler(c.s, "message", NULL, NULL, on_message, &c, NULL);
    if (proxy != NULL && xmpp_client_set_proxy(c.client, proxy) != XMPP_OK)
        die(EX_USAGE, "bad --proxy: %s",
            xmpp_client_error(c.client) ? xmpp_client_error(c.client) : "rejected");
    if (server != NULL) {
        char host[256];
        unsigned port = 5222;
        const char *colon = strrchr(server, ':');
        if (server[0] == '[') { /* [v6]:port */
            const char *close = strchr(server, ']');
            if (close == NULL || (size_t)(close - server - 1) >= sizeof(host))
                die(EX_USAGE, "bad --server %s", server);
            memcpy(host, server + 1, (size_t)(close - server - 1));
            host[close - server - 1] = '\0';
            colon = close[1] == ':' ? close + 1 : NULL;
        } else {
            size_t hl = colon ? (size_t)(colon - server) : strlen(server);
            if (hl >= sizeof(host) || hl == 0)
                die(EX_USAGE, "bad --server %s", server);
            memcpy(host, server, hl);
            host[hl] = '\0';
        }
        if (colon) {
            char *end;
            long p = strtol(colon + 1, &end, 10);
            if (*end || p <= 0 || p > 65535)
                die(EX_USAGE, "bad port in --server %s", server);
            port = (unsigned)p;
        } else if (tls && strcmp(tls, "direct") == 0) {
            port = 5223;
        }
        xmpp_client_set_server(c.client, host, port);
    }
    if (timeout > 0)
        deadline = now_ms() + (uint64_t)(timeout * 1000);
    xmpp_client_connect(c.client);
    if (c.from_stdin)
        feed_lines(&c);
    while (!c.done) {
        int wait = 1000;
        if (deadline) {
            uint64_t now = now_ms();
            if (now >= deadline) {
                /* listen without --count simply ends at the deadline */
                if (c.ready && strcmp(c.command, "listen") == 0 && c.count == 0) {
                    c.exit_code = EX_OK;
                    break;
                }
                fprintf(stderr, "xmpp-cli: timed out after %g s\n", timeout);
                c.exit_code = EX_TIMEOUT;
                break;
            }
            if (deadline - now < (uint64_t)wait)
                wait = (int)(deadline - now);
        }
        if (c.from_stdin) {
            if (loop_once(&c, wait) == XMPP_ERR_CLOSED)
                break;
        } else if (xmpp_client_run_once(c.client, wait) == XMPP_ERR_CLOSED) {
            break;
        }
    }
    if (c.from_stdin && !c.done) {
        unsigned long total = c.lines + (c.line ? 1 : 0);
        fprintf(stderr, "xmpp-cli: %lu of %lu line(s) not acknowledged by the server\n",
                total - c.acked, total);
        if (c.exit_code == EX_OK)
            c.exit_code = EX_FAIL;
    }
    {
        unsigned long rec = 0, res = 0;
        xmpp_client_stats(c.client, &rec, &res);
        if (c.from_stdin || rec > 0)
            fprintf(stderr, "xmpp-cli: %s%lu reconnect(s), %lu stream(s) resumed\n",
                    c.from_stdin ? "" : "", rec, res);
        if (c.from_stdin)
            fprintf(stderr, "xmpp-cli: %lu line(s) sent, %lu acknowledged\n", c.lines, c.acked);
    }
    if (!c.done && c.exit_code == EX_OK && xmpp_session_get_state(xmpp_client_session(c.client)) == XMPP_STATE_CLOSED)
        c.exit_code = exit_for_cause(xmpp_session_get_error(xmpp_client_session(c.client), NULL, NULL));
    /* polite close: our end of the stream, bounded by a short wait */
    if (xmpp_session_get_state(xmpp_client_session(c.client)) != XMPP_STATE_CLOSED) {
        uint64_t until = now_ms() + 2000;
        int done_before = c.done;
        c.done = 1;
        xmpp_client_close(c.client);
        while (now_ms() < until && xmpp_client_run_once(c.client, 100) != XMPP_ERR_CLOSED)
            ;
        c.done = done_before;
    }
    xmpp_client_free(c.client);
    free(c.seen);
    free(c.seen_fifo);
    free(c.line);
    xmpp_ctx_free(c.ctx);
    return c.exit_code;
}
