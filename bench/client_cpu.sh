#!/usr/bin/env bash
# client_cpu.sh: the client's instruction counts per second of talking and of hearing one
# and four talkers, at every Opus complexity, counted by callgrind (repeatable whatever
# else the machine does).
#   bench/client_cpu.sh [BUILD_DIR] [COMPLEXITIES]   (default build/default, "0 1 ... 10")
set -euo pipefail
b=${1:-build/default}
cxs=${2:-0 1 2 3 4 5 6 7 8 9 10}
command -v valgrind >/dev/null || { echo "client_cpu.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
secs=5 # what one job covers (CG_SECS in bench/client.c)
# inclusive count of a function in the annotated callgrind output
count() { awk -v f=":$1 " '{ gsub(/,/, "", $1) } index($0, f) { print $1; exit }' "$d/annotated"; }
printf '%-10s %14s %14s %14s %12s %12s   (instructions per second of audio, 20 ms frames)\n' \
	complexity talking "hearing 1" "hearing 4" "+ sealing" "+ opening"
for cx in $cxs; do
	echo "client_cpu.sh: complexity $cx under callgrind" >&2
	valgrind --tool=callgrind --callgrind-out-file="$d/cg" "$b/bench/bench_client" jobs "$cx" >/dev/null 2>&1
	callgrind_annotate --inclusive=yes "$d/cg" >"$d/annotated"
	talk=$(count job_talk)
	sig=$(count voice)
	h1=$(count job_hear1)
	h4=$(count job_hear4)
	seal=$(count job_seal)
	open=$(count job_open)
	awk -v cx="$cx" -v t="$talk" -v s="$sig" -v h1="$h1" -v h4="$h4" -v se="$seal" -v op="$open" -v n="$secs" \
		'BEGIN { printf "%-10s %12.1f M %12.1f M %12.1f M %10.2f M %10.2f M\n", cx, (t - s) / n / 1e6, h1 / n / 1e6, h4 / n / 1e6, se / n / 1e6, op / n / 1e6 }'
done
