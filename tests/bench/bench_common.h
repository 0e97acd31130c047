/* Helpers shared by the benchmark programs of tests/bench: argument parsing,
 * reading the input file, a monotonic clock and the result line that
 * tests/bench/run.sh parses.
 *
 * Every benchmark takes the same positional arguments:
 *
 *   bench_X FILE [ITERATIONS (default 1)] [CHUNK (default 4096)]
 *
 * and parses the whole of FILE ITERATIONS times with a fresh parser each time,
 * feeding CHUNK bytes per call. ITERATIONS may be 0 (startup cost only: the
 * file is still read). It then prints one line:
 *
 *   RESULT bench=NAME bytes=B iterations=I chunk=C stanzas=S seconds=T
 *          stanzas_per_s=X mb_per_s=Y
 *
 * (on one line), S being the number of depth-1 elements of ONE parse and
 * MB = 10^6 bytes. A benchmark exits 1 when parsing fails or when the
 * iterations disagree on the stanza count. */
#ifndef XMPP_BENCH_COMMON_H
#define XMPP_BENCH_COMMON_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_args {
    const char *file;
    unsigned long iterations;
    size_t chunk;
    char *data; /* the file's bytes (malloc) */
    size_t len;
} bench_args;

static inline double bench_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Reads a whole file into a malloc'd buffer; exits on failure. */
static inline char *bench_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (f == NULL) {
        fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    for (;;) {
        size_t got;
        if (n == cap) {
            char *nb;
            cap = cap ? cap * 2 : 1 << 20;
            nb = realloc(buf, cap);
            if (nb == NULL) {
                fprintf(stderr, "bench: out of memory reading %s\n", path);
                exit(1);
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "bench: %s: read error\n", path);
        exit(1);
    }
    fclose(f);
    *len = n;
    return buf;
}

static inline int bench_parse_ulong(const char *s, unsigned long *out) {
    char *end;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno == 0 && end != s && *end == '\0' && s[0] != '-';
}

/* Parses FILE [ITERATIONS] [CHUNK] and reads FILE. Exits 2 on bad usage. */
static inline void bench_parse_args(bench_args *a, int argc, char **argv) {
    unsigned long chunk = 4096;
    memset(a, 0, sizeof *a);
    a->iterations = 1;
    if (argc < 2 || argc > 4 || (argc > 2 && !bench_parse_ulong(argv[2], &a->iterations)) ||
        (argc > 3 && (!bench_parse_ulong(argv[3], &chunk) || chunk == 0))) {
        fprintf(stderr, "usage: %s FILE [ITERATIONS (default 1)] [CHUNK (default 4096)]\n",
                argv[0]);
        exit(2);
    }
    a->file = argv[1];
    a->chunk = chunk;
    a->data = bench_read_file(a->file, &a->len);
}

/* Checks that every iteration saw the same number of stanzas. */
static inline void bench_check_count(const char *name, unsigned long iter,
                                     unsigned long long *first,
                                     unsigned long long got) {
    if (iter == 0) {
        *first = got;
    } else if (got != *first) {
        fprintf(stderr, "%s: iteration %lu saw %llu stanzas, iteration 0 saw %llu\n",
                name, iter, got, *first);
        exit(1);
    }
}

static inline void bench_report(const char *name, const bench_args *a,
                                unsigned long long stanzas, double seconds) {
    double total_stanzas = (double)stanzas * (double)a->iterations;
    double total_bytes = (double)a->len * (double)a->iterations;
    double sps = seconds > 0 ? total_stanzas / seconds : 0;
    double mbs = seconds > 0 ? total_bytes / seconds / 1e6 : 0;
    printf("RESULT bench=%s bytes=%zu iterations=%lu chunk=%zu stanzas=%llu "
           "seconds=%.6f stanzas_per_s=%.0f mb_per_s=%.2f\n",
           name, a->len, a->iterations, a->chunk, stanzas, seconds, sps, mbs);
    fflush(stdout);
}

#endif
