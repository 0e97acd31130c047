/* gen_stream: writes a deterministic, realistic server-to-client XMPP stream
 * for the benchmarks (tests/bench/run.sh).
 *
 *   gen_stream OUTPUT [SCALE] [BIG_BYTES]
 *
 * SCALE (default 10) is the number of repetitions of the stanza mix; the
 * stream carries one large message (BIG_BYTES of base64-like body text,
 * default 5 MiB; 0 leaves it out) after the first half of the repetitions.
 * The output depends only on the arguments (fixed PRNG seed).
 *
 * Prints "stanzas=N bytes=M" on stdout, N being the number of depth-1
 * elements (stream features included) that a parser must deliver. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static FILE *out;
static unsigned long long n_stanzas;
static unsigned long long n_bytes;
static uint64_t rng_state = UINT64_C(0x9E3779B97F4A7C15);

static uint64_t rnd(void) {
    /* xorshift64* */
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * UINT64_C(0x2545F4914F6CDD1D);
}

/* Uniform in [0, n). */
static unsigned rn(unsigned n) {
    return (unsigned)((rnd() >> 11) % n);
}

static void put(const char *s, size_t n) {
    if (n > 0 && fwrite(s, 1, n, out) != n) {
        perror("gen_stream: write");
        exit(1);
    }
    n_bytes += n;
}

static void puts_(const char *s) {
    put(s, strlen(s));
}

static void putf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void putf(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) {
        fprintf(stderr, "gen_stream: internal format overflow\n");
        exit(1);
    }
    put(buf, (size_t)n);
}

static void hex_id(char *dst, size_t nhex) {
    static const char hx[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < nhex; i++)
        dst[i] = hx[rn(16)];
    dst[nhex] = '\0';
}

/* A UUID-shaped string (36 chars). */
static void uuid(char dst[37]) {
    hex_id(dst, 36);
    dst[8] = dst[13] = dst[18] = dst[23] = '-';
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_id(char *dst, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        dst[i] = b64chars[rn(64)];
    dst[n] = '\0';
}

static const char *const first_names[] = {
    "romeo", "juliet", "benvolio", "mercutio", "tybalt", "nurse", "paris",
    "capulet", "montague", "rosaline", "balthasar", "sampson", "gregory",
    "abram", "peter", "friar.laurence", "escalus", "anna", "zoë", "björn"};
#define N_NAMES (sizeof first_names / sizeof first_names[0])

static const char *const domains[] = {
    "example.com", "example.net", "shakespeare.lit", "capulet.lit",
    "jabber.example.org", "im.example.de"};
#define N_DOMAINS (sizeof domains / sizeof domains[0])

static const char *const resources[] = {
    "balcony", "orchard", "Conversations.x7Qa", "gajim.8LQ2PZ", "dino.a1b2c3",
    "phone", "laptop", "Monal-iOS.9f0e"};
#define N_RES (sizeof resources / sizeof resources[0])

/* Words for message bodies: ASCII, words that need escaping, multi-byte
 * UTF-8 (2, 3 and 4 byte sequences) and character references. */
static const char *const words[] = {
    "the", "and", "of", "to", "a", "in", "is", "that", "it", "for", "you",
    "was", "with", "on", "as", "have", "but", "be", "they", "at", "one",
    "wherefore", "art", "thou", "rose", "by", "any", "other", "name",
    "would", "smell", "as", "sweet", "meeting", "tomorrow", "ok", "lol",
    "&amp;", "&lt;b&gt;", "&quot;quoted&quot;", "it&apos;s", "a&amp;b",
    "café", "naïve", "résumé", "Grüße", "straße", "smørrebrød", "ÆØÅ",
    "日本語", "中文", "한국어", "Привет", "мир", "Ελληνικά", "עברית",
    "😀", "👍", "🎉", "🙈", "&#x263A;", "&#233;t&#233;", "&#128512;",
    "http://example.com/path?a=1&amp;b=2", "x&gt;y", "1&lt;2"};
#define N_WORDS (sizeof words / sizeof words[0])

static void body_text(unsigned nwords) {
    unsigned i;
    for (i = 0; i < nwords; i++) {
        if (i > 0)
            put(rn(23) == 0 ? "\n" : " ", 1);
        puts_(words[rn(N_WORDS)]);
    }
}

/* Message length distribution: mostly short, a tail of long ones. */
static unsigned body_words(void) {
    unsigned r = rn(100);
    if (r < 55)
        return 1 + rn(12);
    if (r < 85)
        return 10 + rn(40);
    if (r < 97)
        return 50 + rn(150);
    return 200 + rn(600);
}

static void jid_full(char *dst, size_t cap) {
    snprintf(dst, cap, "%s@%s/%s", first_names[rn(N_NAMES)],
             domains[rn(N_DOMAINS)], resources[rn(N_RES)]);
}

static const char *const me = "juliet@capulet.lit/balcony";

static const char *const chat_states[] = {"active", "composing", "paused",
                                          "inactive", "gone"};

static void keepalive(void) {
    /* RFC 6120 §4.6.1 whitespace keepalive between stanzas, now and then. */
    if (rn(40) == 0)
        put(" ", 1);
}

static void chat_message(void) {
    char from[128], id[37], thread[33], oid[37];
    int has_body = rn(10) < 8;
    jid_full(from, sizeof from);
    uuid(id);
    putf("<message from='%s' to='%s' type='chat' id='%s' xml:lang='en'>", from,
         me, id);
    if (has_body) {
        puts_("<body>");
        body_text(body_words());
        puts_("</body>");
        if (rn(3) == 0) {
            hex_id(thread, 32);
            putf("<thread>%s</thread>", thread);
        }
        uuid(oid);
        putf("<origin-id xmlns='urn:xmpp:sid:0' id='%s'/>", oid);
        if (rn(2) == 0)
            puts_("<request xmlns='urn:xmpp:receipts'/>");
        puts_("<markable xmlns='urn:xmpp:chat-markers:0'/>");
        puts_("<active xmlns='http://jabber.org/protocol/chatstates'/>");
    } else {
        putf("<%s xmlns='http://jabber.org/protocol/chatstates'/>",
             chat_states[rn(5)]);
        puts_("<no-store xmlns='urn:xmpp:hints'/>");
    }
    puts_("</message>");
    n_stanzas++;
    keepalive();
}

static const char *const shows[] = {"away", "chat", "dnd", "xa"};
static const char *const statuses[] = {
    "At the ball", "Sleeping", "Parting is such sweet sorrow",
    "In a meeting &amp; busy", "Out to lunch 🍕", "Bin gleich zurück",
    "会議中です", "&lt;3"};
static const char *const caps_nodes[] = {
    "http://conversations.im", "https://gajim.org", "https://dino.im",
    "http://monal-im.org/", "https://poez.io"};

static void presence(void) {
    char from[128], ver[29];
    unsigned r = rn(10);
    jid_full(from, sizeof from);
    if (r == 0) {
        putf("<presence from='%s' to='%s' type='unavailable'/>", from, me);
    } else {
        putf("<presence from='%s' to='%s'>", from, me);
        if (r < 6)
            putf("<show>%s</show>", shows[rn(4)]);
        if (r < 8)
            putf("<status>%s</status>", statuses[rn(8)]);
        putf("<priority>%d</priority>", (int)rn(50) - 1);
        b64_id(ver, 27);
        putf("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
             "node='%s' ver='%s='/>",
             caps_nodes[rn(5)], ver);
        if (rn(4) == 0) {
            char hash[41];
            hex_id(hash, 40);
            putf("<x xmlns='vcard-temp:x:update'><photo>%s</photo></x>", hash);
        }
        if (rn(5) == 0)
            putf("<idle xmlns='urn:xmpp:idle:1' since='2024-%02u-%02uT%02u:%02u:%02uZ'/>",
                 1 + rn(12), 1 + rn(28), rn(24), rn(60), rn(60));
        puts_("</presence>");
    }
    n_stanzas++;
    keepalive();
}

static const char *const rooms[] = {"coven", "balcony-club", "verona-dev",
                                    "xsf", "jdev"};
static const char *const nicks[] = {"thirdwitch", "Hecate", "Romeo", "ßcha",
                                    "アリス", "bob the builder", "x&amp;y"};

static void muc_presence(void) {
    static const char *const aff[] = {"none", "member", "admin", "owner"};
    static const char *const role[] = {"participant", "moderator", "visitor"};
    char from[160], occ[45];
    snprintf(from, sizeof from, "%s@conference.shakespeare.lit/%s",
             rooms[rn(5)], nicks[rn(7)]);
    b64_id(occ, 43);
    putf("<presence from='%s' to='%s'>", from, me);
    putf("<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
         "node='%s' ver='%.27s='/>",
         caps_nodes[rn(5)], occ);
    putf("<occupant-id xmlns='urn:xmpp:occupant-id:0' id='%s='/>", occ);
    putf("<x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='%s' "
         "role='%s' jid='%s@%s/%s'/></x>",
         aff[rn(4)], role[rn(3)], first_names[rn(N_NAMES)],
         domains[rn(N_DOMAINS)], resources[rn(N_RES)]);
    puts_("</presence>");
    n_stanzas++;
    keepalive();
}

static void muc_message(int history) {
    const char *room = rooms[rn(5)];
    char id[37], sid[37], occ[45];
    uuid(id);
    uuid(sid);
    b64_id(occ, 43);
    putf("<message from='%s@conference.shakespeare.lit/%s' to='%s' "
         "type='groupchat' id='%s'>",
         room, nicks[rn(7)], me, id);
    puts_("<body>");
    body_text(body_words());
    puts_("</body>");
    if (history)
        putf("<delay xmlns='urn:xmpp:delay' from='%s@conference.shakespeare.lit' "
             "stamp='2024-%02u-%02uT%02u:%02u:%02u.%03uZ'/>",
             room, 1 + rn(12), 1 + rn(28), rn(24), rn(60), rn(60), rn(1000));
    putf("<stanza-id xmlns='urn:xmpp:sid:0' by='%s@conference.shakespeare.lit' "
         "id='%s'/>",
         room, sid);
    putf("<occupant-id xmlns='urn:xmpp:occupant-id:0' id='%s='/>", occ);
    if (rn(4) == 0)
        putf("<reply xmlns='urn:xmpp:reply:0' to='%s@conference.shakespeare.lit/%s' "
             "id='%.36s'/>",
             room, nicks[rn(7)], sid);
    puts_("</message>");
    n_stanzas++;
    keepalive();
}

static const char *const groups[] = {"Friends", "Family", "Work",
                                     "Capulets &amp; Montagues", "Bücherclub",
                                     "友達", "Verona"};
static const char *const subs[] = {"both", "both", "both", "to", "from", "none"};

static void roster(unsigned seq) {
    unsigned i;
    putf("<iq type='result' id='roster-%u' to='%s'>", seq, me);
    putf("<query xmlns='jabber:iq:roster' ver='ver%u'>", 1000 + seq);
    for (i = 0; i < 1000; i++) {
        const char *nm = first_names[rn(N_NAMES)];
        unsigned g = rn(10), ng = g < 6 ? 1 : g < 8 ? 0 : 2, k;
        putf("<item jid='%s%u@%s' subscription='%s'", nm, i,
             domains[rn(N_DOMAINS)], subs[rn(6)]);
        if (rn(10) != 0)
            putf(" name='%c%s %u'", nm[0] - 32, nm + 1, i);
        if (rn(25) == 0)
            puts_(" ask='subscribe'");
        if (ng == 0) {
            puts_("/>");
            continue;
        }
        puts_(">");
        for (k = 0; k < ng; k++)
            putf("<group>%s</group>", groups[rn(7)]);
        puts_("</item>");
    }
    puts_("</query></iq>");
    n_stanzas++;
}

static void misc_iq(void) {
    char id[37];
    uuid(id);
    switch (rn(3)) {
    case 0:
        putf("<iq from='shakespeare.lit' to='%s' type='get' id='%s'>"
             "<ping xmlns='urn:xmpp:ping'/></iq>",
             me, id);
        break;
    case 1:
        putf("<iq from='%s@%s/%s' to='%s' type='get' id='%s'>"
             "<query xmlns='http://jabber.org/protocol/disco#info' "
             "node='http://conversations.im#%.27s='/></iq>",
             first_names[rn(N_NAMES)], domains[rn(N_DOMAINS)],
             resources[rn(N_RES)], me, id, id);
        break;
    default:
        putf("<r xmlns='urn:xmpp:sm:3'/>");
        break;
    }
    n_stanzas++;
    keepalive();
}

/* One repetition of the mix. */
static void mix(unsigned seq) {
    unsigned i;
    roster(seq);
    for (i = 0; i < 60; i++)
        presence();
    for (i = 0; i < 30; i++)
        muc_presence();
    for (i = 0; i < 40; i++)
        muc_message(1); /* room history, with delay */
    for (i = 0; i < 200; i++) {
        unsigned r = rn(100);
        if (r < 55)
            chat_message();
        else if (r < 75)
            muc_message(0);
        else if (r < 92)
            presence();
        else
            misc_iq();
    }
}

static void big_message(unsigned long long nbytes) {
    char line[78];
    unsigned long long done = 0;
    putf("<message from='romeo@example.net/orchard' to='%s' type='chat' "
         "id='big-1'><body>",
         me);
    while (done < nbytes) {
        size_t i, n = 76;
        if (nbytes - done < 77)
            n = (size_t)(nbytes - done);
        for (i = 0; i < n; i++)
            line[i] = b64chars[rn(64)];
        if (n == 76 && done + 77 <= nbytes)
            line[n++] = '\n';
        put(line, n);
        done += n;
    }
    puts_("</body></message>");
    n_stanzas++;
}

int main(int argc, char **argv) {
    unsigned long scale = 10, i;
    unsigned long long big = 5ULL * 1024 * 1024;
    char *end;

    if (argc < 2 || argc > 4 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: %s OUTPUT [SCALE (default 10)] "
                        "[BIG_BYTES (default 5242880; 0 = none)]\n",
                argv[0]);
        return 2;
    }
    if (argc > 2) {
        errno = 0;
        scale = strtoul(argv[2], &end, 10);
        if (errno || *end || end == argv[2]) {
            fprintf(stderr, "gen_stream: bad SCALE '%s'\n", argv[2]);
            return 2;
        }
    }
    if (argc > 3) {
        errno = 0;
        big = strtoull(argv[3], &end, 10);
        if (errno || *end || end == argv[3]) {
            fprintf(stderr, "gen_stream: bad BIG_BYTES '%s'\n", argv[3]);
            return 2;
        }
    }
    out = fopen(argv[1], "wb");
    if (out == NULL) {
        fprintf(stderr, "gen_stream: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    setvbuf(out, NULL, _IOFBF, 1 << 16);

    puts_("<?xml version='1.0'?>"
          "<stream:stream xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' "
          "from='capulet.lit' to='juliet@capulet.lit' "
          "id='++TR84Sm6A3hnt3Q065SnAbbk3Y=' version='1.0' xml:lang='en'>");
    puts_("<stream:features><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/>"
          "<sm xmlns='urn:xmpp:sm:3'/>"
          "<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' "
          "node='http://prosody.im' ver='mTgLnDChyGm0l3nPq4R1fCZA6yA='/>"
          "</stream:features>");
    n_stanzas++;
    putf("<iq type='result' id='bind-1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
         "<jid>%s</jid></bind></iq>",
         me);
    n_stanzas++;

    for (i = 0; i < scale; i++) {
        if (big > 0 && i == scale / 2)
            big_message(big);
        mix((unsigned)i);
    }
    if (big > 0 && scale == 0)
        big_message(big);
    puts_("</stream:stream>");

    if (fclose(out) != 0) {
        perror("gen_stream: close");
        return 1;
    }
    printf("stanzas=%llu bytes=%llu\n", n_stanzas, n_bytes);
    return 0;
}
