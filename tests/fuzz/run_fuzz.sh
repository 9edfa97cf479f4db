#!/bin/sh
# Run one fuzz target for a bounded time on its seed corpus; a crash, leak or sanitizer
# report fails (libFuzzer exits non-zero and leaves the input in WORK).
#   run_fuzz.sh TARGET SEEDS WORK SECONDS
set -eu
target=$1 seeds=$2 work=$3 secs=$4
mkdir -p "$work/corpus"
# new inputs go to the work corpus; the committed seeds are only read
cd "$work"
rm -f crash-* leak-* timeout-* oom-* rc
{
	rc=0
	"$target" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-max_len=4096 corpus "$seeds" || rc=$?
	echo "$rc" >rc
} 2>&1 | tee log |
	grep -E '^#[0-9]+.*(DONE|INITED)|stat::|ERROR|SUMMARY|crash-|leak-|timeout-|Test unit written' || true
# one line for the summary: runs, edges covered, corpus size
sed -n 's/^#\([0-9]*\).*DONE *cov: \([0-9]*\) ft: \([0-9]*\) corp: \([0-9]*\).*/\1 runs, \2 edges, \3 features, corpus \4/p' log |
	tail -1 | sed "s/^/$(basename "$target"): /" >summary
# a sanitizer report, a crash, a leak, a hang or running out of memory: libFuzzer exits
# non-zero and leaves the input that did it
if [ "$(cat rc)" != 0 ] || ls crash-* leak-* timeout-* oom-* 2>/dev/null | grep -q .; then
	echo "fuzz: $(basename "$target") failed (exit $(cat rc)); the input: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null) (log: $work/log)"
	exit 1
fi
