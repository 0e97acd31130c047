/* Strict base64 (RFC 4648 §4) for SASL payloads and SCRAM attributes.
 *
 * Why not gnutls_base64_encode2/decode2: the GnuTLS decoder is lenient (it
 * skips embedded spaces and newlines, so "QU JD" decodes), and both calls
 * allocate with gnutls_malloc, outside the context allocator: the output
 * could neither be counted by the allocation-failure tests nor be wiped
 * before release by our free path. SCRAM needs a canonical decoder that
 * rejects everything but the exact alphabet with correct padding
 * (RFC 4648 §3.3, §3.5), and SECURITY.md §2 item 1d asks for a base64 fuzz
 * target of our own. The codec is ~100 lines and has no state. */
#ifndef XMPP_STREAM_BASE64_H
#define XMPP_STREAM_BASE64_H

#include "core/internal.h"

/* Length of the encoding of n bytes (without terminator); 0 on overflow
 * when n > 0. */
size_t xmpp__b64_encoded_len(size_t n);

/* Encodes in[0..n) into out, which must hold xmpp__b64_encoded_len(n) + 1
 * bytes; NUL-terminates and returns the encoded length. */
size_t xmpp__b64_encode(const uint8_t *in, size_t n, char *out);

/* Decodes in[0..n) strictly: n must be a multiple of 4, only the RFC 4648
 * §4 alphabet, '=' only as final padding, unused pad bits zero. out must
 * hold n / 4 * 3 bytes. Returns XMPP_OK or XMPP_ERR_INVALID. The empty
 * string decodes to zero bytes. */
int xmpp__b64_decode(const char *in, size_t n, uint8_t *out, size_t *outlen);

/* Allocating forms (free with xmpp__free). *out is NUL-terminated (encode)
 * or has one spare byte (decode, also for an empty result, so *out is
 * never NULL on success). Return XMPP_OK, XMPP_ERR_NOMEM or (decode)
 * XMPP_ERR_INVALID. */
int xmpp__b64_encode_alloc(const xmpp_ctx *ctx, const uint8_t *in, size_t n,
                           char **out, size_t *outlen);
int xmpp__b64_decode_alloc(const xmpp_ctx *ctx, const char *in, size_t n,
                           uint8_t **out, size_t *outlen);

#endif
