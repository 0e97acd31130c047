/* PRECIS (RFC 8264): the derived property of each code point, the
 * IdentifierClass and FreeformClass checks with their contextual rules
 * (RFC 5892 Appendix A), the Bidi Rule (RFC 5893 §2), and the
 * UsernameCaseMapped and OpaqueString profiles (RFC 8265 §3.3, §4.2).
 *
 * Unicode data comes from libunistring (unictype, uninorm, unicase), so
 * the tables follow the Unicode version libunistring was built with.
 *
 * Work happens on UCS-4 strings held in context memory. libunistring
 * returns case-mapped and normalised strings in malloc'd memory; those are
 * copied into context memory and released with free() at once. */
#include "stanza/precis.h"

#include <stdlib.h>
#include <string.h>

#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

/* A UCS-4 string in context memory. */
typedef struct u32str {
    uint32_t *s;
    size_t n;
} u32str;

/* ---- derived property (RFC 8264 §8, §9) ---- */

/* RFC 5892 §2.6 Exceptions (F), referenced by RFC 8264 §9.6.
 * Returns -1 when the code point is not listed. */
static int exception_value(uint32_t cp) {
    switch (cp) {
    case 0x00DF: case 0x03C2: case 0x06FD: case 0x06FE: case 0x0F0B:
    case 0x3007:
        return XMPP__PRECIS_PVALID;
    case 0x00B7: case 0x0375: case 0x05F3: case 0x05F4: case 0x30FB:
        return XMPP__PRECIS_CONTEXTO;
    case 0x0640: case 0x07FA: case 0x302E: case 0x302F: case 0x303B:
        return XMPP__PRECIS_DISALLOWED;
    default:
        break;
    }
    if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06F0 && cp <= 0x06F9))
        return XMPP__PRECIS_CONTEXTO;
    if (cp >= 0x3031 && cp <= 0x3035)
        return XMPP__PRECIS_DISALLOWED;
    return -1;
}

/* RFC 8264 §9.9 OldHangulJamo (I): Hangul_Syllable_Type L, V or T.
 * libunistring has no accessor for that property; the ranges are those of
 * HangulSyllableType.txt, which Unicode keeps stable. */
static int is_old_hangul_jamo(uint32_t cp) {
    return (cp >= 0x1100 && cp <= 0x11FF) || /* L, V and T */
           (cp >= 0xA960 && cp <= 0xA97C) || /* L */
           (cp >= 0xD7B0 && cp <= 0xD7C6) || /* V */
           (cp >= 0xD7CB && cp <= 0xD7FB);   /* T */
}

/* RFC 8264 §9.17 HasCompat (Q): toNFKC(cp) != cp. */
static int has_compat(uint32_t cp) {
    uint32_t buf[64]; /* the longest NFKC expansion of one code point is 18 */
    size_t n = sizeof(buf) / sizeof(buf[0]);
    uint32_t *r = u32_normalize(UNINORM_NFKC, &cp, 1, buf, &n);
    int differs;
    if (r == NULL)
        return 1; /* cannot tell: treat as compatibility, the strict answer */
    differs = !(n == 1 && r[0] == cp);
    if (r != buf)
        free(r);
    return differs;
}

xmpp__precis_prop xmpp__precis_property(uint32_t cp) {
    const char *gc;
    int exc;

    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return XMPP__PRECIS_DISALLOWED;
    exc = exception_value(cp); /* §8 step 1 */
    if (exc >= 0)
        return (xmpp__precis_prop)exc;
    /* §8 step 2: BackwardCompatible (§9.7) is empty. */
    gc = uc_general_category_name(uc_general_category(cp));
    if (gc == NULL)
        return XMPP__PRECIS_DISALLOWED;
    /* §9.10 Unassigned (J): Cn that is not a noncharacter */
    if (strcmp(gc, "Cn") == 0 && !uc_is_property_not_a_character(cp))
        return XMPP__PRECIS_UNASSIGNED;
    if (cp >= 0x21 && cp <= 0x7E) /* §9.11 ASCII7 (K) */
        return XMPP__PRECIS_PVALID;
    if (uc_is_property_join_control(cp)) /* §9.8 JoinControl (H) */
        return XMPP__PRECIS_CONTEXTJ;
    if (is_old_hangul_jamo(cp)) /* §9.9 */
        return XMPP__PRECIS_DISALLOWED;
    /* §9.13 PrecisIgnorableProperties (M) */
    if (uc_is_property_default_ignorable_code_point(cp) ||
        uc_is_property_not_a_character(cp))
        return XMPP__PRECIS_DISALLOWED;
    if (strcmp(gc, "Cc") == 0) /* §9.12 Controls (L) */
        return XMPP__PRECIS_DISALLOWED;
    if (has_compat(cp)) /* §9.17 */
        return XMPP__PRECIS_ID_DIS;
    switch (gc[0]) {
    case 'L': /* §9.1 LetterDigits (A): Ll Lu Lo Lm; §9.18 (R): Lt */
        return gc[1] == 't' ? XMPP__PRECIS_ID_DIS : XMPP__PRECIS_PVALID;
    case 'M': /* §9.1: Mn Mc; §9.18 OtherLetterDigits: Me */
        return gc[1] == 'e' ? XMPP__PRECIS_ID_DIS : XMPP__PRECIS_PVALID;
    case 'N': /* §9.1: Nd; §9.18: Nl No */
        return gc[1] == 'd' ? XMPP__PRECIS_PVALID : XMPP__PRECIS_ID_DIS;
    case 'Z': /* §9.14 Spaces (N): Zs only; Zl and Zp fall through */
        return gc[1] == 's' ? XMPP__PRECIS_ID_DIS : XMPP__PRECIS_DISALLOWED;
    case 'S': /* §9.15 Symbols (O) */
    case 'P': /* §9.16 Punctuation (P) */
        return XMPP__PRECIS_ID_DIS;
    default: /* Cf, Co, Cs and anything else: §8 step 15 */
        return XMPP__PRECIS_DISALLOWED;
    }
}

/* ---- contextual rules (RFC 5892 Appendix A, via RFC 8264 §9.6, §9.8) ---- */

static int is_virama(uint32_t cp) {
    return uc_combining_class(cp) == UC_CCC_VR;
}

static int script_is(uint32_t cp, const char *name) {
    const uc_script_t *sc = uc_script(cp);
    return sc != NULL && strcmp(sc->name, name) == 0;
}

/* (Joining_Type:{L,D})(Joining_Type:T)* before index i */
static int zwnj_left_joins(const uint32_t *s, size_t i) {
    while (i > 0) {
        int jt = uc_joining_type(s[--i]);
        if (jt == UC_JOINING_TYPE_T)
            continue;
        return jt == UC_JOINING_TYPE_L || jt == UC_JOINING_TYPE_D;
    }
    return 0;
}

/* (Joining_Type:T)*(Joining_Type:{R,D}) after index i */
static int zwnj_right_joins(const uint32_t *s, size_t n, size_t i) {
    while (++i < n) {
        int jt = uc_joining_type(s[i]);
        if (jt == UC_JOINING_TYPE_T)
            continue;
        return jt == UC_JOINING_TYPE_R || jt == UC_JOINING_TYPE_D;
    }
    return 0;
}

static int contextj_ok(const uint32_t *s, size_t n, size_t i) {
    if (i > 0 && is_virama(s[i - 1])) /* A.1 and A.2: after a virama */
        return 1;
    if (s[i] == 0x200C) /* A.1 ZERO WIDTH NON-JOINER between joining letters */
        return zwnj_left_joins(s, i) && zwnj_right_joins(s, n, i);
    return 0; /* A.2 ZERO WIDTH JOINER has no other case */
}

/* Facts about the whole string that CONTEXTO rules A.7-A.9 look at,
 * gathered once so that checking stays linear in the string length. */
typedef struct ctx_facts {
    int kana_han;     /* a Hiragana, Katakana or Han code point (A.7) */
    int arabic_indic; /* U+0660..U+0669 (A.9) */
    int ext_arabic;   /* U+06F0..U+06F9 (A.8) */
} ctx_facts;

static void gather_facts(const uint32_t *s, size_t n, ctx_facts *f) {
    size_t i;
    memset(f, 0, sizeof(*f));
    for (i = 0; i < n; i++) {
        if (s[i] >= 0x0660 && s[i] <= 0x0669)
            f->arabic_indic = 1;
        else if (s[i] >= 0x06F0 && s[i] <= 0x06F9)
            f->ext_arabic = 1;
        else if (s[i] != 0x30FB && s[i] >= 0x2E80 &&
                 (script_is(s[i], "Hiragana") || script_is(s[i], "Katakana") ||
                  script_is(s[i], "Han")))
            f->kana_han = 1;
    }
}

static int contexto_ok(const uint32_t *s, size_t n, size_t i,
                       const ctx_facts *f) {
    switch (s[i]) {
    case 0x00B7: /* A.3 MIDDLE DOT: only between two 'l' (Catalan) */
        return i > 0 && i + 1 < n && s[i - 1] == 0x6C && s[i + 1] == 0x6C;
    case 0x0375: /* A.4 GREEK LOWER NUMERAL SIGN: followed by Greek */
        return i + 1 < n && script_is(s[i + 1], "Greek");
    case 0x05F3: /* A.5 HEBREW PUNCTUATION GERESH: after Hebrew */
    case 0x05F4: /* A.6 HEBREW PUNCTUATION GERSHAYIM: after Hebrew */
        return i > 0 && script_is(s[i - 1], "Hebrew");
    case 0x30FB: /* A.7 KATAKANA MIDDLE DOT: with Hiragana, Katakana or Han */
        return f->kana_han;
    default:
        break;
    }
    if (s[i] >= 0x0660 && s[i] <= 0x0669) /* A.8 ARABIC-INDIC DIGITS */
        return !f->ext_arabic;
    if (s[i] >= 0x06F0 && s[i] <= 0x06F9) /* A.9 EXTENDED ARABIC-INDIC DIGITS */
        return !f->arabic_indic;
    return 0;
}

/* Checks every code point against the IdentifierClass (RFC 8264 §4.2) or
 * the FreeformClass (§4.3), contextual rules included. */
static int check_class(const uint32_t *s, size_t n, int freeform) {
    ctx_facts facts;
    size_t i;
    gather_facts(s, n, &facts);
    for (i = 0; i < n; i++) {
        switch (xmpp__precis_property(s[i])) {
        case XMPP__PRECIS_PVALID:
            break;
        case XMPP__PRECIS_ID_DIS:
            if (!freeform)
                return XMPP__PRECIS_EDISALLOWED;
            break;
        case XMPP__PRECIS_CONTEXTJ:
            if (!contextj_ok(s, n, i))
                return XMPP__PRECIS_ECONTEXT;
            break;
        case XMPP__PRECIS_CONTEXTO:
            if (!contexto_ok(s, n, i, &facts))
                return XMPP__PRECIS_ECONTEXT;
            break;
        default: /* DISALLOWED, UNASSIGNED */
            return XMPP__PRECIS_EDISALLOWED;
        }
    }
    return XMPP_OK;
}

/* ---- directionality (RFC 5893) ---- */

/* RFC 5893 §1.4: an RTL label holds at least one R, AL or AN character;
 * the Bidi Rule applies only to such strings (RFC 8265 §3.3.3 step 5). */
static int has_rtl(const uint32_t *s, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        int bc = uc_bidi_class(s[i]);
        if (bc == UC_BIDI_R || bc == UC_BIDI_AL || bc == UC_BIDI_AN)
            return 1;
    }
    return 0;
}

static int bidi_rtl_allowed(int bc) { /* RFC 5893 §2 rule 2 */
    return bc == UC_BIDI_R || bc == UC_BIDI_AL || bc == UC_BIDI_AN ||
           bc == UC_BIDI_EN || bc == UC_BIDI_ES || bc == UC_BIDI_CS ||
           bc == UC_BIDI_ET || bc == UC_BIDI_ON || bc == UC_BIDI_BN ||
           bc == UC_BIDI_NSM;
}

static int bidi_ltr_allowed(int bc) { /* RFC 5893 §2 rule 5 */
    return bc == UC_BIDI_L || bc == UC_BIDI_EN || bc == UC_BIDI_ES ||
           bc == UC_BIDI_CS || bc == UC_BIDI_ET || bc == UC_BIDI_ON ||
           bc == UC_BIDI_BN || bc == UC_BIDI_NSM;
}

static int bidi_rule_ok(const uint32_t *s, size_t n) {
    int first, last, rtl, has_en = 0, has_an = 0;
    size_t i, end;

    if (n == 0)
        return 1;
    first = uc_bidi_class(s[0]); /* rule 1 */
    if (first == UC_BIDI_R || first == UC_BIDI_AL)
        rtl = 1;
    else if (first == UC_BIDI_L)
        rtl = 0;
    else
        return 0;
    for (i = 0; i < n; i++) { /* rules 2 and 5 */
        int bc = uc_bidi_class(s[i]);
        if (rtl ? !bidi_rtl_allowed(bc) : !bidi_ltr_allowed(bc))
            return 0;
        has_en |= bc == UC_BIDI_EN;
        has_an |= bc == UC_BIDI_AN;
    }
    if (rtl && has_en && has_an) /* rule 4 */
        return 0;
    end = n; /* rules 3 and 6: the last character that is not NSM */
    while (end > 0 && uc_bidi_class(s[end - 1]) == UC_BIDI_NSM)
        end--;
    if (end == 0)
        return 0;
    last = uc_bidi_class(s[end - 1]);
    if (rtl)
        return last == UC_BIDI_R || last == UC_BIDI_AL || last == UC_BIDI_EN ||
               last == UC_BIDI_AN;
    return last == UC_BIDI_L || last == UC_BIDI_EN;
}

/* ---- UCS-4 conversion ---- */

/* in[0..len) must be valid UTF-8. */
static int decode(const xmpp_ctx *ctx, const char *in, size_t len, u32str *out) {
    const uint8_t *p = (const uint8_t *)in;
    size_t i = 0, n = 0;
    uint32_t *s;

    if (len == SIZE_MAX || !xmpp__mul_ok(len + 1, sizeof(*s)))
        return XMPP_ERR_NOMEM;
    s = xmpp__malloc(ctx, (len + 1) * sizeof(*s));
    if (s == NULL)
        return XMPP_ERR_NOMEM;
    while (i < len) {
        ucs4_t uc;
        i += (size_t)u8_mbtouc_unsafe(&uc, p + i, len - i); /* always >= 1 */
        s[n++] = uc;
    }
    out->s = s;
    out->n = n;
    return XMPP_OK;
}

static int encode(const xmpp_ctx *ctx, const u32str *in, char **out,
                  size_t *outlen) {
    size_t cap, i, o = 0;
    uint8_t *buf;

    if (!xmpp__mul_ok(in->n, 4) || in->n * 4 == SIZE_MAX)
        return XMPP_ERR_NOMEM;
    cap = in->n * 4 + 1;
    buf = xmpp__malloc(ctx, cap);
    if (buf == NULL)
        return XMPP_ERR_NOMEM;
    for (i = 0; i < in->n; i++) {
        int k = u8_uctomb(buf + o, in->s[i], (ptrdiff_t)(cap - o));
        if (k < 0) { /* not a scalar value: cannot come from libunistring */
            xmpp__free(ctx, buf);
            return XMPP__PRECIS_EDISALLOWED;
        }
        o += (size_t)k;
    }
    buf[o] = '\0';
    *out = (char *)buf;
    if (outlen != NULL)
        *outlen = o;
    return XMPP_OK;
}

/* Takes a malloc'd libunistring result into context memory. */
static int adopt(const xmpp_ctx *ctx, u32str *str, uint32_t *r, size_t rn) {
    uint32_t *copy;
    if (r == NULL)
        return XMPP_ERR_NOMEM; /* libunistring sets errno = ENOMEM */
    if (rn == SIZE_MAX || !xmpp__mul_ok(rn + 1, sizeof(*copy))) {
        free(r);
        return XMPP_ERR_NOMEM;
    }
    copy = xmpp__malloc(ctx, (rn + 1) * sizeof(*copy));
    if (copy == NULL) {
        free(r);
        return XMPP_ERR_NOMEM;
    }
    if (rn > 0)
        memcpy(copy, r, rn * sizeof(*copy));
    free(r);
    xmpp__free(ctx, str->s);
    str->s = copy;
    str->n = rn;
    return XMPP_OK;
}

/* ---- mapping rules ---- */

/* Width mapping (RFC 8265 §3.3.1; also RFC 5895 §2 step 2): a code point
 * whose decomposition type is <wide> or <narrow> becomes its decomposition
 * mapping, which is always one code point. */
static uint32_t width_map(uint32_t cp) {
    ucs4_t d[UC_DECOMPOSITION_MAX_LENGTH];
    int tag;
    if (cp < 0x80)
        return cp;
    if (uc_decomposition(cp, &tag, d) == 1 &&
        (tag == UC_DECOMP_WIDE || tag == UC_DECOMP_NARROW))
        return d[0];
    return cp;
}

/* See XMPP__PRECIS_MAP_LOWER_IDNA. IDNA2008 disallows a code point that
 * case folding changes (RFC 5892 §2.2 Unstable, with the ß and ς
 * exceptions of §2.6), so only those are lowered; the simple lowercase
 * mapping keeps the result independent of context (no final sigma rule). */
static uint32_t idna_lower(uint32_t cp) {
    uint32_t buf[8];
    size_t n = sizeof(buf) / sizeof(buf[0]);
    uint32_t *r;
    int stable;

    if (cp < 0x80)
        return (cp >= 'A' && cp <= 'Z') ? cp + 0x20 : cp;
    r = u32_casefold(&cp, 1, NULL, NULL, buf, &n);
    if (r == NULL)
        return uc_tolower(cp);
    stable = n == 1 && r[0] == cp;
    if (r != buf)
        free(r);
    return stable ? cp : uc_tolower(cp);
}

/* One pass of the RFC 8264 §7 mapping steps 1-4 that @p flags select. */
static int map_once(const xmpp_ctx *ctx, u32str *str, unsigned flags) {
    size_t i, rn = 0;
    uint32_t *r;

    for (i = 0; i < str->n; i++) {
        if (flags & XMPP__PRECIS_MAP_WIDTH) /* step 1 */
            str->s[i] = width_map(str->s[i]);
        if (flags & XMPP__PRECIS_MAP_LOWER_IDNA)
            str->s[i] = idna_lower(str->s[i]);
        /* step 2, OpaqueString's additional mapping (RFC 8265 §4.2.3) */
        if ((flags & XMPP__PRECIS_MAP_SPACE) && str->s[i] != 0x20 &&
            uc_is_general_category(str->s[i], UC_CATEGORY_Zs))
            str->s[i] = 0x20;
    }
    if (str->n == 0)
        return XMPP_OK;
    if (flags & XMPP__PRECIS_MAP_LOWER) /* steps 3 and 4 */
        r = u32_tolower(str->s, str->n, NULL,
                        (flags & XMPP__PRECIS_MAP_NFC) ? UNINORM_NFC : NULL,
                        NULL, &rn);
    else if (flags & XMPP__PRECIS_MAP_NFC) /* step 4 */
        r = u32_normalize(UNINORM_NFC, str->s, str->n, NULL, &rn);
    else
        return XMPP_OK;
    return adopt(ctx, str, r, rn);
}

/* RFC 8264 §7: the rules are applied again until the string is stable; a
 * string that still changes after three more applications is rejected. */
static int map_stable(const xmpp_ctx *ctx, u32str *str, unsigned flags) {
    int pass, rc;

    rc = map_once(ctx, str, flags);
    if (rc != XMPP_OK)
        return rc;
    for (pass = 0; pass < 3; pass++) {
        u32str again;
        again.n = str->n;
        again.s = xmpp__malloc(ctx, (str->n + 1) * sizeof(uint32_t));
        if (again.s == NULL)
            return XMPP_ERR_NOMEM;
        if (str->n > 0)
            memcpy(again.s, str->s, str->n * sizeof(uint32_t));
        rc = map_once(ctx, &again, flags);
        if (rc != XMPP_OK) {
            xmpp__free(ctx, again.s);
            return rc;
        }
        if (again.n == str->n &&
            (str->n == 0 || memcmp(again.s, str->s, str->n * sizeof(uint32_t)) == 0)) {
            xmpp__free(ctx, again.s);
            return XMPP_OK;
        }
        xmpp__free(ctx, str->s);
        *str = again;
    }
    return XMPP__PRECIS_EUNSTABLE;
}

int xmpp__precis_map(const xmpp_ctx *ctx, const char *in, size_t len,
                     unsigned flags, char **out, size_t *outlen) {
    u32str s;
    int rc = decode(ctx, in, len, &s);
    if (rc != XMPP_OK)
        return rc;
    rc = map_once(ctx, &s, flags);
    if (rc == XMPP_OK)
        rc = encode(ctx, &s, out, outlen);
    xmpp__free(ctx, s.s);
    return rc;
}

/* ---- profiles ---- */

/* The rules shared by both profiles after the mappings: the string is not
 * empty (RFC 8264 §7), every code point is allowed by the class
 * (RFC 8264 §7 step 6), and the Bidi Rule holds when asked for. */
static int check_enforced(const u32str *s, int freeform, int bidi) {
    int rc;
    if (s->n == 0)
        return XMPP__PRECIS_EEMPTY;
    rc = check_class(s->s, s->n, freeform);
    if (rc != XMPP_OK)
        return rc;
    if (bidi && has_rtl(s->s, s->n) && !bidi_rule_ok(s->s, s->n))
        return XMPP__PRECIS_EBIDI;
    return XMPP_OK;
}

int xmpp__precis_username_casemapped(const xmpp_ctx *ctx, const char *in,
                                     size_t len, char **out, size_t *outlen) {
    u32str s;
    size_t i;
    int rc;

    if (len == 0)
        return XMPP__PRECIS_EEMPTY;
    rc = decode(ctx, in, len, &s);
    if (rc != XMPP_OK)
        return rc;
    /* RFC 8265 §3.3.2 preparation: width mapping first, so that fullwidth
     * letters are not disallowed as HasCompat, then the IdentifierClass.
     * Checking before case mapping matters: U+212A KELVIN SIGN lowercases
     * to 'k' but is itself disallowed. */
    for (i = 0; i < s.n; i++)
        s.s[i] = width_map(s.s[i]);
    rc = check_class(s.s, s.n, 0);
    /* RFC 8265 §3.3.3 enforcement: width mapping, no additional mapping,
     * toLowerCase, NFC, then the Bidi Rule (step 5). */
    if (rc == XMPP_OK)
        rc = map_stable(ctx, &s,
                        XMPP__PRECIS_MAP_WIDTH | XMPP__PRECIS_MAP_LOWER |
                            XMPP__PRECIS_MAP_NFC);
    if (rc == XMPP_OK)
        rc = check_enforced(&s, 0, 1);
    if (rc == XMPP_OK)
        rc = encode(ctx, &s, out, outlen);
    xmpp__free(ctx, s.s);
    return rc;
}

int xmpp__precis_opaque_string(const xmpp_ctx *ctx, const char *in, size_t len,
                               int bidi, char **out, size_t *outlen) {
    u32str s;
    int rc;

    if (len == 0)
        return XMPP__PRECIS_EEMPTY;
    rc = decode(ctx, in, len, &s);
    if (rc != XMPP_OK)
        return rc;
    /* RFC 8265 §4.2.2 preparation: the FreeformClass */
    rc = check_class(s.s, s.n, 1);
    /* RFC 8265 §4.2.3 enforcement: no width mapping, non-ASCII spaces to
     * U+0020, no case mapping, NFC; no directionality rule. */
    if (rc == XMPP_OK)
        rc = map_stable(ctx, &s, XMPP__PRECIS_MAP_SPACE | XMPP__PRECIS_MAP_NFC);
    if (rc == XMPP_OK)
        rc = check_enforced(&s, 1, bidi);
    if (rc == XMPP_OK)
        rc = encode(ctx, &s, out, outlen);
    xmpp__free(ctx, s.s);
    return rc;
}
