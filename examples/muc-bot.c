/* muc-bot: a conference bot on libxmpp's "muc" plugin (XEP-0045).
 *
 *   muc-bot CONFIG-FILE
 *
 * It joins the configured rooms, answers !help, !ping, !uptime and
 * !seen NICK, appends every room message to LOG_DIR/ROOM.log, and comes
 * back by itself: after a kick, a room shutdown (332) or destruction
 * (the room is joined again, i.e. recreated), a lost self-ping (XEP-0410)
 * and a lost connection (the driver's reconnect policy; rooms are joined
 * again when the stream could not be resumed). Replies go through a token
 * bucket: never more than `rate` messages per `rate_period` seconds; a
 * reply that does not fit in the bucket's queue is dropped with a log line.
 *
 * The configuration file has `key = value` lines (# starts a comment):
 *
 *   jid = bot@example.org           the account (required)
 *   password_file = /path           or: password_env = VARIABLE (required)
 *   server = 127.0.0.1:5222         HOST:PORT instead of DNS (optional)
 *   cafile = /path/ca.pem           trusted CAs (optional)
 *   nick = bot                      the nick in every room (required)
 *   room = room@conference.example.org     one line per room (1 to 32)
 *   log_dir = /var/log/muc-bot      where room logs go (required)
 *   rate = 5                        replies per period (default 5)
 *   rate_period = 10                the period in seconds (default 10)
 *   rejoin_delay = 2                seconds before joining again (default 2)
 *   resume = yes                    resume the stream after a connection loss
 *                                   (XEP-0198; default yes); with no, every
 *                                   reconnection is a new stream and the
 *                                   rooms are joined again
 *
 * It logs what it does on stderr ("muc-bot: joined ROOM", ...). Exit 0
 * after SIGINT/SIGTERM, 1 when the session failed for good, 2 for bad
 * settings. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xmpp/xmpp.h>
#include <xmpp/xep/muc.h>

#define MAX_ROOMS 32
#define MAX_SEEN  1024
#define MAX_QUEUE 64

struct reply {
    char room[512];
    char text[512];
};

struct bot {
    xmpp_ctx *ctx;
    xmpp_client *client;
    xmpp_session *s;
    char *rooms[MAX_ROOMS];
    int n_rooms;
    uint64_t rejoin_at[MAX_ROOMS]; /* 0: nothing to do */
    char nick[256], log_dir[1024];
    double rate, period, rejoin_delay;
    double tokens;
    uint64_t refilled;
    struct reply queue[MAX_QUEUE];
    int qhead, qlen, qcap;
    unsigned long sent, dropped;
    time_t started;
    struct {
        char nick[128];
        time_t when;
    } seen[MAX_SEEN];
    int n_seen;
    int ready, failed;
};

static volatile sig_atomic_t stop_requested;
static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#define SAY(...) (fputs("muc-bot: ", stderr), fprintf(stderr, __VA_ARGS__), fputc('\n', stderr))

static int room_index(struct bot *b, const char *room) {
    int i;
    for (i = 0; i < b->n_rooms; i++)
        if (strcmp(b->rooms[i], room) == 0)
            return i;
    return -1;
}

/* ---- logging room traffic: LOG_DIR/ROOM.log, one line per message */
static void log_line(struct bot *b, const char *room, const char *nick, const char *text) {
    char path[2048], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    FILE *f;
    const char *p;
    snprintf(path, sizeof(path), "%s/%s.log", b->log_dir, room);
    if ((f = fopen(path, "a")) == NULL) {
        SAY("cannot write %s", path);
        return;
    }
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "%s <%s> ", stamp, nick ? nick : "*");
    for (p = text; *p; p++) /* one line per message, whatever it holds */
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    fputc('\n', f);
    fclose(f);
}

/* ---- the token bucket */
static void refill(struct bot *b) {
    uint64_t now = now_ms();
    b->tokens += (double)(now - b->refilled) * b->rate / (b->period * 1000.0);
    if (b->tokens > b->rate)
        b->tokens = b->rate;
    b->refilled = now;
}

static void queue_reply(struct bot *b, const char *room, const char *text) {
    struct reply *r;
    if (b->qlen >= b->qcap) {
        b->dropped++;
        fprintf(stderr, "muc-bot: rate limit: dropped reply in %s (%lu dropped)\n", room,
                b->dropped);
        return;
    }
    r = &b->queue[(b->qhead + b->qlen) % MAX_QUEUE];
    snprintf(r->room, sizeof(r->room), "%s", room);
    snprintf(r->text, sizeof(r->text), "%s", text);
    b->qlen++;
}

static void drain_replies(struct bot *b) {
    refill(b);
    while (b->qlen > 0 && b->tokens >= 1.0) {
        struct reply *r = &b->queue[b->qhead];
        int rc = xmpp_muc_send(b->s, r->room, r->text, NULL, 0);
        if (rc == XMPP_ERR_STATE && !xmpp_muc_joined(b->s, r->room)) {
            SAY("dropped a reply: not in %s", r->room);
        } else if (rc != XMPP_OK) {
            return; /* back-pressure: try again later */
        } else {
            b->tokens -= 1.0;
            b->sent++;
        }
        b->qhead = (b->qhead + 1) % MAX_QUEUE;
        b->qlen--;
    }
}

/* ---- commands */
static void note_seen(struct bot *b, const char *nick) {
    int i;
    for (i = 0; i < b->n_seen; i++)
        if (strcmp(b->seen[i].nick, nick) == 0)
            break;
    if (i == b->n_seen) {
        if (b->n_seen == MAX_SEEN)
            i = (int)(time(NULL) % MAX_SEEN); /* full: forget someone */
        else
            b->n_seen++;
        snprintf(b->seen[i].nick, sizeof(b->seen[i].nick), "%s", nick);
    }
    b->seen[i].when = time(NULL);
}

static void command(struct bot *b, const char *room, const char *nick, const char *body) {
    char out[512];
    if (strcmp(body, "!help") == 0) {
        snprintf(out, sizeof(out), "commands: !help !ping !uptime !seen NICK");
    } else if (strcmp(body, "!ping") == 0) {
        snprintf(out, sizeof(out), "%s: pong", nick);
    } else if (strcmp(body, "!uptime") == 0) {
        snprintf(out, sizeof(out), "up %lds, %lu replies sent, %lu dropped",
                 (long)(time(NULL) - b->started), b->sent, b->dropped);
    } else if (strncmp(body, "!seen ", 6) == 0 && body[6]) {
        const char *who = body + 6;
        int i;
        for (i = 0; i < b->n_seen; i++)
            if (strcmp(b->seen[i].nick, who) == 0)
                break;
        if (i < b->n_seen)
            snprintf(out, sizeof(out), "%.200s was last seen %lds ago", who,
                     (long)(time(NULL) - b->seen[i].when));
        else
            snprintf(out, sizeof(out), "I have not seen %.200s", who);
    } else {
        return;
    }
    queue_reply(b, room, out);
}

/* ---- MUC events */
static void on_message(xmpp_session *s, const char *room, const char *nick, const char *body,
                       int is_private, int delayed, xmpp_stanza *st, void *ud) {
    struct bot *b = ud;
    const char *own = xmpp_muc_nick(s, room);
    (void)st;
    if (is_private)
        return;
    log_line(b, room, nick, body);
    if (nick == NULL || delayed || (own && strcmp(nick, own) == 0))
        return; /* the room's own notices, history, our own reflections */
    note_seen(b, nick);
    if (body[0] == '!')
        command(b, room, nick, body);
}

static void on_occupant(xmpp_session *s, const char *room, const xmpp_muc_occupant *occ,
                        xmpp_muc_occupant_event ev, unsigned bits, const char *new_nick, void *ud) {
    struct bot *b = ud;
    (void)s;
    (void)bits;
    (void)new_nick;
    (void)room;
    if (ev != XMPP_MUC_OCCUPANT_CHANGED)
        note_seen(b, occ->nick);
}

static void schedule_rejoin(struct bot *b, const char *room) {
    int i = room_index(b, room);
    if (i >= 0)
        b->rejoin_at[i] = now_ms() + (uint64_t)(b->rejoin_delay * 1000);
}

static void on_removed(xmpp_session *s, const char *room, xmpp_muc_removal why, const char *actor,
                       const char *reason, const char *alt, void *ud) {
    static const char *const whys[] = {"left",      "kicked",      "banned", "shutdown",
                                       "destroyed", "affiliation", "error",  "not joined"};
    struct bot *b = ud;
    (void)s;
    (void)actor;
    (void)alt;
    fprintf(stderr, "muc-bot: removed from %s (%s)%s%s\n", room, whys[(unsigned)why < 8 ? why : 6],
            reason ? ": " : "", reason ? reason : "");
    log_line(b, room, NULL, whys[(unsigned)why < 8 ? why : 6]);
    if (why == XMPP_MUC_REMOVED_BANNED)
        return;                             /* an outcast cannot come back */
    if (why != XMPP_MUC_REMOVED_NOT_JOINED) /* the plugin rejoins those itself */
        schedule_rejoin(b, room);
}

static void on_joined(xmpp_session *s, const char *room, xmpp_muc_join_status status,
                      xmpp_stanza_condition cond, const char *text, unsigned bits, void *ud) {
    struct bot *b = ud;
    if (status == XMPP_MUC_JOIN_OK) {
        SAY("joined %s as %s", room, xmpp_muc_nick(s, room));
        if (bits & XMPP_MUC_STATUS_CREATED) /* recreated after a destroy, or new */
            (void)xmpp_muc_instant_room(s, room, NULL, NULL);
        return;
    }
    if (status == XMPP_MUC_JOIN_CANCELLED)
        return;
    fprintf(stderr, "muc-bot: cannot join %s: %s%s%s\n", room,
            status == XMPP_MUC_JOIN_TIMEOUT ? "timeout" : xmpp_stanza_condition_name(cond),
            text ? ": " : "", text ? text : "");
    schedule_rejoin(b, room);
}

static void join(struct bot *b, const char *room) {
    xmpp_muc_history none = {0, -1, -1, NULL};
    int rc = xmpp_muc_join(b->s, room, b->nick, NULL, &none, 20000, on_joined, b);
    if (rc != XMPP_OK && rc != XMPP_ERR_STATE) {
        fprintf(stderr, "muc-bot: cannot join %s: %s\n", room, xmpp_strerror(rc));
        schedule_rejoin(b, room);
    }
}

/* ---- session */
static void on_ready(xmpp_session *s, const char *jid, void *ud) {
    struct bot *b = ud;
    int i;
    if (!b->ready) {
        xmpp_muc_callbacks cb;
        memset(&cb, 0, sizeof(cb));
        cb.message = on_message;
        cb.occupant = on_occupant;
        cb.removed = on_removed;
        b->ready = 1;
        SAY("ready as %s", jid);
        if (xmpp_session_enable_plugin(s, "muc") != XMPP_OK ||
            xmpp_muc_set_callbacks(s, &cb, b) != XMPP_OK ||
            xmpp_muc_set_self_ping(s, 60000, 1) != XMPP_OK) {
            b->failed = 1;
            xmpp_client_close(b->client);
            return;
        }
        for (i = 0; i < b->n_rooms; i++)
            join(b, b->rooms[i]);
        return;
    }
    if (xmpp_session_resumed(s)) {
        SAY("resumed the stream");
        return;
    }
    /* a new stream: the rooms no longer know us */
    SAY("reconnected as %s; joining the rooms again", jid);
    xmpp_muc_rejoin_all(s);
    for (i = 0; i < b->n_rooms; i++)
        if (xmpp_muc_nick(s, b->rooms[i]) == NULL)
            join(b, b->rooms[i]);
}

static void on_closed(xmpp_session *s, xmpp_disconnect_cause cause, void *ud) {
    struct bot *b = ud;
    const char *text = NULL;
    if (cause == XMPP_CAUSE_LOCAL_CLOSE)
        return;
    xmpp_session_get_error(s, NULL, &text);
    SAY("session ended: %s", text ? text : "closed");
    b->failed = 1;
}

static void on_reconnect(xmpp_client *c, xmpp_disconnect_cause cause, unsigned attempt,
                         unsigned delay_ms, void *ud) {
    (void)c;
    (void)cause;
    (void)ud;
    fprintf(stderr, "muc-bot: connection lost; reconnecting in %u ms (attempt %u)\n", delay_ms,
            attempt);
}

/* ---- configuration */
static char *trim(char *s) {
    char *e;
    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

static char *read_secret(const char *path) {
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(buf, sizeof(buf), f) == NULL) {
        if (f)
            fclose(f);
        return NULL;
    }
    fclose(f);
    return strdup(trim(buf));
}

int main(int argc, char **argv) {
    static struct bot b;
    char line[2048], *password = NULL, server[256] = "", cafile[1024] = "", jid[1024] = "";
    xmpp_session_options *o = NULL;
    xmpp_tls_config *cfg = NULL;
    struct sigaction sa;
    FILE *f;
    int rc, n = 0, resume = 1;
    if (argc != 2) {
        fprintf(stderr, "usage: muc-bot CONFIG-FILE\n");
        return 2;
    }
    if ((f = fopen(argv[1], "r")) == NULL) {
        fprintf(stderr, "muc-bot: cannot read %s: %s\n", argv[1], strerror(errno));
        return 2;
    }
    b.rate = 5;
    b.period = 10;
    b.rejoin_delay = 2;
    while (fgets(line, sizeof(line), f) != NULL) {
        char *k = trim(line), *v = strchr(k, '=');
        n++;
        if (*k == '#' || *k == '\0')
            continue;
        if (v == NULL) {
            fprintf(stderr, "muc-bot: %s:%d: expected key = value\n", argv[1], n);
            return 2;
        }
        *v++ = '\0';
        k = trim(k);
        v = trim(v);
        if (strcmp(k, "jid") == 0)
            snprintf(jid, sizeof(jid), "%s", v);
        else if (strcmp(k, "password_file") == 0)
            password = read_secret(v);
        else if (strcmp(k, "password_env") == 0)
            password = getenv(v) ? strdup(getenv(v)) : NULL;
        else if (strcmp(k, "server") == 0)
            snprintf(server, sizeof(server), "%s", v);
        else if (strcmp(k, "cafile") == 0)
            snprintf(cafile, sizeof(cafile), "%s", v);
        else if (strcmp(k, "nick") == 0)
            snprintf(b.nick, sizeof(b.nick), "%s", v);
        else if (strcmp(k, "log_dir") == 0)
            snprintf(b.log_dir, sizeof(b.log_dir), "%s", v);
        else if (strcmp(k, "room") == 0 && b.n_rooms < MAX_ROOMS)
            b.rooms[b.n_rooms++] = strdup(v);
        else if (strcmp(k, "rate") == 0)
            b.rate = atof(v);
        else if (strcmp(k, "rate_period") == 0)
            b.period = atof(v);
        else if (strcmp(k, "rejoin_delay") == 0)
            b.rejoin_delay = atof(v);
        else if (strcmp(k, "resume") == 0)
            resume = strcmp(v, "no") != 0;
        else {
            fprintf(stderr, "muc-bot: %s:%d: unknown key %s\n", argv[1], n, k);
            return 2;
        }
    }
    fclose(f);
    if (!jid[0] || !b.nick[0] || !b.log_dir[0] || b.n_rooms == 0 || password == NULL ||
        b.rate < 1 || b.period <= 0 || b.rejoin_delay < 0) {
        fprintf(stderr, "muc-bot: the configuration needs jid, a password, nick, log_dir, at "
                        "least one room, rate >= 1 and rate_period > 0\n");
        return 2;
    }
    b.qcap = (int)b.rate < MAX_QUEUE ? (int)b.rate : MAX_QUEUE;
    b.tokens = b.rate;
    b.refilled = now_ms();
    b.started = time(NULL);

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (xmpp_ctx_new(&b.ctx, NULL) != XMPP_OK || xmpp_session_options_new(&o, b.ctx) != XMPP_OK)
        return 1;
    if (xmpp_session_options_set_jid(o, jid) != XMPP_OK ||
        xmpp_session_options_set_password(o, password) != XMPP_OK) {
        fprintf(stderr, "muc-bot: invalid jid or password\n");
        return 2;
    }
    memset(password, 0, strlen(password));
    free(password);
    if (cafile[0]) {
        if (xmpp_tls_config_new(&cfg, b.ctx) != XMPP_OK ||
            xmpp_tls_config_add_cafile(cfg, cafile) != XMPP_OK) {
            fprintf(stderr, "muc-bot: cannot load %s\n", cafile);
            return 2;
        }
        xmpp_session_options_set_tls_config(o, cfg);
        xmpp_tls_config_unref(cfg);
    }
    xmpp_session_options_set_keepalive(o, 30000, 15000);
    if (!resume)
        xmpp_session_options_set_stream_management(o, XMPP_SM_ACKS);
    xmpp_session_options_set_callbacks(o, on_ready, on_closed, &b);
    if ((rc = xmpp_client_new(&b.client, b.ctx, o)) != XMPP_OK) {
        fprintf(stderr, "muc-bot: %s\n", xmpp_strerror(rc));
        return 1;
    }
    xmpp_session_options_free(o);
    b.s = xmpp_client_session(b.client);
    if (server[0]) {
        char *colon = strrchr(server, ':');
        unsigned port = 5222;
        if (colon) {
            *colon = '\0';
            port = (unsigned)atoi(colon + 1);
        }
        xmpp_client_set_server(b.client, server, port);
    }
    xmpp_client_set_reconnect(b.client, 500, 15000, 0);
    xmpp_client_set_reconnect_fn(b.client, on_reconnect, &b);
    xmpp_client_connect(b.client);
    while (!stop_requested && !b.failed) {
        uint64_t now;
        int i;
        if (xmpp_client_run_once(b.client, 100) == XMPP_ERR_CLOSED)
            break;
        now = now_ms();
        for (i = 0; i < b.n_rooms; i++)
            if (b.rejoin_at[i] && now >= b.rejoin_at[i]) {
                b.rejoin_at[i] = 0;
                if (xmpp_session_get_state(b.s) == XMPP_STATE_READY)
                    join(&b, b.rooms[i]);
                else
                    schedule_rejoin(&b, b.rooms[i]);
            }
        if (b.ready)
            drain_replies(&b);
    }
    if (xmpp_session_get_state(b.s) != XMPP_STATE_CLOSED) {
        uint64_t until = now_ms() + 2000;
        int i;
        for (i = 0; i < b.n_rooms; i++)
            (void)xmpp_muc_leave(b.s, b.rooms[i], "bye");
        xmpp_client_close(b.client);
        while (now_ms() < until && xmpp_client_run_once(b.client, 100) != XMPP_ERR_CLOSED)
            ;
    }
    SAY("stopped: %lu replies sent, %lu dropped", b.sent, b.dropped);
    xmpp_client_free(b.client);
    while (b.n_rooms > 0)
        free(b.rooms[--b.n_rooms]);
    xmpp_ctx_free(b.ctx);
    return b.failed ? 1 : 0;
}
