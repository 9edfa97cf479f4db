#!/usr/bin/env bash
# client_crypto.sh: what encrypted voice costs a box, in instructions per second of
# talking (every packet sealed) and of hearing one talker (every packet opened), on x86-64
# (callgrind) and on the arm64 build (qemu-user, one guest instruction per translation
# block and every execution logged: valgrind cannot run arm64 binaries here). Each count
# is the difference of `bench_client crypto 0|1|2` (set-up only, + sealing, + opening 5 s
# of 80-byte packets), so start-up and OpenSSL's own set-up cancel out.
#   bench/client_crypto.sh [X86_BUILD] [ARM64_BUILD]   (default build/default build/arm64)
set -euo pipefail
x86=${1:-build/default}
arm=${2:-build/arm64}
secs=5 # CG_SECS in bench/client.c

x86_count() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$x86/bench/bench_client" \
		crypto "$1" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
arm_count() {
	# -d exec logs each translation block executed; -singlestep makes each block one
	# instruction, nochain makes every execution pass the logger; a Pi 4's core (NEON, no
	# crypto extension) so OpenSSL takes the code paths a board takes
	qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu cortex-a72 -singlestep -d nochain,exec -D /dev/stderr \
		"$arm/bench/bench_client" crypto "$1" 2>&1 >/dev/null | grep -c '^Trace'
}
report() { # name c0 c1 c2
	awk -v n="$1" -v a="$2" -v b="$3" -v c="$4" -v s="$secs" 'BEGIN {
		printf "%-8s sealing %6.3f M/s   opening %6.3f M/s   (instructions per second of voice)\n",
			n, (b - a) / s / 1e6, (c - b) / s / 1e6 }'
}

if command -v valgrind >/dev/null && [ -x "$x86/bench/bench_client" ]; then
	report x86-64 "$(x86_count 0)" "$(x86_count 1)" "$(x86_count 2)"
else
	echo "client_crypto.sh: no valgrind or no $x86/bench/bench_client: x86-64 skipped" >&2
fi
if command -v qemu-aarch64 >/dev/null && [ -x "$arm/bench/bench_client" ]; then
	report aarch64 "$(arm_count 0)" "$(arm_count 1)" "$(arm_count 2)"
else
	echo "client_crypto.sh: no qemu-aarch64 or no $arm/bench/bench_client (cmake --preset arm64 && cmake --build --preset arm64): aarch64 skipped" >&2
fi
