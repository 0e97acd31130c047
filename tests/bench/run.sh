#!/bin/sh
# `make bench`: compares libxmpp's XML stream parser with a raw libxml2 SAX2
# parse (empty callbacks: the floor) and with libstrophe's parser, on the same
# generated XMPP stream. A report, not a test: exits 0 unless a benchmark
# program fails or miscounts stanzas.
#
# Environment (set by `make bench`): CC, CPPFLAGS, srcdir, builddir.
# Knobs:
#   BENCH_SCALE=40       repetitions of the stanza mix, native runs
#   BENCH_SECONDS=1      target wall-clock seconds per native measurement
#   BENCH_REPEAT=3       native measurements are the best of this many runs
#   BENCH_BIG=5242880    bytes of the large message body, native runs
#   BENCH_CG_SCALE=3     repetitions of the mix, callgrind runs
#   BENCH_CG_BIG=1048576 bytes of the large body, callgrind runs (see below)
#   BENCH_CALLGRIND=0    skip the callgrind part
#   BENCH_CFLAGS="-O2 -g" flags for compiling bench_strophe
#   BENCH_KEEP=1         keep the work directory (generated streams, profiles)

set -u

srcdir=${srcdir:-.}
builddir=${builddir:-.}
CC=${CC:-cc}
CPPFLAGS=${CPPFLAGS:-}
SCALE=${BENCH_SCALE:-40}
SECONDS_TARGET=${BENCH_SECONDS:-1}
REPEAT=${BENCH_REPEAT:-3}
BIG=${BENCH_BIG:-5242880}
CG_SCALE=${BENCH_CG_SCALE:-3}
CG_BIG=${BENCH_CG_BIG:-1048576}
BENCH_CFLAGS=${BENCH_CFLAGS:--O2 -g}

B=$builddir/tests/bench
W=$B/run.tmp
failed=0
exp=

rm -rf "$W"
mkdir -p "$W" || exit 1
if [ "${BENCH_KEEP:-0}" != 1 ]; then
    trap 'rm -rf "$W"' EXIT
fi

say() { printf '%s\n' "$*"; }
die() { say "run.sh: $*" >&2; exit 1; }
# val LINE KEY: the value of KEY= in a RESULT line.
val() { printf '%s\n' "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }

for p in gen_stream bench_rawsax bench_libxmpp; do
    [ -x "$B/$p" ] || die "$B/$p is missing (run it through \`make bench\`)"
done

# A libtool wrapper script must run valgrind through libtool.
run_prefix() {
    if [ "$(head -c 2 "$1")" = "#!" ] && [ -x "$builddir/libtool" ]; then
        printf '%s' "$builddir/libtool --mode=execute"
    fi
}

say "== libxmpp parser benchmark =="
# finish: the connection benchmarks (tests/bench/conn.sh: login, ingest and
# memory against libstrophe, with the private servers), then exit.
finish() {
    say
    CC=$CC CPPFLAGS=$CPPFLAGS srcdir=$srcdir builddir=$builddir \
        sh "$srcdir/tests/bench/conn.sh" || failed=1
    exit $failed
}

say "libxml2 $(pkg-config --modversion libxml-2.0 2>/dev/null || echo '?')," \
    "CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)," \
    "$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo '?') CPUs," \
    "load average $(cut -d ' ' -f 1-3 /proc/loadavg 2>/dev/null || echo '?')"
say "(wall-clock figures suffer when the machine is busy; instruction counts do not)"
say

# ---- libstrophe -------------------------------------------------------------
# libstrophe exports xmpp_* like libxmpp, so bench_strophe is compiled here on
# its own. libstrophe has no public parser API; its internal parser_new/
# parser_feed are global symbols of the static archive, which gives the exact
# counterpart of bench_libxmpp. Without the archive only the full connection
# (--conn, over loopback) can be measured.
STROPHE=
STROPHE_MODE=
if [ ! -f "$srcdir/tests/bench/bench_strophe.c" ]; then
    say "libstrophe: $srcdir/tests/bench/bench_strophe.c is missing; its benchmark is skipped."
elif ! pkg-config --exists libstrophe 2>/dev/null; then
    say "libstrophe: not installed (Debian: libstrophe-dev); its benchmark is skipped."
else
    sl=$(pkg-config --variable=libdir libstrophe)
    slibs=$(pkg-config --static --libs libstrophe | sed 's/-lstrophe//')
    # word splitting of the flags is intended
    # shellcheck disable=SC2086,SC2046
    if [ -f "$sl/libstrophe.a" ] &&
        $CC $CPPFLAGS $BENCH_CFLAGS -DBENCH_STROPHE_INTERNAL_PARSER \
            $(pkg-config --cflags libstrophe) "$srcdir/tests/bench/bench_strophe.c" \
            -o "$W/bench_strophe" "$sl/libstrophe.a" $slibs 2>"$W/strophe-cc.log"; then
        STROPHE=$W/bench_strophe
        STROPHE_MODE=parser
        say "libstrophe $(pkg-config --modversion libstrophe): parser measured through" \
            "its internal parser_feed (static $sl/libstrophe.a);"
        say "  the full xmpp_conn receive path over loopback is shown as strophe-conn."
    elif $CC $CPPFLAGS $BENCH_CFLAGS $(pkg-config --cflags libstrophe) \
            "$srcdir/tests/bench/bench_strophe.c" -o "$W/bench_strophe" \
            $(pkg-config --libs libstrophe) 2>"$W/strophe-cc.log"; then
        STROPHE=$W/bench_strophe
        STROPHE_MODE=conn
        say "libstrophe $(pkg-config --modversion libstrophe): no static archive, so only the"
        say "  full xmpp_conn receive path over loopback (strophe-conn) is measured; it"
        say "  includes libstrophe's event loop and dispatch, i.e. more than parsing."
    else
        say "libstrophe: bench_strophe.c does not compile; skipped:"
        sed 's/^/  /' "$W/strophe-cc.log"
    fi
fi
say

# ---- streams ----------------------------------------------------------------
gen() { # FILE SCALE BIG -> prints the expected stanza count
    "$B/gen_stream" "$1" "$2" "$3" >"$1.gen" || die "gen_stream $1 failed"
    sed -n 's/^stanzas=\([0-9]*\).*/\1/p' "$1.gen"
}
N_STREAM=$(gen "$W/stream.xml" "$SCALE" "$BIG")
N_MIX=$(gen "$W/mix.xml" "$SCALE" 0)
N_BIG=$(gen "$W/big.xml" 0 "$BIG")
N_LIN1=$(gen "$W/lin1.xml" 1 131072)
N_LIN4=$(gen "$W/lin4.xml" 4 524288)
size() { wc -c <"$1" | tr -d ' '; }
say "Streams (tests/bench/gen_stream, fixed seed; a mix = roster of 1000 items,"
say "presences with caps, MUC presences and history, chats, pings; see gen_stream.c):"
say "  stream.xml  $SCALE mixes + one ${BIG}-byte message: $N_STREAM stanzas, $(size "$W/stream.xml") bytes"
say "  mix.xml     $SCALE mixes only:                       $N_MIX stanzas, $(size "$W/mix.xml") bytes"
say "  big.xml     the large message alone:                $N_BIG stanzas, $(size "$W/big.xml") bytes"
say

# ---- native wall clock ------------------------------------------------------
# Every iteration creates a parser, feeds the whole file in 4 KiB chunks and
# frees it. One calibration run picks the iteration count for ~BENCH_SECONDS.
# best ITER CHUNK FILE CMD...: the fastest of $REPEAT runs (others share the
# machine; the minimum is the least disturbed).
best() {
    it=$1 ch=$2 file=$3
    shift 3
    b='' bs=''
    k=0
    while [ $k -lt "$REPEAT" ]; do
        r=$("$@" "$file" "$it" "$ch") || return 1
        s=$(val "$r" seconds)
        if [ -z "$bs" ] || awk -v a="$s" -v b="$bs" 'BEGIN { exit !(a < b) }'; then
            b=$r bs=$s
        fi
        k=$((k + 1))
    done
    printf '%s\n' "$b"
}
native() { # LABEL FILE EXPECTED CMD...
    label=$1 file=$2 expect=$3
    shift 3
    r=$("$@" "$file" 1 4096) || { say "  $label: FAILED"; failed=1; return; }
    s=$(val "$r" seconds)
    n=$(awk -v s="$s" -v t="$SECONDS_TARGET" 'BEGIN { n = (s > 0) ? int(t / s) : 1;
        if (n < 1) n = 1; if (n > 500) n = 500; print n }')
    # a single slow iteration is measured once
    if [ "$n" -gt 1 ] || awk -v s="$s" -v t="$SECONDS_TARGET" 'BEGIN { exit !(s < t / 2) }'; then
        r=$(best "$n" 4096 "$file" "$@") || { say "  $label: FAILED"; failed=1; return; }
    fi
    got=$(val "$r" stanzas)
    note=
    if [ "$got" != "$expect" ]; then
        note="  STANZA COUNT MISMATCH (expected $expect)"
        failed=1
    fi
    printf '  %-14s %-11s %6s %10s %14s %10s%s\n' "$label" "$(basename "$file")" \
        "$(val "$r" iterations)" "$(val "$r" seconds)" "$(val "$r" stanzas_per_s)" \
        "$(val "$r" mb_per_s)" "$note"
}

say "Native wall clock (4 KiB chunks, fresh parser per iteration; ~${SECONDS_TARGET} s of"
say "iterations, best of $REPEAT runs):"
printf '  %-14s %-11s %6s %10s %14s %10s\n' bench file iters seconds stanzas/s MB/s
for f in stream mix big; do
    eval "exp=\$N_$(echo $f | tr '[:lower:]' '[:upper:]')"
    native rawsax "$W/$f.xml" "$exp" "$B/bench_rawsax"
    native libxmpp "$W/$f.xml" "$exp" "$B/bench_libxmpp"
    if [ "$STROPHE_MODE" = parser ]; then
        native strophe "$W/$f.xml" "$exp" "$STROPHE"
    fi
    if [ -n "$STROPHE" ] && [ "$f" = mix ]; then
        native strophe-conn "$W/$f.xml" "$exp" "$STROPHE" --conn
    fi
done
say

# ---- one byte at a time: linear? ---------------------------------------------
say "One byte per feed call (lin1: 1 mix + 128 KiB message; lin4: 4 mixes + 512 KiB"
say "message, 4x the bytes; best of $REPEAT): the cost per byte should not grow."
printf '  %-14s %12s %12s %8s\n' bench "lin1 ns/B" "lin4 ns/B" "lin4/lin1"
lin() { # LABEL CMD...
    label=$1
    shift
    r1=$(best 1 1 "$W/lin1.xml" "$@") && r4=$(best 1 1 "$W/lin4.xml" "$@") ||
        { say "  $label: FAILED"; failed=1; return; }
    if [ "$(val "$r1" stanzas)" != "$N_LIN1" ] || [ "$(val "$r4" stanzas)" != "$N_LIN4" ]; then
        say "  $label: STANZA COUNT MISMATCH"
        failed=1
    fi
    awk -v l="$label" -v s1="$(val "$r1" seconds)" -v b1="$(val "$r1" bytes)" \
        -v s4="$(val "$r4" seconds)" -v b4="$(val "$r4" bytes)" 'BEGIN {
        a = s1 * 1e9 / b1; b = s4 * 1e9 / b4;
        printf "  %-14s %12.1f %12.1f %8.2f%s\n", l, a, b, b / a,
            (b / a > 1.5) ? "  <- grows: not linear" : "" }'
}
lin rawsax "$B/bench_rawsax"
lin libxmpp "$B/bench_libxmpp"
if [ "$STROPHE_MODE" = parser ]; then
    lin strophe "$STROPHE"
fi
say

# ---- callgrind instruction counts ---------------------------------------------
if [ "${BENCH_CALLGRIND:-1}" = 0 ]; then
    say "callgrind: skipped (BENCH_CALLGRIND=0)."
    finish
fi
if ! command -v valgrind >/dev/null 2>&1; then
    say "callgrind: valgrind is not installed (Debian: valgrind); instruction counts skipped."
    finish
fi

N_CGMIX=$(gen "$W/cg-mix.xml" "$CG_SCALE" 0)
N_CGBIG=$(gen "$W/cg-big.xml" 0 "$CG_BIG")
say "Instructions (valgrind --tool=callgrind, Ir), same file for every bench:"
say "  cg-mix.xml  $CG_SCALE mixes: $N_CGMIX stanzas, $(size "$W/cg-mix.xml") bytes"
say "  cg-big.xml  one ${CG_BIG}-byte message: $N_CGBIG stanzas, $(size "$W/cg-big.xml") bytes"
say "  (the large body is smaller than natively because libstrophe's text"
say "  accumulation is quadratic; under callgrind 5 MiB would take minutes)"
say "Method: each bench runs in two processes, one parsing the file once and one"
say "parsing it twice; the difference of their totals is the cost of one parse"
say "(fresh parser, 4 KiB chunks, trees built and freed), without process start,"
say "dynamic linking, library initialisation and reading the file."
say

# cg_run ITER FILE CMD...: runs CMD FILE ITER 4096 under callgrind, prints its total Ir
cg_run() { # ITER FILE CMD...
    it=$1 file=$2
    shift 2
    # shellcheck disable=SC2046
    $(run_prefix "$1") valgrind --tool=callgrind --callgrind-out-file="$W/cg.%p.out" \
        "$@" "$file" "$it" 4096 >"$W/cg.stdout" 2>"$W/cg.stderr" &
    pid=$!
    wait $pid || return 1
    # the measured process's own profile (a forked child writes another);
    # through a libtool wrapper the pid differs: take the busiest process
    f=$W/cg.$pid.out
    if [ ! -f "$f" ]; then
        f=$(for g in "$W"/cg.*.out; do
            [ -f "$g" ] && printf '%s %s\n' "$(awk '/^totals:/ { print $2; exit }' "$g")" "$g"
        done | sort -n | tail -n 1 | cut -d ' ' -f 2-)
        [ -n "$f" ] && [ -f "$f" ] || return 1
    fi
    awk '/^totals:/ { print $2; exit }' "$f"
    mv "$f" "$W/last-$it.callgrind"
    rm -f "$W"/cg.*.out
}
CG_ROWS=
cg() { # LABEL FILE EXPECTED CMD...
    label=$1 file=$2 expect=$3
    shift 3
    t1=$(cg_run 1 "$file" "$@") && t2=$(cg_run 2 "$file" "$@") ||
        { say "  $label: FAILED under valgrind:"; sed 's/^/    /' "$W/cg.stderr"; failed=1; return; }
    got=$(val "$(cat "$W/cg.stdout")" stanzas)
    [ "$got" = "$expect" ] || { say "  $label: STANZA COUNT MISMATCH ($got, expected $expect)"; failed=1; }
    cp "$W/last-2.callgrind" "$W/$(basename "$file" .xml).$label.callgrind"
    i=$((t2 - t1))
    bytes=$(size "$file")
    CG_ROWS="$CG_ROWS$(basename "$file") $label $i $expect $bytes
"
    awk -v l="$label" -v f="$(basename "$file")" -v i="$i" -v n="$expect" -v b="$bytes" \
        'BEGIN { printf "  %-11s %-14s %15.0f %14.1f %10.2f\n", f, l, i, i / n, i / b }'
}

printf '  %-11s %-14s %15s %14s %10s\n' file bench instr/parse instr/stanza instr/byte
for f in cg-mix cg-big; do
    eval "exp=\$N_$(echo $f | tr -d - | tr '[:lower:]' '[:upper:]')"
    cg rawsax "$W/$f.xml" "$exp" "$B/bench_rawsax"
    cg libxmpp "$W/$f.xml" "$exp" "$B/bench_libxmpp"
    if [ "$STROPHE_MODE" = parser ]; then
        cg strophe "$W/$f.xml" "$exp" "$STROPHE"
    fi
    if [ -n "$STROPHE" ] && [ "$f" = cg-mix ]; then
        cg strophe-conn "$W/$f.xml" "$exp" "$STROPHE" --conn
    fi
done
say

say "Ratios of instructions per parse (same file, so per stanza and per byte alike):"
printf '%s' "$CG_ROWS" | awk '
    { I[$1 " " $2] = $3; files[$1] = 1 }
    END {
        for (f in files) {
            x = I[f " libxmpp"]; r = I[f " rawsax"]; s = I[f " strophe"]; c = I[f " strophe-conn"];
            if (x == "") continue;
            line = sprintf("  %-11s", f);
            if (r != "") line = line sprintf("  libxmpp/rawsax = %5.2f (target <= 1.6%s)", x / r,
                                              x / r > 1.6 ? ", MISSED" : ", met");
            if (s != "") line = line sprintf("  libxmpp/strophe = %5.2f", x / s);
            if (c != "") line = line sprintf("  libxmpp/strophe-conn = %5.2f", x / c);
            print line
        }
    }' | sort
say
if [ -n "$STROPHE" ]; then
    say "Notes on libstrophe (seen in callgrind profiles of 0.12.2):"
    say "  - it appends each piece of character data with strncat, which rescans the"
    say "    text so far: quadratic in the length of a text node (see big/cg-big and"
    say "    the one-byte table);"
    say "  - strophe-conn renders every received stanza to a string for its debug log"
    say "    (xmpp_stanza_to_text), even with no logger set: about 40% of its cost."
    say
fi
if [ "${BENCH_KEEP:-0}" = 1 ]; then
    say "Profiles of the 2-parse runs: $W/*.callgrind (callgrind_annotate --inclusive=yes FILE)"
else
    say "BENCH_KEEP=1 keeps the callgrind profiles for callgrind_annotate."
fi
finish
