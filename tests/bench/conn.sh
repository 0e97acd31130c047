#!/bin/sh
# Connection benchmarks, called by tests/bench/run.sh (`make bench`); can run
# alone: CC=gcc srcdir=. builddir=BUILD sh tests/bench/conn.sh
#
# libxmpp (its driver, xmpp/client.h) against libstrophe, in the same run:
#   login   TCP connect -> resource bound, STARTTLS verified against the test
#           CA, SCRAM-SHA-1, against the private Prosody and ejabberd
#           (tests/servers); libxmpp the RFC 6120 way, and on Prosody (when
#           its SASL2 modules work) also with SASL2 + Bind2 (password) and
#           with a FAST token instead of the password: median wall time of
#           BENCH_LOGINS logins,
#           instructions per login (callgrind, K vs 2K logins in one process:
#           the difference excludes process start and one-time set-up such as
#           loading the trust store), and round trips (see conn_common.h);
#   ingest  a plaintext PLAIN login to tests/bench/conn_server, which then
#           streams BENCH_INGEST ~460-byte messages: stanzas/s, and
#           instructions per stanza (callgrind, S vs 2S stanzas);
#   memory  BENCH_IDLE idle authenticated TLS connections to Prosody in one
#           process and one thread: heap (mallinfo2), RSS and the library's
#           own bytes (counting allocator) per connection.
# A report, not a test: a missing server or libstrophe skips its part with a
# message; exits 1 only when a benchmark program fails.
#
# Environment: CC, CPPFLAGS, srcdir, builddir (as run.sh). Knobs:
#   BENCH_CONN=0          skip everything here
#   BENCH_LOGINS=30       logins per wall-clock measurement
#   BENCH_CG_LOGINS=2     K for the callgrind login runs (K and 2K), against
#                         the first server only (the counts differ by < 0.2%
#                         between Prosody and ejabberd)
#   BENCH_REPEAT=3        ingest wall clock: the best of this many runs
#   BENCH_INGEST=200000   messages streamed in the ingest run
#   BENCH_CG_INGEST=5000  S for the callgrind ingest runs (S and 2S)
#   BENCH_IDLE=1000       libxmpp idle connections
#   BENCH_IDLE_STROPHE=100 libstrophe idle connections (select(2) caps it
#                         below 1024 descriptors, and each of its connections
#                         loads the whole trust store: ~0.2 s per login)
#   BENCH_CALLGRIND=0     skip the callgrind parts
#   BENCH_SERVERS="prosody ejabberd"
#   BENCH_CFLAGS="-O2 -g" BENCH_KEEP=1 (as run.sh)

set -u

srcdir=${srcdir:-.}
builddir=${builddir:-.}
CC=${CC:-cc}
CPPFLAGS=${CPPFLAGS:-}
BENCH_CFLAGS=${BENCH_CFLAGS:--O2 -g}
LOGINS=${BENCH_LOGINS:-30}
CG_LOGINS=${BENCH_CG_LOGINS:-2}
REPEAT=${BENCH_REPEAT:-3}
CG_DONE=0
INGEST=${BENCH_INGEST:-200000}
CG_INGEST=${BENCH_CG_INGEST:-5000}
IDLE=${BENCH_IDLE:-1000}
IDLE_STROPHE=${BENCH_IDLE_STROPHE:-100}
SERVERS=${BENCH_SERVERS:-prosody ejabberd}
T=$srcdir/tests/servers
B=$builddir/tests/bench
W=$B/conn.tmp
failed=0
SERVER_DIRS=

say() { printf '%s\n' "$*"; }
val() { printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

if [ "${BENCH_CONN:-1}" = 0 ]; then
    say "Connection benchmarks: skipped (BENCH_CONN=0)."
    exit 0
fi

rm -rf "$W"
mkdir -p "$W" || exit 1
cleanup() {
    for d in $SERVER_DIRS; do
        if [ -f "$d/env" ] && grep -q "SERVER_NAME=.*ejabberd" "$d/env"; then
            "$T/ejabberd.sh" stop "$d" >/dev/null 2>&1
        else
            "$T/prosody.sh" stop "$d" >/dev/null 2>&1
        fi
    done
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# 1000 connections in one process (and in Prosody, which inherits it)
ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null

say "== libxmpp connection benchmarks (vs libstrophe) =="

# ---- programs -----------------------------------------------------------------
# conn_libxmpp and conn_server may come from the Makefile (EXTRA_PROGRAMS);
# else they are compiled here, like conn_strophe always is (libstrophe's
# xmpp_* symbols clash with libxmpp's). All are linked with -rdynamic so that
# their socket wrappers (conn_common.h) see the libraries' calls.
# shellcheck disable=SC2086
build() { # OUT SRC FLAGS...
    out=$1 src=$2
    shift 2
    $CC $CPPFLAGS $BENCH_CFLAGS "$srcdir/tests/bench/$src" -o "$W/$out" "$@" \
        >"$W/$out-cc.log" 2>&1
}
SRV=$W/conn_server
if ! build conn_server conn_server.c; then
    say "conn_server does not compile; connection benchmarks skipped:"
    sed 's/^/  /' "$W/conn_server-cc.log"
    exit 1
fi
LX=
if [ -x "$B/conn_libxmpp" ] && [ "$(head -c 2 "$B/conn_libxmpp")" != "#!" ]; then
    LX=$B/conn_libxmpp
elif [ -f "$builddir/lib/.libs/libxmpp.so" ]; then
    libdir=$(cd "$builddir/lib/.libs" && pwd)
    # shellcheck disable=SC2086
    if build conn_libxmpp conn_libxmpp.c -I"$srcdir/include" -I"$builddir/include" \
        -L"$libdir" -lxmpp -Wl,-rpath,"$libdir" -rdynamic -ldl; then
        LX=$W/conn_libxmpp
    else
        say "conn_libxmpp does not compile:"
        sed 's/^/  /' "$W/conn_libxmpp-cc.log"
        exit 1
    fi
else
    say "libxmpp: $builddir/lib/.libs/libxmpp.so is missing (run \`make\`); skipped."
    exit 1
fi
ST=
if ! pkg-config --exists libstrophe 2>/dev/null; then
    say "libstrophe: not installed (Debian: libstrophe-dev); only libxmpp is measured."
    # shellcheck disable=SC2046
elif build conn_strophe conn_strophe.c $(pkg-config --cflags libstrophe) \
    $(pkg-config --libs libstrophe) -rdynamic -ldl; then
    ST=$W/conn_strophe
else
    say "libstrophe: conn_strophe.c does not compile; only libxmpp is measured:"
    sed 's/^/  /' "$W/conn_strophe-cc.log"
fi
CG=1
if [ "${BENCH_CALLGRIND:-1}" = 0 ]; then
    CG=0
elif ! command -v valgrind >/dev/null 2>&1; then
    say "valgrind is not installed: instruction counts skipped."
    CG=0
fi
say "libxmpp $LX; libstrophe ${ST:-none} ($(pkg-config --modversion libstrophe 2>/dev/null || echo -));"
say "load average $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?')"
say

# run LOG CMD...: runs a benchmark program (bounded), prints its RESULT line
run() {
    log=$1
    shift
    if ! timeout 240 "$@" >"$log.out" 2>"$log.err"; then
        say "  FAILED: $*" >&2
        sed 's/^/    /' "$log.err" | tail -n 5 >&2
        echo "$*" >>"$W/failed"
        return 1
    fi
    grep '^RESULT' "$log.out"
}

# cg_total LOG CMD...: the total instructions of CMD under callgrind
cg_total() {
    log=$1
    shift
    rm -f "$W"/cg.*.out
    timeout 240 valgrind --tool=callgrind --callgrind-out-file="$W/cg.%p.out" \
        "$@" >"$log.out" 2>"$log.err" || {
        say "  FAILED under valgrind: $*" >&2
        sed 's/^/    /' "$log.err" | tail -n 5 >&2
        echo "$*" >>"$W/failed"
        return 1
    }
    f=$(ls -S "$W"/cg.*.out 2>/dev/null | head -n 1)
    [ -n "$f" ] || return 1
    mv "$f" "$log.callgrind"
    awk '/^totals:/ { print $2; exit }' "$log.callgrind"
}

# cg_split FILE: "tls=N" the instructions of FILE spent in the TLS/crypto
# libraries (GnuTLS, Nettle, GMP, OpenSSL), by object
cg_split() {
    callgrind_annotate --threshold=100 "$1" 2>/dev/null | awk '
        /^ *[0-9,]+ .*\[/ {
            n = $1; gsub(",", "", n);
            if ($0 ~ /libgnutls|libnettle|libhogweed|libgmp|libcrypto|libssl|libtasn1|libp11/)
                t += n
        }
        END { printf "%.0f\n", t }'
}

ROWS=$W/rows
: >"$ROWS"
row() { printf '%s\n' "$*" >>"$ROWS"; }

start_server() { # NAME -> prints DIR
    d=$(mktemp -d /tmp/xmpp-bench-XXXXXX) && chmod 755 "$d" || return 1
    SERVER_DIRS="$SERVER_DIRS $d"
    if [ "$1" = ejabberd ]; then
        # only SCRAM-SHA-1 (libstrophe cannot be told which SCRAM to use);
        # ejabberd 23.01 spells it "sha" (the harness's default "sha1" is
        # rejected by auth_scram_hash)
        EJABBERD_PASSWORD_FORMAT=scram EJABBERD_SCRAM_HASH=sha \
            "$T/ejabberd.sh" start "$d" >"$W/start-$1.log" 2>&1 || return 1
    else
        # PROSODY_HTTPS: wss:// for the WebSocket logins
        PROSODY_HTTPS=1 "$T/prosody.sh" start "$d" >"$W/start-$1.log" 2>&1 || return 1
    fi
    printf '%s\n' "$d"
}

stop_server() { # NAME DIR
    "$T/$1.sh" stop "$2" >/dev/null 2>&1
    SERVER_DIRS=$(printf '%s\n' $SERVER_DIRS | grep -v "^$2\$" | tr '\n' ' ')
}

login_bench() { # SERVER
    s=$1
    cmd=$s
    [ "$s" = ejabberd ] && cmd=ejabberdctl
    if [ "$(id -u)" != 0 ] || ! command -v "$cmd" >/dev/null 2>&1; then
        say "  $s: not available (the harness needs root and the Debian package $s); skipped."
        return
    fi
    if ! d=$(start_server "$s"); then
        say "  $s: does not start; skipped:"
        tail -n 5 "$W/start-$s.log" | sed 's/^/    /'
        return
    fi
    # shellcheck disable=SC1090,SC1091
    . "$d/env"
    set -- 127.0.0.1 "$XMPP_PORT" "$ALICE_JID" "$ALICE_PASSWORD" "$XMPP_CAFILE"
    r=$(run "$W/login-$s-libxmpp" "$LX" login "$@" "$LOGINS") &&
        row "login $s libxmpp $(val "$r" median_ms) $(val "$r" trips_min) $(val "$r" trips_max) $(val "$r" mech)"
    # SASL2 + Bind2 (XEP-0388, XEP-0386) and FAST tokens (XEP-0484)
    SASL2_MODES=
    [ "${XMPP_SASL2:-0}" = 1 ] && SASL2_MODES="sasl2 fast"
    for m in $SASL2_MODES; do
        r=$(run "$W/login-$s-libxmpp-$m" "$LX" "login-$m" "$@" "$LOGINS") &&
            row "login $s libxmpp-$m $(val "$r" median_ms) $(val "$r" trips_min) $(val "$r" trips_max) $(val "$r" mech)"
    done
    # XMPP over WebSocket (RFC 7395): wss:// where the harness serves HTTPS
    # (Prosody), the same TLS verification and SCRAM-SHA-1
    if [ -n "${XMPP_WEBSOCKET_TLS_URL:-}" ]; then
        for m in login $(for x in $SASL2_MODES; do [ "$x" = sasl2 ] && echo login-sasl2; done); do
            r=$(
                CONN_WS_URL=$XMPP_WEBSOCKET_TLS_URL
                export CONN_WS_URL
                run "$W/login-$s-libxmpp-wss-$m" "$LX" "$m" 127.0.0.1 "$XMPP_HTTPS_PORT" \
                    "$ALICE_JID" "$ALICE_PASSWORD" "$XMPP_CAFILE" "$LOGINS"
            ) &&
                row "login $s libxmpp-wss${m#login} $(val "$r" median_ms) $(val "$r" trips_min) $(val "$r" trips_max) $(val "$r" mech)"
        done
    fi
    if [ -n "$ST" ]; then
        mech=$(CONN_STROPHE_DEBUG=1 timeout 60 "$ST" login "$@" 1 2>&1 |
            sed -n 's/.*<auth mechanism="\([^"]*\)".*/\1/p' | head -n 1)
        r=$(run "$W/login-$s-strophe" "$ST" login "$@" "$LOGINS") &&
            row "login $s strophe $(val "$r" median_ms) $(val "$r" trips_min) $(val "$r" trips_max) ${mech:-?}"
        r=$(
            CONN_STROPHE_NODELAY=1
            export CONN_STROPHE_NODELAY
            run "$W/login-$s-strophend" "$ST" login "$@" "$LOGINS"
        ) &&
            row "login $s strophe+nodelay $(val "$r" median_ms) $(val "$r" trips_min) $(val "$r" trips_max) ${mech:-?}"
    fi
    if [ "$CG" = 1 ] && [ "$CG_DONE" = 0 ]; then
        CG_DONE=1
        for b in libxmpp $(for m in $SASL2_MODES; do printf 'libxmpp-%s ' "$m"; done) strophe; do
            p=$LX mode=login
            [ $b = strophe ] && p=$ST
            case $b in libxmpp-*) mode=login-${b#libxmpp-} ;; esac
            [ -n "$p" ] || continue
            k2=$((CG_LOGINS * 2))
            t1=$(cg_total "$W/cgl-$s-$b-1" "$p" "$mode" "$@" "$CG_LOGINS") &&
                t2=$(cg_total "$W/cgl-$s-$b-2" "$p" "$mode" "$@" "$k2") || {
                say "  $s $b: callgrind run failed"
                continue
            }
            c1=$(cg_split "$W/cgl-$s-$b-1.callgrind")
            c2=$(cg_split "$W/cgl-$s-$b-2.callgrind")
            row "cglogin $s $b $(((t2 - t1) / CG_LOGINS)) $(((c2 - c1) / CG_LOGINS))"
        done
    fi
    if [ "$s" = prosody ]; then
        r=$(run "$W/idle-libxmpp" "$LX" idle "$@" "$IDLE") &&
            row "idle $s libxmpp $(val "$r" conns) $(val "$r" heap_per_conn) $(val "$r" rss_per_conn) $(val "$r" own_per_conn)"
        if [ -n "$ST" ]; then
            r=$(run "$W/idle-strophe" "$ST" idle "$@" "$IDLE_STROPHE") &&
                row "idle $s strophe $(val "$r" conns) $(val "$r" heap_per_conn) $(val "$r" rss_per_conn) $(val "$r" own_per_conn)"
        fi
    fi
    stop_server "$s" "$d"
}

# ingest ARGS...: one conn_server run serving one client
ingest() { # LOG N PROGRAM [valgrind...]
    log=$1 n=$2
    shift 2
    rm -f "$W/port"
    "$SRV" "$W/port" "$n" 1 2>"$log.srv" &
    spid=$!
    i=0
    while [ ! -s "$W/port" ] && [ $i -lt 300 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if [ ! -s "$W/port" ]; then
        kill "$spid" 2>/dev/null
        return 1
    fi
    "$@" ingest 127.0.0.1 "$(cat "$W/port")" alice@xmpp.test pw-alice "$n"
    rc=$?
    wait "$spid" || rc=1
    return $rc
}

say "Running (about 3 minutes)..."
for s in $SERVERS; do
    login_bench "$s"
done

for b in libxmpp strophe; do
    p=$LX
    [ $b = strophe ] && p=$ST
    [ -n "$p" ] || continue
    k=0 bs=
    while [ $k -lt "$REPEAT" ]; do
        r=$(ingest "$W/ing-$b" "$INGEST" run "$W/ing-$b" "$p") || break
        x=$(val "$r" stanzas_per_s)
        if [ -z "$bs" ] || [ "$x" -gt "$bs" ]; then bs=$x; fi
        k=$((k + 1))
    done
    [ -n "$bs" ] && row "ingest $b $bs"
    if [ "$CG" = 1 ]; then
        t1=$(ingest "$W/cgi-$b-1" "$CG_INGEST" cg_total "$W/cgi-$b-1" "$p") &&
            t2=$(ingest "$W/cgi-$b-2" $((CG_INGEST * 2)) cg_total "$W/cgi-$b-2" "$p") &&
            row "cgingest $b $(((t2 - t1) / CG_INGEST))" ||
            say "  ingest $b: callgrind run failed"
    fi
done
AVG=$(sed -n 's/.*avg=\([0-9]*\).*/\1/p' "$W/ing-libxmpp.srv" 2>/dev/null)
say

# ---- report -------------------------------------------------------------------
say "Login (TCP connect -> bound; STARTTLS verified with the test CA; SCRAM-SHA-1;"
say "libxmpp: RFC 6120; libxmpp-sasl2: SASL2 + Bind2 with SM inline (password);"
say "libxmpp-fast: SASL2 + Bind2 with a FAST token (HT-SHA-256-NONE, no password);"
say "libxmpp-wss[-sasl2]: the same over XMPP over WebSocket (RFC 7395), wss:// (Prosody);"
say "median of $LOGINS logins; libxmpp reuses one xmpp_tls_config for all of them,"
say "so the system trust store is loaded once; libstrophe reuses one xmpp_ctx_t but"
say "each xmpp_conn_t builds its own OpenSSL context with the trust store):"
printf '  %-9s %-16s %10s %7s %-14s %14s %14s\n' server client median_ms trips mech \
    instr/login of-which-TLS
awk '
    $1 == "login" { k = $2 " " $3; M[k] = $4; TR[k] = ($5 == $6) ? $5 : $5 "-" $6; ME[k] = $7;
                    if (!(k in seen)) { order[++n] = k; seen[k] = 1 } }
    $1 == "cglogin" { I[$2 " " $3] = $4; C[$2 " " $3] = $5 }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]; split(k, p, " ");
            printf "  %-9s %-16s %10.2f %7s %-14s %14s %14s\n", p[1], p[2], M[k], TR[k], ME[k],
                (k in I) ? I[k] : "-", (k in C) ? C[k] : "-"
        }
        for (i = 1; i <= n; i++) {
            k = order[i]; split(k, p, " ");
            if (p[2] != "libxmpp") continue;
            s = p[1] " strophe"; sn = p[1] " strophe+nodelay";
            if (!(s in M)) continue;
            line = sprintf("  %-9s libxmpp/strophe: wall %.2f (target <= 0.5, %s)", p[1],
                M[k] / M[s], M[k] / M[s] <= 0.5 ? "met" : "MISSED");
            if (sn in M) line = line sprintf(" [vs strophe+nodelay %.2f]", M[k] / M[sn]);
            if ((k in I) && (s in I) && I[s] > 0)
                line = line sprintf(", instr %.3f (target <= 0.1, %s)", I[k] / I[s],
                    I[k] / I[s] <= 0.1 ? "met" : "MISSED");
            if ((k in I) && (s in I) && I[s] - C[s] > 0)
                line = line sprintf(", instr outside TLS/crypto %.3f", (I[k] - C[k]) / (I[s] - C[s]));
            line = line sprintf(", trips %s vs %s (target: no more, %s)", TR[k], TR[s],
                (TR[k] + 0 <= TR[s] + 0) ? "met" : "MISSED");
            print line
        }
        for (i = 1; i <= n; i++) {
            k = order[i]; split(k, p, " ");
            if (p[2] !~ /^libxmpp-/) continue;
            r = p[1] " libxmpp"; s = p[1] " strophe";
            if (!(r in M)) continue;
            line = sprintf("  %-9s %s: trips %s vs %s RFC 6120", p[1], p[2], TR[k], TR[r]);
            if (s in M) line = line sprintf(" and %s libstrophe", TR[s]);
            line = line sprintf("; wall %.2f of RFC 6120", M[k] / M[r]);
            if ((k in I) && (r in I) && I[r] > 0)
                line = line sprintf(", instr %.3f of RFC 6120", I[k] / I[r]);
            if ((k in I) && (s in I) && I[s] > 0)
                line = line sprintf(", %.3f of libstrophe", I[k] / I[s]);
            print line
        }
    }' "$ROWS"
say "  trips: client waits for server data after writing (conn_common.h); the TCP"
say "  handshake is not counted. instr/login: callgrind, ($CG_LOGINS logins vs"
say "  $((CG_LOGINS * 2))) / $CG_LOGINS, first server only; of-which-TLS: in GnuTLS/Nettle/GMP"
say "  or OpenSSL objects."
say "  strophe+nodelay: libstrophe with TCP_NODELAY set through its sockopt callback"
say "  (libxmpp's driver always sets it; libstrophe leaves Nagle on by default)."
say

say "Ingest (plaintext PLAIN login to conn_server, then $INGEST messages of ~${AVG:-?}"
say "bytes; stanzas/s from bound to end of stream, best of $REPEAT; instr/stanza: callgrind,"
say "($CG_INGEST messages vs $((CG_INGEST * 2))) / $CG_INGEST):"
printf '  %-9s %14s %14s\n' client stanzas/s instr/stanza
awk '
    $1 == "ingest" { S[$2] = $3; if (!($2 in seen)) { o[++n] = $2; seen[$2] = 1 } }
    $1 == "cgingest" { I[$2] = $3; if (!($2 in seen)) { o[++n] = $2; seen[$2] = 1 } }
    END {
        for (i = 1; i <= n; i++)
            printf "  %-9s %14s %14s\n", o[i], (o[i] in S) ? S[o[i]] : "-", (o[i] in I) ? I[o[i]] : "-";
        line = "";
        if (("libxmpp" in S) && ("strophe" in S) && S["strophe"] > 0)
            line = sprintf("  libxmpp/strophe throughput %.2fx (target >= 3, %s)",
                S["libxmpp"] / S["strophe"], S["libxmpp"] / S["strophe"] >= 3 ? "met" : "MISSED");
        if ("libxmpp" in I) {
            line = line sprintf("; libxmpp %d instr/stanza (target <= 30000, %s)", I["libxmpp"],
                I["libxmpp"] <= 30000 ? "met" : "MISSED");
            if (("strophe" in I) && I["libxmpp"] > 0)
                line = line sprintf("; strophe/libxmpp instr %.2fx", I["strophe"] / I["libxmpp"]);
        }
        if (line != "") print line
    }' "$ROWS"
say

say "Memory per idle authenticated TLS connection (Prosody, one process, one"
say "thread; growth between the first and the last connection, divided by N-1):"
printf '  %-9s %6s %14s %14s %14s\n' client conns heap_B/conn rss_B/conn own_B/conn
awk '
    $1 == "idle" { printf "  %-9s %6s %14s %14s %14s\n", $3, $4, $5, $6, $7; H[$3] = $5; R[$3] = $6 }
    END {
        if ("libxmpp" in H) {
            line = sprintf("  libxmpp heap %.1f KiB/conn, RSS %.1f KiB/conn (target <= 64 KiB, %s)",
                H["libxmpp"] / 1024, R["libxmpp"] / 1024, H["libxmpp"] <= 65536 ? "met" : "MISSED");
            if ("strophe" in H)
                line = line sprintf("; strophe/libxmpp heap %.1fx", H["strophe"] / H["libxmpp"]);
            print line
        }
    }' "$ROWS"
say "  heap: mallinfo2 (uordblks + hblkhd), everything incl. GnuTLS/OpenSSL; own:"
say "  the library's allocator hooks (libxmpp xmpp_allocator, libstrophe xmpp_mem_t)."
[ "$IDLE_STROPHE" -lt "$IDLE" ] && [ -n "$ST" ] &&
    say "  libstrophe: $IDLE_STROPHE connections (select(2): < 1024 descriptors; ~0.2 s per login)."
say
[ -s "$W/failed" ] && failed=1
if [ "${BENCH_KEEP:-0}" = 1 ]; then
    say "Kept: $W (callgrind profiles *.callgrind, program output *.out/*.err)"
fi
exit $failed
