/* conn_server: a minimal scripted XMPP server on 127.0.0.1 for the ingest
 * benchmark (tests/bench/conn.sh).
 *
 *   conn_server PORTFILE STANZAS CONNECTIONS
 *
 * Listens on a free loopback port, writes the port number to PORTFILE, then
 * serves CONNECTIONS connections one after the other and exits. Per
 * connection, without TLS: stream header and features (PLAIN only), accepts
 * any <auth/> with <success/>, stream restart, features (bind only; no
 * session, no stream management), answers the bind IQ with
 * alice@xmpp.test/bench, then writes STANZAS pre-generated messages and
 * </stream:stream>, and reads until the client closes.
 *
 * The messages (generated before listening, so the server only calls
 * write() with large buffers and is never the bottleneck) are chat messages
 * of about 450 bytes as a modern server delivers them: a body with a few
 * escaped characters, chat state, origin-id, stanza-id, receipt request,
 * from a handful of full JIDs; a fixed-seed PRNG makes them deterministic.
 * Prints "bytes=B stanzas=S avg=A" on stderr once generated. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static uint64_t rng = UINT64_C(0x243F6A8885A308D3);

static uint64_t rnd(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * UINT64_C(0x2545F4914F6CDD1D);
}

static unsigned rn(unsigned n) {
    return (unsigned)((rnd() >> 11) % n);
}

static char *buf;
static size_t len, cap;

static void put(const char *s, size_t n) {
    if (len + n > cap) {
        cap = (len + n) * 2;
        buf = realloc(buf, cap);
        if (buf == NULL) {
            perror("conn_server");
            exit(1);
        }
    }
    memcpy(buf + len, s, n);
    len += n;
}

static void uuid(char *d) {
    static const char hx[] = "0123456789abcdef";
    int i;
    for (i = 0; i < 36; i++)
        d[i] = hx[rn(16)];
    d[8] = d[13] = d[18] = d[23] = '-';
    d[36] = '\0';
}

static void generate(unsigned long n) {
    static const char *const words[] = {
        "hello", "the", "meeting", "is", "at", "noon", "tomorrow", "can", "you", "send",
        "me", "report", "&amp;", "thanks", "we'll", "see", "&lt;3", "ok", "deploy", "build",
        "passed", "on", "staging", "lunch", "coffee", "later", "sounds", "good", "review",
        "please", "merged", "\xc3\xa9t\xc3\xa9"};
    static const char *const from[] = {"bob@xmpp.test/phone-4f2a", "carol@xmpp.test/laptop",
                                       "dave@xmpp.test/gajim.X7Q2", "erin@xmpp.test/desk",
                                       "frank@xmpp.test/conversations.aZ3k"};
    unsigned long i;
    for (i = 0; i < n; i++) {
        char id[37], sid[37], line[1024], body[400];
        size_t bl = 0;
        unsigned w = 3 + rn(12), k;
        int m;
        uuid(id);
        uuid(sid);
        for (k = 0; k < w && bl < 200; k++) {
            const char *x = words[rn(sizeof words / sizeof words[0])];
            size_t xl = strlen(x);
            if (k > 0)
                body[bl++] = ' ';
            memcpy(body + bl, x, xl);
            bl += xl;
        }
        body[bl] = '\0';
        m = snprintf(line, sizeof line,
                     "<message from='%s' to='alice@xmpp.test/bench'"
                     " type='chat' id='%s'><body>%s</body>"
                     "<active xmlns='http://jabber.org/protocol/chatstates'/>"
                     "<request xmlns='urn:xmpp:receipts'/>"
                     "<origin-id xmlns='urn:xmpp:sid:0' id='%s'/>"
                     "<stanza-id xmlns='urn:xmpp:sid:0' by='alice@xmpp.test' id='%s'/>"
                     "</message>",
                     from[rn(5)], id, body, id, sid);
        put(line, (size_t)m);
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

static char in[65536];
static size_t have;

/* Reads until the input holds @p a (or @p b); consumes through its end.
 * A stream header: "<stream:stream" then the next '>'. */
static int wait_for(int fd, const char *a, const char *b, char *id, size_t idcap) {
    for (;;) {
        char *p = strstr(in, a), *e = NULL;
        ssize_t r;
        if (p == NULL && b != NULL)
            p = strstr(in, b);
        if (p != NULL)
            e = strchr(p, '>');
        if (p != NULL && e != NULL) {
            if (id != NULL) { /* the id attribute of the element before e */
                char *q = strstr(in, " id=");
                id[0] = '\0';
                if (q != NULL && q[4] != '\0') {
                    char quote = q[4];
                    char *end = strchr(q + 5, quote);
                    size_t l = end ? (size_t)(end - (q + 5)) : 0;
                    if (l < idcap) {
                        memcpy(id, q + 5, l);
                        id[l] = '\0';
                    }
                }
            }
            /* consume through the end of the closing tag of this element:
             * for elements with content, wait_for is called with the closing
             * tag, so e is its end */
            have -= (size_t)(e + 1 - in);
            memmove(in, e + 1, have + 1);
            return 0;
        }
        if (have == sizeof in - 1)
            return -1;
        r = read(fd, in + have, sizeof in - 1 - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
        in[have] = '\0';
    }
}

#define HDR "<?xml version='1.0'?><stream:stream xmlns='jabber:client'" \
    " xmlns:stream='http://etherx.jabber.org/streams' from='xmpp.test' id='%s'" \
    " version='1.0' xml:lang='en'>"

static int serve(int fd) {
    char out[1024], id[128];
    int n;
    have = 0;
    in[0] = '\0';
    if (wait_for(fd, "<stream:stream", NULL, NULL, 0) != 0)
        return -1;
    n = snprintf(out, sizeof out, HDR "<stream:features><mechanisms"
                 " xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
                 "</mechanisms></stream:features>", "s1");
    if (write_all(fd, out, (size_t)n) != 0)
        return -1;
    /* <auth ...>base64</auth> (or an empty <auth .../>, not expected) */
    if (wait_for(fd, "</auth>", "/>", NULL, 0) != 0)
        return -1;
    n = snprintf(out, sizeof out, "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>");
    if (write_all(fd, out, (size_t)n) != 0 || wait_for(fd, "<stream:stream", NULL, NULL, 0) != 0)
        return -1;
    n = snprintf(out, sizeof out, HDR "<stream:features>"
                 "<bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></stream:features>", "s2");
    if (write_all(fd, out, (size_t)n) != 0 || wait_for(fd, "</iq>", NULL, id, sizeof id) != 0)
        return -1;
    n = snprintf(out, sizeof out, "<iq type='result' id='%s'><bind"
                 " xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>alice@xmpp.test/bench</jid>"
                 "</bind></iq>", id);
    if (write_all(fd, out, (size_t)n) != 0 || write_all(fd, buf, len) != 0 ||
        write_all(fd, "</stream:stream>", 16) != 0)
        return -1;
    shutdown(fd, SHUT_WR);
    while (read(fd, in, sizeof in) > 0)
        ;
    return 0;
}

int main(int argc, char **argv) {
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    unsigned long stanzas, conns, i;
    int lfd, one = 1;
    FILE *pf;
    if (argc != 4) {
        fprintf(stderr, "usage: conn_server PORTFILE STANZAS CONNECTIONS\n");
        return 2;
    }
    stanzas = strtoul(argv[2], NULL, 10);
    conns = strtoul(argv[3], NULL, 10);
    signal(SIGPIPE, SIG_IGN);
    generate(stanzas);
    fprintf(stderr, "bytes=%zu stanzas=%lu avg=%.0f\n", len, stanzas,
            stanzas ? (double)len / (double)stanzas : 0.0);

    lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(lfd, 8) != 0 ||
        getsockname(lfd, (struct sockaddr *)&sin, &slen) != 0) {
        perror("conn_server: listen");
        return 1;
    }
    pf = fopen(argv[1], "w");
    if (pf == NULL || fprintf(pf, "%u\n", ntohs(sin.sin_port)) < 0 || fclose(pf) != 0) {
        perror("conn_server: port file");
        return 1;
    }
    for (i = 0; i < conns; i++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            perror("conn_server: accept");
            return 1;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (serve(fd) != 0)
            fprintf(stderr, "conn_server: connection %lu failed\n", i);
        close(fd);
    }
    return 0;
}
