#!/usr/bin/env bash
# echo_cost.sh: what the echo canceller costs a box, in instructions per second of call:
# callgrind counts bench_echo -c (10 s of call, both talking half of it, 20 ms frames)
# and takes aec_capture_audio + aec_playback inclusive (each once: the lines naming
# the binary) (the resampling, the MDF filter
# and the preprocessor; the synthetic room around them is not counted). x86-64 only:
# valgrind cannot run the arm64 build here (bench/client_crypto.sh counts arm64 under
# qemu for a whole program, which this run cannot separate from the room).
#   bench/echo_cost.sh [BUILD]   (default build/default)
set -euo pipefail
build=${1:-build/default}
secs=10 # COST_SECONDS in bench/echo.c
out=$(mktemp)
trap 'rm -f "$out"' EXIT
valgrind --tool=callgrind --callgrind-out-file="$out" "$build/bench/bench_echo" -c >/dev/null 2>&1
callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
	awk -v s="$secs" '/:(aec_capture_audio|aec_playback) \[/ { gsub(",", "", $1); n += $1 }
		END { printf "echo canceller: %.1f M instructions per second of call (x86-64)\n", n / s / 1e6 }'
