#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Recorder throughput: mspgate-record vs script -q -f on the same output-heavy stream
# (random bytes, then text), rec_writer_output in one process, then verify and search
# speed over generated recordings. Prints a table with ratios.
# MB=size of each stream (default 200), KINDS=streams (default "random text"),
# INPROC_MB=in-process payload (default 256), SEARCH_MB=data searched (default 1024),
# RUNS=script/record pairs timed (default 9; the table shows medians).
set -u
B=${MG_BUILD:-build}
R="$B/bin/mspgate-record"
P="$B/bin/mspgate-replay"
MB=${MB:-200}
SEARCH_MB=${SEARCH_MB:-1024}
RUNS=${RUNS:-9}
KINDS=${KINDS:-random text}
INPROC_MB=${INPROC_MB:-256}
T=$(mktemp -d "${TMPDIR:-/tmp}/mgbench.XXXXXX")
trap 'rm -rf "$T"' EXIT
openssl genpkey -algorithm ed25519 -out "$T/k.pem" 2>/dev/null
openssl pkey -in "$T/k.pem" -pubout -out "$T/k.pub"

# Streams, made before any timing: text (build-log lines with some colour)
# and random bytes (a binary file cat to the terminal: incompressible, kept
# as base64). KINDS picks them (default "random text").
mbs() { awk -v b="$1" -v s="$2" 'BEGIN { if (s <= 0) s = 0.001; printf "%.1f", b / 1048576 / s }'; }
now() { date +%s.%N; }
el() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
make_stream() { # KIND: writes $T/stream.KIND
	case $1 in
	text)
		awk 'BEGIN { for (i = 0; i < 20000; i++) printf "\033[32m%06d\033[0m compiling src/module_%d.c -O2 -Wall ok\n", i, i % 97 }' >"$T/chunk"
		n=$(( MB * 1048576 / $(wc -c <"$T/chunk") + 1 ))
		i=0
		while [ $i -lt "$n" ]; do cat "$T/chunk"; i=$((i + 1)); done >"$T/stream.text"
		;;
	random) head -c "${MB}M" /dev/urandom >"$T/stream.random" ;;
	*) echo "bench/recorder: unknown kind $1" >&2; return 1 ;;
	esac
}

# measure KIND: RUNS pairs, the order alternating, so that load from
# elsewhere on the machine falls on both alike; the table shows the
# medians. Wall time and CPU time (user + system of the recorder and cat,
# from /usr/bin/time): the pty dominates the wall time and makes it
# noisy, so what recording costs is compared in CPU seconds. Each
# recording made is verified.
measure() {
	kind=$1
	make_stream "$kind" || return 1
	bytes=$(wc -c <"$T/stream.$kind")
	for f in t.script t.rec c.script c.rec; do : >"$T/$f"; done
	ratios=""
	vfail=0
	r=0
	while [ $r -lt "$RUNS" ]; do
		rm -f "$T/script.out" "$T/rec.cast"
		for which in $( [ $((r % 2)) -eq 0 ] && echo "script rec" || echo "rec script"); do
			if [ "$which" = script ]; then
				/usr/bin/time -f "%e %U %S" -o "$T/time" \
				    script -q -f -c "cat $T/stream.$kind" "$T/script.out" </dev/null >/dev/null
			else
				/usr/bin/time -f "%e %U %S" -o "$T/time" \
				    "$R" -q --key "$T/k.pem" -o "$T/rec.cast" -- cat "$T/stream.$kind" </dev/null >/dev/null
			fi
			awk '{ print $1 }' "$T/time" >>"$T/t.$which"
			awk '{ printf "%.2f\n", $2 + $3 }' "$T/time" >>"$T/c.$which"
		done
		"$P" verify --pubkey "$T/k.pub" "$T/rec.cast" >/dev/null 2>&1 || vfail=$((vfail + 1))
		ratios="$ratios $(awk -v a="$(tail -1 "$T/t.rec")" -v b="$(tail -1 "$T/t.script")" \
		    'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')"
		r=$((r + 1))
	done
	s_script=$(median <"$T/t.script")
	s_rec=$(median <"$T/t.rec")
	c_script=$(median <"$T/c.script")
	c_rec=$(median <"$T/c.rec")
	recbytes=$(wc -c <"$T/rec.cast")
	recx=$(awk -v a="$recbytes" -v b="$bytes" 'BEGIN { printf "%.2f", a / b }')
	printf '%-40s %10s %10s %10s\n' "$kind: script -q -f ($((bytes / 1048576)) MB, median of $RUNS)" "$s_script" "$(mbs "$bytes" "$s_script")" "1.00"
	printf '%-40s %10s %10s %10s\n' "$kind: mspgate-record (same stream)" "$s_rec" "$(mbs "$bytes" "$s_rec")" \
		"$(awk -v a="$s_rec" -v b="$s_script" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')"
	printf '%-40s %10s %10s %10s\n' "$kind: CPU s, script (cat included)" "$c_script" "-" "1.00"
	printf '%-40s %10s %10s %10s\n' "$kind: CPU s, mspgate-record" "$c_rec" "-" \
		"$(awk -v a="$c_rec" -v b="$c_script" 'BEGIN { printf "%.2f", a / (b > 0 ? b : 0.001) }')"
	echo "$kind: per-run ratios:$ratios; recording is ${recx}x the stream size; $((RUNS - vfail))/$RUNS recordings verify"
	# The common table (tests/bench/run.sh): speeds, ratio = mspgate-record / script.
	if [ -n "${MG_BENCH_ROWS:-}" ]; then
		rmb=$(mbs "$bytes" "$s_rec")
		smb=$(mbs "$bytes" "$s_script")
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
			"recorder: $((bytes / 1048576)) MB of $kind through a pty, MB/s (median of $RUNS)" \
			"$rmb (mspgate-record; recording ${recx}x, $((RUNS - vfail))/$RUNS verify)" "$smb (script -q -f)" \
			"$(awk -v a="$rmb" -v b="$smb" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.001) }')" \
			"-" "-" >>"$MG_BENCH_ROWS"
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
			"recorder: CPU seconds to record $kind (user+system, cat included; median of $RUNS)" \
			"$c_rec (mspgate-record)" "$c_script (script -q -f)" \
			"$(awk -v a="$c_rec" -v b="$c_script" 'BEGIN { printf "%.2fx", a / (b > 0 ? b : 0.001) }')" "<= 1.0x" \
			"$(awk -v a="$c_rec" -v b="$c_script" -v f="$vfail" 'BEGIN { print (a <= b && f == 0 ? "yes" : "no") }')" >>"$MG_BENCH_ROWS"
	fi
}
for kind in $KINDS; do
	measure "$kind" || exit 1
done
# Verify and search below use the last recording made (of the last kind).
t2=$(now)
"$P" verify --pubkey "$T/k.pub" "$T/rec.cast" >/dev/null
t3=$(now)
s_ver=$(el "$t2" "$t3")
recbytes=$(wc -c <"$T/rec.cast")

# In one process, without the pty: rec_writer_output's CPU time on
# INPROC_MB of random bytes, base64 text and zeros (tests/bench/recwrite.c).
if [ -x "$B/tests/bench/recwrite" ]; then
	mkdir "$T/inproc"
	"$B/tests/bench/recwrite" "$T/k.pem" "$T/inproc" "$INPROC_MB" random text zeros >"$T/inproc.out" ||
		{ echo "bench/recorder: recwrite failed" >&2; exit 1; }
	while read -r k mb cpu rate size x path; do
		if "$P" verify --pubkey "$T/k.pub" "$path" >/dev/null 2>&1; then v=verifies; else v="DOES NOT VERIFY"; fi
		rm -f "$path"
		printf '%-40s %10s %10s %10s\n' "$k: rec_writer_output in-process ($mb MB)" "$cpu" "$rate" "-"
		echo "$k: recording ${x}x the data, $v"
		[ -n "${MG_BENCH_ROWS:-}" ] && printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
			"recorder in one process: rec_writer_output, $mb MB of $k, MB/s of CPU time" \
			"$rate (recording ${x}x; $v)" "-" "-" "-" "-" >>"$MG_BENCH_ROWS"
	done <"$T/inproc.out"
fi

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

printf '%-40s %10s %10s %10s\n' "verify ($((recbytes / 1048576)) MB recording)" "$s_ver" "$(mbs "$recbytes" "$s_ver")" "-"
printf '%-40s %10s %10s %10s\n' "search ($((total / 1048576)) MB, $k files)" "$s_search" "$(mbs "$total" "$s_search")" "-"
echo "ratio = median mspgate-record time / median script time (target: CPU <= 1.00)"
if [ -n "${MG_BENCH_ROWS:-}" ]; then
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"replay verify of a $((recbytes / 1048576)) MB recording, MB/s" "$(mbs "$recbytes" "$s_ver")" "-" "-" "-" "-" >>"$MG_BENCH_ROWS"
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' \
		"replay search over $((total / 1048576)) MB of recordings, MB/s" "$(mbs "$total" "$s_search")" "-" "-" "-" "-" >>"$MG_BENCH_ROWS"
fi
