/* JIDs (RFC 7622), PRECIS (RFC 8264/8265) and XEP-0106 escaping.
 * Vectors: RFC 7622 §3.5, RFC 8265 §3.5 and §4.3 where they apply to JIDs,
 * XEP-0106 §4.3 and §5, and SECURITY.md scenario 48. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xmpp/jid.h>

#include "stanza/precis.h"
#include "testhelp.h"

static xmpp_ctx *ctx;

static int setup(void **state) {
    (void)state;
    return xmpp_ctx_new(&ctx, NULL) == XMPP_OK ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    xmpp_ctx_free(ctx);
    return 0;
}

/* Parses @p in and checks the prepared parts (NULL: absent). */
static void expect_jid(const char *in, const char *local, const char *domain,
                       const char *resource, const char *full) {
    xmpp_jid *j = NULL;
    int rc = xmpp_jid_parse(&j, ctx, in);
    if (rc != XMPP_OK)
        fail_msg("\"%s\": unexpected error %d", in, rc);
    if (local == NULL)
        assert_null(xmpp_jid_local(j));
    else
        assert_string_equal(xmpp_jid_local(j), local);
    assert_string_equal(xmpp_jid_domain(j), domain);
    if (resource == NULL)
        assert_null(xmpp_jid_resource(j));
    else
        assert_string_equal(xmpp_jid_resource(j), resource);
    assert_string_equal(xmpp_jid_full(j), full);
    assert_int_equal(xmpp_jid_is_full(j), resource != NULL);
    /* the prepared form parses to itself (idempotence, RFC 8264 §7) */
    assert_true(xmpp_jid_equal_str(j, xmpp_jid_full(j)));
    xmpp_jid_free(j);
}

static void expect_err(const char *in, int err) {
    xmpp_jid *j = (xmpp_jid *)&j; /* must be reset to NULL */
    int rc = xmpp_jid_parse(&j, ctx, in);
    if (rc != err)
        fail_msg("\"%s\": got %d, expected %d", in, rc, err);
    assert_null(j);
}

/* ---- RFC 7622 §3.5 ---- */

static void test_rfc7622_valid(void **state) {
    (void)state;
    /* §3.5.1 */
    expect_jid("juliet@example.com", "juliet", "example.com", NULL,
               "juliet@example.com");
    expect_jid("juliet@example.com/foo", "juliet", "example.com", "foo",
               "juliet@example.com/foo");
    expect_jid("juliet@example.com/foo bar", "juliet", "example.com",
               "foo bar", "juliet@example.com/foo bar");
    expect_jid("juliet@example.com/foo@bar", "juliet", "example.com",
               "foo@bar", "juliet@example.com/foo@bar");
    expect_jid("foo\\20bar@example.com", "foo\\20bar", "example.com", NULL,
               "foo\\20bar@example.com");
    expect_jid("fussball@example.com", "fussball", "example.com", NULL,
               "fussball@example.com");
    expect_jid("fu\xc3\x9f" "ball@example.com", "fu\xc3\x9f" "ball",
               "example.com", NULL, "fu\xc3\x9f" "ball@example.com");
    expect_jid("\xcf\x80@example.com", "\xcf\x80", "example.com", NULL,
               "\xcf\x80@example.com");
    /* GREEK CAPITAL SIGMA lower-cases to small sigma; final sigma stays */
    expect_jid("\xce\xa3@example.com/foo", "\xcf\x83", "example.com", "foo",
               "\xcf\x83@example.com/foo");
    expect_jid("\xcf\x83@example.com/foo", "\xcf\x83", "example.com", "foo",
               "\xcf\x83@example.com/foo");
    expect_jid("\xcf\x82@example.com/foo", "\xcf\x82", "example.com", "foo",
               "\xcf\x82@example.com/foo");
    /* BLACK CHESS KING is a symbol: fine in a resourcepart */
    expect_jid("king@example.com/\xe2\x99\x9a", "king", "example.com",
               "\xe2\x99\x9a", "king@example.com/\xe2\x99\x9a");
    expect_jid("example.com", NULL, "example.com", NULL, "example.com");
    expect_jid("example.com/foobar", NULL, "example.com", "foobar",
               "example.com/foobar");
    expect_jid("a.example.com/b@example.net", NULL, "a.example.com",
               "b@example.net", "a.example.com/b@example.net");
}

static void test_rfc7622_invalid(void **state) {
    (void)state;
    /* §3.5.2 */
    expect_err("\"juliet\"@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("foo bar@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("@example.com/", XMPP_ERR_JID_EMPTY_LOCAL);
    expect_err("juliet@@example.com", XMPP_ERR_JID_MALFORMED);
    expect_err("juliet@test@example.com", XMPP_ERR_JID_MALFORMED);
    /* ROMAN NUMERAL FOUR has a compatibility decomposition (HasCompat) */
    expect_err("henry\xe2\x85\xa3@example.com", XMPP_ERR_JID_LOCAL);
    /* BLACK CHESS KING is a symbol, not allowed by the IdentifierClass */
    expect_err("\xe2\x99\x9a@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("juliet@", XMPP_ERR_JID_EMPTY_DOMAIN);
    expect_err("/foobar", XMPP_ERR_JID_EMPTY_DOMAIN);
    expect_err("", XMPP_ERR_JID_EMPTY_DOMAIN);
}

/* ---- SECURITY.md scenario 48 ---- */

static void test_scenario48(void **state) {
    (void)state;
    expect_err("a@b@c", XMPP_ERR_JID_MALFORMED);
    expect_err("@example.com", XMPP_ERR_JID_EMPTY_LOCAL);
    expect_err("x@/r", XMPP_ERR_JID_EMPTY_DOMAIN);
    expect_err("example.com/", XMPP_ERR_JID_EMPTY_RESOURCE);
    expect_err("a@example.com/", XMPP_ERR_JID_EMPTY_RESOURCE);
    expect_err("@", XMPP_ERR_JID_EMPTY_LOCAL);
    expect_err(".", XMPP_ERR_JID_EMPTY_DOMAIN);
    expect_err("a@./r", XMPP_ERR_JID_EMPTY_DOMAIN);
    /* U+202E RIGHT-TO-LEFT OVERRIDE is a default ignorable: disallowed
     * everywhere, whatever the Bidi Rule would say */
    expect_err("a\xe2\x80\xae" "b@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("ab@example.com/\xe2\x80\xae" "x", XMPP_ERR_JID_RESOURCE);
    expect_err("ab@ex\xe2\x80\xae" "ample.com", XMPP_ERR_JID_DOMAIN);
    /* "xn--" garbage */
    expect_err("a@xn--garbage.com", XMPP_ERR_JID_DOMAIN);
    expect_err("a@xn--.com", XMPP_ERR_JID_DOMAIN);
    expect_err("a@xn--zz-zzz", XMPP_ERR_JID_DOMAIN);
    expect_err("a@xn--a.com", XMPP_ERR_JID_DOMAIN);
    /* ☃ encoded as an A-label: a valid punycode string, not a valid U-label */
    expect_err("a@xn--n3h.net", XMPP_ERR_JID_DOMAIN);
}

static void test_utf8(void **state) {
    xmpp_jid *j = NULL;
    (void)state;
    expect_err("\xc0\xaf@example.com", XMPP_ERR_UTF8);       /* overlong */
    expect_err("a@example.com/\xed\xa0\x80", XMPP_ERR_UTF8); /* surrogate */
    expect_err("a@example.com/\xf0\x9f\x98", XMPP_ERR_UTF8); /* truncated */
    expect_err("\x80@example.com", XMPP_ERR_UTF8);           /* continuation */
    expect_err("a@exa\xffmple.com", XMPP_ERR_UTF8);
    expect_err("a@\xf4\x90\x80\x80", XMPP_ERR_UTF8); /* above U+10FFFF */
    /* UTF-8 is checked before the structure */
    expect_err("@/\xff", XMPP_ERR_UTF8);
    assert_int_equal(xmpp_jid_new(&j, ctx, "\xc3", "example.com", NULL),
                     XMPP_ERR_UTF8);
    assert_int_equal(xmpp_jid_new(&j, ctx, NULL, "example.com", "\xc3("),
                     XMPP_ERR_UTF8);
    assert_null(j);
}

static void test_controls(void **state) {
    (void)state;
    expect_err("a\tb@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("ab@example.com/a\x7f", XMPP_ERR_JID_RESOURCE);
    expect_err("ab@example.com/a\xc2\x85", XMPP_ERR_JID_RESOURCE); /* NEL */
    /* unassigned (U+0378) and private use (U+E000) */
    expect_err("ab@example.com/\xcd\xb8", XMPP_ERR_JID_RESOURCE);
    expect_err("\xee\x80\x80@example.com", XMPP_ERR_JID_LOCAL);
    /* noncharacter U+FFFF */
    expect_err("ab@example.com/\xef\xbf\xbf", XMPP_ERR_JID_RESOURCE);
    /* ZERO WIDTH SPACE is a default ignorable */
    expect_err("ab@example.com/a\xe2\x80\x8b" "b", XMPP_ERR_JID_RESOURCE);
}

/* ---- lengths (RFC 7622 §3.2-3.4) ---- */

static char *repeat(const char *unit, size_t times, const char *suffix) {
    size_t ul = strlen(unit), sl = strlen(suffix), i;
    char *s = malloc(ul * times + sl + 1);
    assert_non_null(s);
    for (i = 0; i < times; i++)
        memcpy(s + i * ul, unit, ul);
    memcpy(s + ul * times, suffix, sl + 1);
    return s;
}

static void test_lengths(void **state) {
    xmpp_jid *j = NULL;
    char *s;
    (void)state;

    s = repeat("a", 1023, "@example.com");
    assert_int_equal(xmpp_jid_parse(&j, ctx, s), XMPP_OK);
    assert_int_equal(strlen(xmpp_jid_local(j)), 1023);
    xmpp_jid_free(j);
    free(s);
    s = repeat("a", 1024, "@example.com");
    expect_err(s, XMPP_ERR_JID_TOO_LONG);
    free(s);
    /* 1023 fullwidth letters are 3069 octets that prepare to 1023 */
    s = repeat("\xef\xbd\x81", 1023, "@example.com");
    assert_int_equal(xmpp_jid_parse(&j, ctx, s), XMPP_OK);
    assert_int_equal(strlen(xmpp_jid_local(j)), 1023);
    xmpp_jid_free(j);
    free(s);
    s = repeat("\xef\xbd\x81", 1024, "@example.com");
    expect_err(s, XMPP_ERR_JID_TOO_LONG);
    free(s);
    s = repeat("a", 100000, "@example.com");
    expect_err(s, XMPP_ERR_JID_TOO_LONG);
    free(s);

    s = repeat("r", 1023, "");
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", "example.com", s), XMPP_OK);
    assert_int_equal(strlen(xmpp_jid_resource(j)), 1023);
    xmpp_jid_free(j);
    free(s);
    s = repeat("r", 1024, "");
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", "example.com", s),
                     XMPP_ERR_JID_TOO_LONG);
    free(s);

    /* DNS limits: a label of 63 octets is fine, 64 is not */
    s = repeat("a", 63, ".example");
    expect_jid(s, NULL, s, NULL, s);
    free(s);
    s = repeat("a", 64, ".example");
    expect_err(s, XMPP_ERR_JID_DOMAIN);
    free(s);
    s = repeat("a.", 600, "example");
    expect_err(s, XMPP_ERR_JID_DOMAIN);
    free(s);
    s = repeat("a.", 3000, "example");
    expect_err(s, XMPP_ERR_JID_TOO_LONG);
    free(s);
}

/* ---- mappings ---- */

static void test_mappings(void **state) {
    (void)state;
    /* RFC 8265 §3.3.3: toLowerCase on the localpart only */
    expect_jid("Juliet@Example.COM/Balcony", "juliet", "example.com",
               "Balcony", "juliet@example.com/Balcony");
    /* RFC 8265 §3.3.1 width mapping: FULLWIDTH LATIN CAPITAL J etc. */
    expect_jid("\xef\xbc\xaa\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x89\xef\xbd\x85"
               "\xef\xbd\x94@example.com",
               "juliet", "example.com", NULL, "juliet@example.com");
    /* HALFWIDTH KATAKANA LETTER A becomes KATAKANA LETTER A */
    expect_jid("\xef\xbd\xb1@example.com", "\xe3\x82\xa2", "example.com",
               NULL, "\xe3\x82\xa2@example.com");
    /* ...but fullwidth '@' never becomes a separator (RFC 7622 §3.3.1) */
    expect_err("a\xef\xbc\xa0" "b@example.com", XMPP_ERR_JID_LOCAL);
    /* RFC 8265 §4.2.3: no width or case mapping in the resourcepart,
     * NO-BREAK SPACE and IDEOGRAPHIC SPACE become U+0020 */
    expect_jid("a@example.com/\xef\xbc\xa1", "a", "example.com",
               "\xef\xbc\xa1", "a@example.com/\xef\xbc\xa1");
    expect_jid("a@example.com/x\xc2\xa0y", "a", "example.com", "x y",
               "a@example.com/x y");
    expect_jid("a@example.com/x\xe3\x80\x80y", "a", "example.com", "x y",
               "a@example.com/x y");
    /* RFC 8265 §4.3 OpaqueString examples, as resourceparts */
    expect_jid("a@example.com/correct horse battery staple", "a",
               "example.com", "correct horse battery staple",
               "a@example.com/correct horse battery staple");
    expect_jid("a@example.com/Jack of \xe2\x99\xa6s", "a", "example.com",
               "Jack of \xe2\x99\xa6s", "a@example.com/Jack of \xe2\x99\xa6s");
    expect_jid("a@example.com/foo\xe1\x9a\x80" "bar", "a", "example.com",
               "foo bar", "a@example.com/foo bar"); /* OGHAM SPACE MARK */
    expect_err("a@example.com/my cat is a \tby", XMPP_ERR_JID_RESOURCE);
    /* NFC in both parts: e + COMBINING ACUTE becomes U+00E9 */
    expect_jid("caf\x65\xcc\x81@example.com/caf\x65\xcc\x81", "caf\xc3\xa9",
               "example.com", "caf\xc3\xa9",
               "caf\xc3\xa9@example.com/caf\xc3\xa9");
    /* KELVIN SIGN lowercases to 'k' but is HasCompat: refused before
     * mapping (RFC 8265 §3.3.2 preparation) */
    expect_err("\xe2\x84\xaa@example.com", XMPP_ERR_JID_LOCAL);
    /* LATIN SMALL LIGATURE FF: compatibility character */
    expect_err("\xef\xac\x80@example.com", XMPP_ERR_JID_LOCAL);
    /* titlecase DŽ (Lt) is not a LetterDigit */
    expect_err("\xc7\x85@example.com", XMPP_ERR_JID_LOCAL);
    /* RFC 7622 §3.3.1: the eight forbidden ASCII characters */
    expect_err("d'artagnan@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("a&b@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("a:b@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("<a>@example.com", XMPP_ERR_JID_LOCAL);
}

/* ---- contextual rules (RFC 5892 Appendix A) and the Bidi Rule ---- */

static void test_context_rules(void **state) {
    (void)state;
    /* A.1 ZWNJ after a virama (DEVANAGARI KA, VIRAMA, ZWNJ, SSA) */
    expect_jid("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7@example.com",
               "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7",
               "example.com", NULL,
               "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8c\xe0\xa4\xb7@example.com");
    /* A.1 ZWNJ between two dual-joining ARABIC LETTER BEH */
    expect_jid("\xd8\xa8\xe2\x80\x8c\xd8\xa8@example.com",
               "\xd8\xa8\xe2\x80\x8c\xd8\xa8", "example.com", NULL,
               "\xd8\xa8\xe2\x80\x8c\xd8\xa8@example.com");
    expect_err("a\xe2\x80\x8c" "b@example.com", XMPP_ERR_JID_LOCAL);
    /* A.2 ZWJ only after a virama */
    expect_err("a\xe2\x80\x8d" "b@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("ab@example.com/a\xe2\x80\x8d", XMPP_ERR_JID_RESOURCE);
    /* A.3 MIDDLE DOT between two 'l' */
    expect_jid("l\xc2\xb7l@example.com", "l\xc2\xb7l", "example.com", NULL,
               "l\xc2\xb7l@example.com");
    expect_err("a\xc2\xb7" "b@example.com", XMPP_ERR_JID_LOCAL);
    expect_err("l\xc2\xb7@example.com", XMPP_ERR_JID_LOCAL);
    /* A.4 GREEK KERAIA before Greek */
    expect_jid("\xcd\xb5\xce\xb1@example.com", "\xcd\xb5\xce\xb1",
               "example.com", NULL, "\xcd\xb5\xce\xb1@example.com");
    expect_err("\xcd\xb5" "a@example.com", XMPP_ERR_JID_LOCAL);
    /* A.5 HEBREW GERESH after Hebrew */
    expect_jid("\xd7\x90\xd7\xb3@example.com", "\xd7\x90\xd7\xb3",
               "example.com", NULL, "\xd7\x90\xd7\xb3@example.com");
    expect_err("a\xd7\xb3@example.com", XMPP_ERR_JID_LOCAL);
    /* A.7 KATAKANA MIDDLE DOT with Katakana */
    expect_jid("\xe3\x82\xa2\xe3\x83\xbb\xe3\x82\xa4@example.com",
               "\xe3\x82\xa2\xe3\x83\xbb\xe3\x82\xa4", "example.com", NULL,
               "\xe3\x82\xa2\xe3\x83\xbb\xe3\x82\xa4@example.com");
    expect_err("a\xe3\x83\xbb" "b@example.com", XMPP_ERR_JID_LOCAL);
    /* A.8 and A.9: Arabic-Indic and extended Arabic-Indic digits never mix */
    expect_jid("\xd8\xa8\xd9\xa0\xd9\xa1@example.com", "\xd8\xa8\xd9\xa0\xd9\xa1",
               "example.com", NULL, "\xd8\xa8\xd9\xa0\xd9\xa1@example.com");
    expect_err("\xd8\xa8\xd9\xa0\xdb\xb1@example.com", XMPP_ERR_JID_LOCAL);
}

static void test_bidi(void **state) {
    (void)state;
    /* RTL localpart */
    expect_jid("\xd7\x90\xd7\x91@example.com", "\xd7\x90\xd7\x91",
               "example.com", NULL, "\xd7\x90\xd7\x91@example.com");
    /* LTR first character with an RTL one: rule 5 */
    expect_err("a\xd7\x90@example.com", XMPP_ERR_JID_BIDI);
    /* RTL string ending in a Latin letter: rules 2 and 3 */
    expect_err("\xd7\x90" "a@example.com", XMPP_ERR_JID_BIDI);
    /* Arabic number first: rule 1 */
    expect_err("\xd9\xa0\xd8\xa8@example.com", XMPP_ERR_JID_BIDI);
    /* EN and AN together in an RTL string: rule 4 */
    expect_err("\xd8\xa8" "1\xd9\xa0@example.com", XMPP_ERR_JID_BIDI);
    /* resourcepart: see RESOURCE_BIDI in jid.c */
    expect_jid("a@example.com/\xd7\x90\xd7\x91", "a", "example.com",
               "\xd7\x90\xd7\x91", "a@example.com/\xd7\x90\xd7\x91");
    expect_err("a@example.com/x\xd7\x90", XMPP_ERR_JID_BIDI);
    /* domainpart: libidn2 applies RFC 5893 */
    expect_err("a@a\xd7\x90.example", XMPP_ERR_JID_BIDI);
    expect_jid("a@\xd7\x90\xd7\x91.example", "a", "xn--4dbc.example", NULL,
               "a@xn--4dbc.example");
}

/* ---- domainparts (RFC 7622 §3.2) ---- */

static void test_domain(void **state) {
    xmpp_jid *a = NULL, *b = NULL;
    (void)state;
    /* trailing dot */
    expect_jid("a@example.com.", "a", "example.com", NULL, "a@example.com");
    expect_jid("example.com./r", NULL, "example.com", "r", "example.com/r");
    expect_err("a@example.com..", XMPP_ERR_JID_DOMAIN);
    expect_err("a@.example.com", XMPP_ERR_JID_DOMAIN);
    expect_err("a@exa..mple", XMPP_ERR_JID_DOMAIN);
    /* IP literals */
    expect_jid("a@192.0.2.1/r", "a", "192.0.2.1", "r", "a@192.0.2.1/r");
    expect_jid("a@[::1]/r", "a", "[::1]", "r", "a@[::1]/r");
    expect_jid("[2001:DB8:0:0:0::1]", NULL, "[2001:db8::1]", NULL,
               "[2001:db8::1]");
    expect_err("a@[::1", XMPP_ERR_JID_DOMAIN);
    expect_err("a@[]", XMPP_ERR_JID_DOMAIN);
    expect_err("a@[zz::1]", XMPP_ERR_JID_DOMAIN);
    expect_err("a@[fe80::1%eth0]", XMPP_ERR_JID_DOMAIN);
    expect_err("a@[192.0.2.1]", XMPP_ERR_JID_DOMAIN);
    expect_err("a@::1", XMPP_ERR_JID_DOMAIN);
    /* not a dotted quad, and not a host name either */
    expect_err("a@127.1", XMPP_ERR_JID_DOMAIN);
    expect_err("a@192.0.2.256", XMPP_ERR_JID_DOMAIN);
    expect_err("a@01.2.3.4", XMPP_ERR_JID_DOMAIN);
    /* host name syntax */
    expect_err("a@a_b.example", XMPP_ERR_JID_DOMAIN);
    expect_err("a@ex ample", XMPP_ERR_JID_DOMAIN);
    expect_err("a@-a.example", XMPP_ERR_JID_DOMAIN);
    expect_err("a@a-.example", XMPP_ERR_JID_DOMAIN);
    expect_err("a@\xe2\x98\x83.net", XMPP_ERR_JID_DOMAIN); /* ☃ */
    expect_jid("localhost", NULL, "localhost", NULL, "localhost");
    expect_jid("a@x1.example", "a", "x1.example", NULL, "a@x1.example");
    /* IDNA: U-label, A-label and upper case all prepare the same */
    expect_jid("a@m\xc3\xbcnchen.example", "a", "xn--mnchen-3ya.example", NULL,
               "a@xn--mnchen-3ya.example");
    expect_jid("a@M\xc3\x9cNCHEN.EXAMPLE", "a", "xn--mnchen-3ya.example", NULL,
               "a@xn--mnchen-3ya.example");
    expect_jid("a@XN--MNCHEN-3YA.example", "a", "xn--mnchen-3ya.example", NULL,
               "a@xn--mnchen-3ya.example");
    /* Cherokee capitals are valid IDNA2008 letters that toLowerCase would
     * turn into disallowed ones: the U-label form must prepare to the same
     * A-label (found by fuzzing) */
    assert_int_equal(xmpp_jid_parse(&a, ctx, "xn--mn3ch-neyaex"), XMPP_OK);
    assert_true(xmpp_jid_equal_str(a, xmpp_jid_domain_unicode(a)));
    xmpp_jid_free(a);
    /* ...while German sharp s and final sigma stay as they are */
    expect_jid("fa\xc3\x9f.de", NULL, "xn--fa-hia.de", NULL, "xn--fa-hia.de");
    expect_jid("\xce\xb1\xcf\x82.example", NULL, "xn--mxa8a.example", NULL,
               "xn--mxa8a.example");
    /* fullwidth letters map (RFC 5895 §2 step 2) */
    expect_jid("a@\xef\xbd\x85\xef\xbd\x98.com", "a", "ex.com", NULL,
               "a@ex.com");
    assert_int_equal(xmpp_jid_parse(&a, ctx, "m\xc3\xbcnchen.example"), XMPP_OK);
    assert_int_equal(xmpp_jid_parse(&b, ctx, "xn--mnchen-3ya.example."), XMPP_OK);
    assert_true(xmpp_jid_equal(a, b));
    assert_string_equal(xmpp_jid_domain_unicode(a), "m\xc3\xbcnchen.example");
    assert_string_equal(xmpp_jid_domain_unicode(b), "m\xc3\xbcnchen.example");
    assert_true(xmpp_jid_equal_str(a, "XN--MNCHEN-3YA.EXAMPLE"));
    xmpp_jid_free(a);
    xmpp_jid_free(b);
    assert_int_equal(xmpp_jid_parse(&a, ctx, "[::1]"), XMPP_OK);
    assert_string_equal(xmpp_jid_domain_unicode(a), "[::1]");
    assert_true(xmpp_jid_equal_str(a, "[0:0:0:0:0:0:0:1]"));
    xmpp_jid_free(a);
}

/* ---- objects, comparison ---- */

static void test_objects(void **state) {
    xmpp_jid *j = NULL, *c = NULL, *bare = NULL, *bare2 = NULL;
    (void)state;

    assert_int_equal(xmpp_jid_parse(&j, ctx, "Juliet@Example.com/Balcony"),
                     XMPP_OK);
    assert_string_equal(xmpp_jid_bare(j), "juliet@example.com");
    assert_int_equal(xmpp_jid_copy(&c, j), XMPP_OK);
    assert_true(xmpp_jid_equal(j, c));
    assert_string_equal(xmpp_jid_full(c), "juliet@example.com/Balcony");
    assert_int_equal(xmpp_jid_to_bare(&bare, j), XMPP_OK);
    assert_false(xmpp_jid_is_full(bare));
    assert_null(xmpp_jid_resource(bare));
    assert_string_equal(xmpp_jid_full(bare), "juliet@example.com");
    assert_false(xmpp_jid_equal(j, bare));
    assert_true(xmpp_jid_bare_equal(j, bare));
    assert_int_equal(xmpp_jid_to_bare(&bare2, bare), XMPP_OK);
    assert_true(xmpp_jid_equal(bare, bare2));

    assert_true(xmpp_jid_equal_str(j, "JULIET@example.com./Balcony"));
    assert_true(xmpp_jid_equal_str(j, "\xef\xbd\x8auliet@example.com/Balcony"));
    assert_false(xmpp_jid_equal_str(j, "juliet@example.com/balcony"));
    assert_false(xmpp_jid_equal_str(j, "juliet@example.com"));
    assert_false(xmpp_jid_equal_str(j, "juliet@example.com/"));
    assert_false(xmpp_jid_equal_str(j, "\xff"));
    assert_false(xmpp_jid_equal_str(j, NULL));
    assert_false(xmpp_jid_equal_str(NULL, "juliet@example.com"));
    assert_false(xmpp_jid_equal(j, NULL));
    assert_false(xmpp_jid_bare_equal(NULL, j));
    xmpp_jid_free(bare2);
    xmpp_jid_free(bare);
    xmpp_jid_free(c);
    xmpp_jid_free(j);

    /* a domain-only JID: bare and full are the domain */
    assert_int_equal(xmpp_jid_parse(&j, ctx, "Example.com"), XMPP_OK);
    assert_null(xmpp_jid_local(j));
    assert_string_equal(xmpp_jid_bare(j), "example.com");
    xmpp_jid_free(j);

    xmpp_jid_free(NULL);
    assert_null(xmpp_jid_local(NULL));
    assert_null(xmpp_jid_full(NULL));
    assert_false(xmpp_jid_is_full(NULL));
    assert_int_equal(xmpp_jid_parse(NULL, ctx, "a"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_parse(&j, NULL, "a"), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_parse(&j, ctx, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_copy(&j, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_copy(NULL, j), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_to_bare(&j, NULL), XMPP_ERR_INVALID);
}

static void test_new(void **state) {
    xmpp_jid *j = NULL;
    (void)state;
    assert_int_equal(xmpp_jid_new(&j, ctx, "Romeo", "Example.NET", "a/b@c"),
                     XMPP_OK);
    assert_string_equal(xmpp_jid_full(j), "romeo@example.net/a/b@c");
    assert_true(xmpp_jid_equal_str(j, "romeo@example.net/a/b@c"));
    xmpp_jid_free(j);
    assert_int_equal(xmpp_jid_new(&j, ctx, NULL, "example.net", NULL), XMPP_OK);
    assert_string_equal(xmpp_jid_full(j), "example.net");
    xmpp_jid_free(j);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a@b", "example.net", NULL),
                     XMPP_ERR_JID_MALFORMED);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a/b", "example.net", NULL),
                     XMPP_ERR_JID_MALFORMED);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", "example.net/x", NULL),
                     XMPP_ERR_JID_MALFORMED);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", "b@example.net", NULL),
                     XMPP_ERR_JID_MALFORMED);
    assert_int_equal(xmpp_jid_new(&j, ctx, "", "example.net", NULL),
                     XMPP_ERR_JID_EMPTY_LOCAL);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", "", NULL),
                     XMPP_ERR_JID_EMPTY_DOMAIN);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", "example.net", ""),
                     XMPP_ERR_JID_EMPTY_RESOURCE);
    assert_int_equal(xmpp_jid_new(&j, ctx, "a", NULL, NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_new(NULL, ctx, "a", "b", NULL), XMPP_ERR_INVALID);
    assert_null(j);
}

/* ---- PRECIS derived properties (RFC 8264 §8) ---- */

static void test_precis_property(void **state) {
    (void)state;
    assert_int_equal(xmpp__precis_property('a'), XMPP__PRECIS_PVALID);
    assert_int_equal(xmpp__precis_property('~'), XMPP__PRECIS_PVALID);
    assert_int_equal(xmpp__precis_property(' '), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0x00A0), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0x00E9), XMPP__PRECIS_PVALID);
    assert_int_equal(xmpp__precis_property(0x00DF), XMPP__PRECIS_PVALID);
    assert_int_equal(xmpp__precis_property(0x0378), XMPP__PRECIS_UNASSIGNED);
    assert_int_equal(xmpp__precis_property(0x200C), XMPP__PRECIS_CONTEXTJ);
    assert_int_equal(xmpp__precis_property(0x200D), XMPP__PRECIS_CONTEXTJ);
    assert_int_equal(xmpp__precis_property(0x00B7), XMPP__PRECIS_CONTEXTO);
    assert_int_equal(xmpp__precis_property(0x0663), XMPP__PRECIS_CONTEXTO);
    assert_int_equal(xmpp__precis_property(0x0640), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x1100), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0xAC00), XMPP__PRECIS_PVALID);
    assert_int_equal(xmpp__precis_property(0xFFFF), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0xFDD0), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x0007), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x200B), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x202E), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0xE000), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x2028), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x2163), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0x265A), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0x00BF), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0xFF21), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0x01C5), XMPP__PRECIS_ID_DIS);
    assert_int_equal(xmpp__precis_property(0x0301), XMPP__PRECIS_PVALID);
    assert_int_equal(xmpp__precis_property(0xD800), XMPP__PRECIS_DISALLOWED);
    assert_int_equal(xmpp__precis_property(0x110000), XMPP__PRECIS_DISALLOWED);
}

/* ---- XEP-0106 ---- */

static void expect_escape(const char *in, const char *esc) {
    char *out = NULL;
    assert_int_equal(xmpp_jid_escape(ctx, in, &out), XMPP_OK);
    assert_string_equal(out, esc);
    xmpp_free(ctx, out);
}

static void expect_unescape(const char *in, const char *plain) {
    char *out = NULL;
    assert_int_equal(xmpp_jid_unescape(ctx, in, &out), XMPP_OK);
    assert_string_equal(out, plain);
    xmpp_free(ctx, out);
}

static void expect_both(const char *plain, const char *esc) {
    expect_escape(plain, esc);
    expect_unescape(esc, plain);
}

static void test_escape(void **state) {
    char *out = (char *)&out;
    (void)state;
    /* XEP-0106 §5.1 table, rows 1-8 and 12 */
    expect_both("space cadet", "space\\20cadet");
    expect_both("call me \"ishmael\"", "call\\20me\\20\\22ishmael\\22");
    expect_both("at&t guy", "at\\26t\\20guy");
    expect_both("d'artagnan", "d\\27artagnan");
    expect_both("/.fanboy", "\\2f.fanboy");
    expect_both("::foo::", "\\3a\\3afoo\\3a\\3a");
    expect_both("<foo>", "\\3cfoo\\3e");
    expect_both("user@host", "user\\40host");
    expect_both("c:\\5commas", "c\\3a\\5c5commas");
    /* Rows 9-11 escape every backslash, which contradicts §4.1 rule 7 and
     * the §4.3 examples; we follow the rules (escape a backslash only when
     * it starts a sequence) and decode the table's form to the same text. */
    expect_escape("c:\\net", "c\\3a\\net");
    expect_unescape("c\\3a\\5cnet", "c:\\net");
    expect_unescape("c\\3a\\net", "c:\\net");
    expect_escape("c:\\\\net", "c\\3a\\\\net");
    expect_unescape("c\\3a\\5c\\5cnet", "c:\\\\net");
    expect_escape("c:\\cool stuff", "c\\3a\\cool\\20stuff");
    expect_unescape("c\\3a\\5ccool\\20stuff", "c:\\cool stuff");
    /* §4.2 step 3: sequences already in the source are protected */
    expect_both("\\3and\\2is\\5cool", "\\5c3and\\2is\\5c5cool");
    /* §4.3: partial and unknown sequences are left alone both ways */
    expect_both("\\2plus\\2is\\4", "\\2plus\\2is\\4");
    expect_both("foo\\bar", "foo\\bar");
    expect_both("foob\\41r", "foob\\41r");
    /* §3.1: case is significant, \2F is not an escape */
    expect_both("a\\2Fb", "a\\2Fb");
    expect_unescape("a\\2F\\2f", "a\\2F/");
    /* a backslash at the very end, and non-ASCII untouched */
    expect_both("a\\", "a\\");
    expect_both("a\\5", "a\\5");
    expect_both("\xc3\xa9 \xc3\xa9", "\xc3\xa9\\20\xc3\xa9");
    /* §3.2 note: \20 never first or last */
    assert_int_equal(xmpp_jid_escape(ctx, " a", &out), XMPP_ERR_JID_ESCAPE);
    assert_null(out);
    assert_int_equal(xmpp_jid_escape(ctx, "a ", &out), XMPP_ERR_JID_ESCAPE);
    assert_int_equal(xmpp_jid_escape(ctx, "", &out), XMPP_ERR_JID_ESCAPE);
    assert_int_equal(xmpp_jid_escape(NULL, "a", &out), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_escape(ctx, NULL, &out), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_escape(ctx, "a", NULL), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_unescape(ctx, NULL, &out), XMPP_ERR_INVALID);
    assert_int_equal(xmpp_jid_unescape(NULL, "a", &out), XMPP_ERR_INVALID);
    expect_unescape("", "");
    /* escaped output is a valid localpart */
    {
        xmpp_jid *j = NULL;
        assert_int_equal(xmpp_jid_escape(ctx, "call me \"ishmael\"", &out),
                         XMPP_OK);
        assert_int_equal(xmpp_jid_new(&j, ctx, out, "example.com", NULL),
                         XMPP_OK);
        assert_string_equal(xmpp_jid_bare(j),
                            "call\\20me\\20\\22ishmael\\22@example.com");
        xmpp_jid_free(j);
        xmpp_free(ctx, out);
    }
}

/* ---- allocation failure at every point ---- */

static int torture_scenario(xmpp_ctx *c, void *arg) {
    xmpp_jid *j = NULL, *copy = NULL, *bare = NULL, *ip = NULL;
    char *esc = NULL, *unesc = NULL;
    int rc;
    (void)arg;
    /* width mapping, case mapping, CONTEXTO, IDNA, trailing dot, space
     * mapping and NFC in one JID */
    rc = xmpp_jid_parse(&j, c,
                        "\xef\xbc\xaauliet.l\xc2\xb7l@M\xc3\x9cNCHEN.example./"
                        "Balcony\xc2\xa0Room caf\x65\xcc\x81");
    if (rc == XMPP_OK) {
        assert_string_equal(xmpp_jid_full(j),
                            "juliet.l\xc2\xb7l@xn--mnchen-3ya.example/"
                            "Balcony Room caf\xc3\xa9");
        rc = xmpp_jid_copy(&copy, j);
    }
    if (rc == XMPP_OK)
        rc = xmpp_jid_to_bare(&bare, copy);
    if (rc == XMPP_OK)
        rc = xmpp_jid_new(&ip, c, "x", "[::1]", "r");
    if (rc == XMPP_OK)
        rc = xmpp_jid_escape(c, "at&t guy", &esc);
    if (rc == XMPP_OK)
        rc = xmpp_jid_unescape(c, esc, &unesc);
    if (rc == XMPP_OK)
        assert_string_equal(unesc, "at&t guy");
    xmpp_free(c, esc);
    xmpp_free(c, unesc);
    xmpp_jid_free(ip);
    xmpp_jid_free(bare);
    xmpp_jid_free(copy);
    xmpp_jid_free(j);
    return rc;
}

static void test_torture(void **state) {
    long n;
    (void)state;
    n = th_torture(torture_scenario, NULL);
    assert_true(n > 5);
}

/* Each failing parse also releases everything. */
static int torture_fail(xmpp_ctx *c, void *arg) {
    static const char *const bad[] = {
        "a\xe2\x80\xae" "b@example.com", "a@xn--garbage.com",
        "\xd7\x90" "a@example.com", "a@[::1/r", "a@b@c", "x@/r",
        "ab@example.com/a\xe2\x80\x8d", "a@a\xd7\x90.example"};
    size_t i;
    (void)arg;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        xmpp_jid *j = NULL;
        int rc = xmpp_jid_parse(&j, c, bad[i]);
        if (rc == XMPP_ERR_NOMEM)
            return rc;
        assert_true(rc < 0);
        assert_null(j);
    }
    return 0;
}

static void test_torture_errors(void **state) {
    (void)state;
    th_torture(torture_fail, NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7622_valid),
        cmocka_unit_test(test_rfc7622_invalid),
        cmocka_unit_test(test_scenario48),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_controls),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_mappings),
        cmocka_unit_test(test_context_rules),
        cmocka_unit_test(test_bidi),
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_objects),
        cmocka_unit_test(test_new),
        cmocka_unit_test(test_precis_property),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_torture),
        cmocka_unit_test(test_torture_errors),
    };
    return cmocka_run_group_tests_name("jid", tests, setup, teardown);
}
