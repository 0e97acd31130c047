/* bench_strophe: libstrophe over the same bytes, for comparison.
 *
 * Not built by automake: libstrophe exports xmpp_* symbols that clash with
 * libxmpp's, so tests/bench/run.sh compiles this file on its own against
 * libstrophe only (`pkg-config libstrophe`).
 *
 *   bench_strophe [--conn] FILE [ITERATIONS] [CHUNK]   (see bench_common.h)
 *
 * Two measures, because libstrophe has no public parser API:
 *
 * default ("parser"): libstrophe's own stream parser (src/parser_expat.c:
 *   expat plus libstrophe's stanza tree building), the exact counterpart of
 *   xmpp_xml_parser. Its functions parser_new/parser_feed/parser_free are
 *   internal but are global symbols of the static archive libstrophe.a, so
 *   run.sh links that archive statically and defines
 *   BENCH_STROPHE_INTERNAL_PARSER. The prototypes below are those of
 *   libstrophe 0.12's src/parser.h. Each complete stanza is handed to a
 *   counting callback and then released by libstrophe, as libxmpp does.
 *
 * --conn: the whole public receive path. A forked child acts as a server on
 *   127.0.0.1 and writes FILE to each connection; the parent runs a real
 *   xmpp_conn_t (xmpp_connect_raw, TLS disabled, xmpp_conn_open_stream_default)
 *   and counts stanzas with a catch-all xmpp_handler_add(). This adds
 *   libstrophe's event loop (select + 4 KiB reads), handler dispatch and its
 *   per-stanza work beyond parsing, so it measures more than bench_libxmpp
 *   does; CHUNK is ignored (libstrophe reads at most 4 KiB per read). The
 *   server process is not part of the measured process. */
#include <strophe.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"

typedef struct count_state {
    unsigned long long stanzas;
    int ended;
    int failed;
    int done;
} count_state;

#ifdef BENCH_STROPHE_INTERNAL_PARSER
/* libstrophe 0.12 src/parser.h (internal API). */
typedef struct _parser_t parser_t;
typedef void (*parser_start_callback)(char *name, char **attrs, void *const userdata);
typedef void (*parser_end_callback)(char *name, void *const userdata);
typedef void (*parser_stanza_callback)(xmpp_stanza_t *stanza, void *const userdata);
parser_t *parser_new(xmpp_ctx_t *ctx, parser_start_callback startcb,
                     parser_end_callback endcb, parser_stanza_callback stanzacb,
                     void *userdata);
void parser_free(parser_t *const parser);
int parser_feed(parser_t *parser, char *chunk, int len);

static void p_start(char *name, char **attrs, void *const ud) {
    (void)name, (void)attrs, (void)ud;
}

static void p_end(char *name, void *const ud) {
    count_state *st = ud;
    (void)name;
    st->ended = 1;
}

static void p_stanza(xmpp_stanza_t *stanza, void *const ud) {
    count_state *st = ud;
    (void)stanza;
    st->stanzas++;
}

static unsigned long long parse_once(xmpp_ctx_t *ctx, const bench_args *a) {
    count_state st = {0, 0, 0, 0};
    parser_t *p = parser_new(ctx, p_start, p_end, p_stanza, &st);
    size_t off = 0;
    if (p == NULL) {
        fprintf(stderr, "bench_strophe: parser_new failed\n");
        exit(1);
    }
    while (off < a->len) {
        size_t n = a->len - off < a->chunk ? a->len - off : a->chunk;
        if (!parser_feed(p, a->data + off, (int)n)) {
            fprintf(stderr, "bench_strophe: parse error near byte %zu\n", off);
            exit(1);
        }
        off += n;
    }
    if (!st.ended) {
        fprintf(stderr, "bench_strophe: the stream did not end\n");
        exit(1);
    }
    parser_free(p);
    return st.stanzas;
}
#endif

/* ---- --conn mode ---- */

static int conn_count(xmpp_conn_t *conn, xmpp_stanza_t *stanza, void *ud) {
    count_state *st = ud;
    (void)conn, (void)stanza;
    st->stanzas++;
    return 1; /* keep the handler */
}

static void conn_event(xmpp_conn_t *conn, xmpp_conn_event_t ev, int error,
                       xmpp_stream_error_t *stream_error, void *ud) {
    count_state *st = ud;
    (void)stream_error;
    switch (ev) {
    case XMPP_CONN_RAW_CONNECT:
        if (xmpp_conn_open_stream_default(conn) != XMPP_EOK)
            st->failed = 1;
        break;
    case XMPP_CONN_CONNECT:
        break;
    case XMPP_CONN_DISCONNECT:
    case XMPP_CONN_FAIL:
    default:
        if (error != 0)
            st->failed = 1;
        st->done = 1;
        break;
    }
}

static int write_all(int fd, const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The server child: per connection, waits for the client's stream header,
 * writes the whole file, then drains until the client closes. */
static void serve(int lfd, const bench_args *a) {
    unsigned long i;
    for (i = 0; i < a->iterations; i++) {
        char buf[4096];
        size_t have = 0;
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0)
            _exit(1);
        for (;;) {
            ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
            char *s;
            if (r <= 0)
                _exit(1);
            have += (size_t)r;
            buf[have] = '\0';
            s = strstr(buf, "<stream:stream");
            if (s != NULL && strchr(s, '>') != NULL)
                break;
            if (have == sizeof buf - 1)
                _exit(1);
        }
        if (write_all(fd, a->data, a->len) != 0)
            _exit(1);
        while (read(fd, buf, sizeof buf) > 0)
            ;
        close(fd);
    }
    _exit(0);
}

static unsigned long long conn_once(xmpp_ctx_t *ctx, unsigned short port) {
    count_state st = {0, 0, 0, 0};
    xmpp_conn_t *conn = xmpp_conn_new(ctx);
    if (conn == NULL) {
        fprintf(stderr, "bench_strophe: xmpp_conn_new failed\n");
        exit(1);
    }
    xmpp_conn_set_flags(conn, XMPP_CONN_FLAG_DISABLE_TLS);
    xmpp_conn_set_jid(conn, "juliet@capulet.lit");
    xmpp_handler_add(conn, conn_count, NULL, NULL, NULL, &st);
    if (xmpp_connect_raw(conn, "127.0.0.1", port, conn_event, &st) != XMPP_EOK) {
        fprintf(stderr, "bench_strophe: xmpp_connect_raw failed\n");
        exit(1);
    }
    while (!st.done)
        xmpp_run_once(ctx, 100);
    if (st.failed) {
        fprintf(stderr, "bench_strophe: the connection failed\n");
        exit(1);
    }
    xmpp_conn_release(conn);
    return st.stanzas;
}

static void run_conn(xmpp_ctx_t *ctx, const bench_args *a) {
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    unsigned long i;
    unsigned long long stanzas = 0;
    double t0, t1;
    int status = 0, one = 1;
    pid_t pid;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
        listen(lfd, 4) != 0 || getsockname(lfd, (struct sockaddr *)&sin, &slen) != 0) {
        perror("bench_strophe: loopback listener");
        exit(1);
    }
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        perror("bench_strophe: fork");
        exit(1);
    }
    if (pid == 0)
        serve(lfd, a);
    close(lfd);

    t0 = bench_now();
    for (i = 0; i < a->iterations; i++)
        bench_check_count("bench_strophe", i, &stanzas, conn_once(ctx, ntohs(sin.sin_port)));
    t1 = bench_now();

    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "bench_strophe: the server process failed\n");
        exit(1);
    }
    bench_report("strophe-conn", a, stanzas, t1 - t0);
}

int main(int argc, char **argv) {
    bench_args a;
    xmpp_ctx_t *ctx;
    int conn_mode = 0;

    if (argc > 1 && strcmp(argv[1], "--conn") == 0) {
        conn_mode = 1;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    bench_parse_args(&a, argc, argv);
    signal(SIGPIPE, SIG_IGN);
    xmpp_initialize();
    ctx = xmpp_ctx_new(NULL, NULL);
    if (ctx == NULL) {
        fprintf(stderr, "bench_strophe: xmpp_ctx_new failed\n");
        return 1;
    }

    if (conn_mode) {
        run_conn(ctx, &a);
    } else {
#ifdef BENCH_STROPHE_INTERNAL_PARSER
        unsigned long i;
        unsigned long long stanzas = 0;
        double t0 = bench_now(), t1;
        for (i = 0; i < a.iterations; i++)
            bench_check_count("bench_strophe", i, &stanzas, parse_once(ctx, &a));
        t1 = bench_now();
        bench_report("strophe", &a, stanzas, t1 - t0);
#else
        fprintf(stderr, "bench_strophe: built without libstrophe.a; only --conn "
                        "is available\n");
        return 3;
#endif
    }

    xmpp_ctx_free(ctx);
    xmpp_shutdown();
    free(a.data);
    return 0;
}
