#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Recorder throughput: mspgate-record vs script -q -f on the same output-heavy stream,
# then verify and search speed over generated recordings. Prints a table with ratios.
# MB=size of the stream (default 200), SEARCH_MB=data searched (default 1024),
# RUNS=script/record pairs timed (default 9; the table shows medians).
set -u
B=${MG_BUILD:-build}
R="$B/bin/mspgate-record"
P="$B/bin/mspgate-replay"
MB=${MB:-200}
SEARCH_MB=${SEARCH_MB:-1024}
RUNS=${RUNS:-9}
T=$(mktemp -d "${TMPDIR:-/tmp}/mgbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"

# An output-heavy stream: text lines with some colour, like a build log.
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "\033[32m%06d\033[0m compiling src/module_%d.c -O2 -Wall ok\n", i, i % 97 }' >"$T/chunk"
n=$(( MB * 1048576 / $(wc -c <"$T/chunk") + 1 ))
i=0
: >"$T/stream"
while [ $i -lt "$n" ]; do cat "$T/chunk"; i=$((i + 1)); done >"$T/stream"
bytes=$(wc -c <"$T/stream")
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.1f", b / 1048576 / s }'; }
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# RUNS pairs, the order alternating, so that load from elsewhere on the
# machine falls on both alike; the table shows the medians. Wall time and
# CPU time (user + system of the recorder and cat, from /usr/bin/time):
# the pty dominates the wall time and makes it noisy, so what recording
# costs is compared in CPU seconds.
: >"$T/t.script"
: >"$T/t.rec"
: >"$T/c.script"
: >"$T/c.rec"
ratios=""
r=0
while [ $r -lt "$RUNS" ]; do
	rm -f "$T/script.out" "$T/rec.cast"
	for which in $( [ $((r % 2)) -eq 0 ] && echo "script rec" || echo "rec script"); do
		if [ "$which" = script ]; then
			/usr/bin/time -f "%e %U %S" -o "$T/time" \
			    script -q -f -c "cat $T/stream" "$T/script.out" </dev/null >/dev/null
		else
			/usr/bin/time -f "%e %U %S" -o "$T/time" \
			    "$R" -q --key "$T/k.pem" -o "$T/rec.cast" -- cat "$T/stream" </dev/null >/dev/null
		fi
		awk '{ print $1 }' "$T/time" >>"$T/t.$which"
		awk '{ printf "%.2f\n", $2 + $3 }' "$T/time" >>"$T/c.$which"
	done
	ratios="$ratios $(awk -v a="$(tail -1 "$T/t.rec")" -v b="$(tail -1 "$T/t.script")" \
	    'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')"
	r=$((r + 1))
done
s_script=$(median <"$T/t.script")
s_rec=$(median <"$T/t.rec")
c_script=$(median <"$T/c.script")
c_rec=$(median <"$T/c.rec")
t2=$(now)
"$P" verify --pubkey "$T/k.pub" "$T/rec.cast" >/dev/null
t3=$(now)
s_ver=$(el "$t2" "$t3")
recbytes=$(wc -c <"$T/rec.cast")

# Search: copies of the recording up to SEARCH_MB (hard links: same bytes read each time).
mkdir "$T/many"
k=0
total=0
while [ $total -lt $((SEARCH_MB * 1048576)) ]; do
	ln "$T/rec.cast" "$T/many/r$k.cast" 2>/dev/null || cp "$T/rec.cast" "$T/many/r$k.cast"
	total=$((total + recbytes))
	k=$((k + 1))
done
t4=$(now)
"$P" search 'rclone copy' "$T/many" >/dev/null
t5=$(now)
s_search=$(el "$t4" "$t5")

printf '%-34s %10s %10s %10s\n' "measure" "seconds" "MB/s" "ratio"
printf '%-34s %10s %10s %10s\n' "script -q -f ($((bytes / 1048576)) MB, median of $RUNS)" "$s_script" "$(mbs "$bytes" "$s_script")" "1.00"
printf '%-34s %10s %10s %10s\n' "mspgate-record (same stream)" "$s_rec" "$(mbs "$bytes" "$s_rec")" \
	"$(awk -v a="$s_rec" -v b="$s_script" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')"
printf '%-34s %10s %10s %10s\n' "verify ($((recbytes / 1048576)) MB recording)" "$s_ver" "$(mbs "$recbytes" "$s_ver")" "-"
printf '%-34s %10s %10s %10s\n' "search ($((total / 1048576)) MB, $k files)" "$s_search" "$(mbs "$total" "$s_search")" "-"
printf '%-34s %10s %10s %10s\n' "CPU s, script (cat included)" "$c_script" "-" "1.00"
printf '%-34s %10s %10s %10s\n' "CPU s, mspgate-record" "$c_rec" "-" \
	"$(awk -v a="$c_rec" -v b="$c_script" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')"
echo "ratio = median mspgate-record time / median script time (target: CPU <= 1.00);"
echo "per-run ratios:$ratios; recording is $(awk -v a="$recbytes" -v b="$bytes" 'BEGIN { printf "%.2f", a / b }')x the stream size"
# The common table (tests/bench/run.sh): speeds, ratio = mspgate-record / script.
if [ -n "${MG_BENCH_ROWS:-}" ]; then
	rmb=$(mbs "$bytes" "$s_rec")
	smb=$(mbs "$bytes" "$s_script")
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"recorder: $((bytes / 1048576)) MB output-heavy stream, MB/s (median of $RUNS)" \
		"$rmb (mspgate-record)" "$smb (script -q -f)" \
		"$(awk -v a="$rmb" -v b="$smb" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.001) }')" \
		"-" "-" >>"$MG_BENCH_ROWS"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"recorder: CPU seconds to record that stream (user+system, cat included; median of $RUNS)" \
		"$c_rec (mspgate-record)" "$c_script (script -q -f)" \
		"$(awk -v a="$c_rec" -v b="$c_script" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.001) }')" "<= 1.0x" \
		"$(awk -v a="$c_rec" -v b="$c_script" 'BEGIN { print (a <= b ? "yes" : "no") }')" >>"$MG_BENCH_ROWS"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"replay verify of a $((recbytes / 1048576)) MB recording, MB/s" "$(mbs "$recbytes" "$s_ver")" "-" "-" "-" "-" >>"$MG_BENCH_ROWS"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"replay search over $((total / 1048576)) MB of recordings, MB/s" "$(mbs "$total" "$s_search")" "-" "-" "-" "-" >>"$MG_BENCH_ROWS"
fi
