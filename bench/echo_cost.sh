#!/usr/bin/env bash
# echo_cost.sh: what the echo canceller costs a box, in instructions per second of call,
# on x86-64 and on the arm64 build, and the share of a Pi 3 and Pi 4 core that makes.
# Each count is bench_echo -c (10 s of call through the canceller, both talking half of
# it, 20 ms frames) less bench_echo -C (the same call without it: the synthetic room
# and the start-up), so only the canceller is left (resampling, the MDF filter, the
# preprocessor, the delay estimator).
#  - x86-64: callgrind's totals; and, as a check, aec_capture_audio + aec_playback
#    inclusive from the same -c run.
#  - arm64: qemu-user with bench/qemu_insn.c, a TCG plugin counting every guest
#    instruction executed (Debian 12's qemu-user accepts -plugin but ships no plugin;
#    this one is built here with gcc). -cpu cortex-a53 (a Pi 3's core): the same
#    instructions as an A72's, since speexdsp's arm64 build has one NEON path.
# Instructions are not time: the shares assume the instructions per cycle below.
#   bench/echo_cost.sh [X86_BUILD] [ARM64_BUILD]   (default build/default build/arm64)
set -euo pipefail
x86=${1:-build/default}
arm=${2:-build/arm64}
here=$(cd "$(dirname "$0")" && pwd)
secs=10 # COST_SECONDS in bench/echo.c
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

share() { # name instructions-per-second
	# the board table's rates (docs/PERFORMANCE.md): a Pi 3's Cortex-A53 at 1.2 GHz runs
	# 0.9-1.1 G instructions a second on one core (IPC 0.75-0.9: in order, dual
	# issue), a Pi 4's A72 at 1.5-1.8 GHz 2-2.7 G (IPC 1.35-1.5: out of order)
	awk -v n="$1" -v i="$2" 'BEGIN {
		printf "%s: %.1f M instructions per second of call: %.1f-%.1f %% of a Pi 3 core (0.9-1.1 G/s), %.1f-%.1f %% of a Pi 4 core (2-2.7 G/s)\n",
			n, i / 1e6, i / 1.1e9 * 100, i / 0.9e9 * 100, i / 2.7e9 * 100, i / 2e9 * 100 }'
}

if command -v valgrind >/dev/null && [ -x "$x86/bench/bench_echo" ]; then
	cg() {
		valgrind --tool=callgrind --callgrind-out-file="$tmp/cg$1" \
			"$x86/bench/bench_echo" "$1" 2>&1 >/dev/null |
			sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
	}
	on=$(cg -c)
	off=$(cg -C)
	share x86-64 "$(((on - off) / secs))"
	callgrind_annotate --inclusive=yes "$tmp/cg-c" 2>/dev/null |
		awk -v s="$secs" '/:(aec_capture_audio|aec_playback) \[/ { gsub(",", "", $1); n += $1 }
			END { printf "x86-64 check: aec_capture_audio + aec_playback inclusive %.1f M/s\n", n / s / 1e6 }'
else
	echo "echo_cost.sh: no valgrind or no $x86/bench/bench_echo: x86-64 skipped" >&2
fi

if command -v qemu-aarch64 >/dev/null && [ -x "$arm/bench/bench_echo" ]; then
	gcc -shared -fPIC -O2 -o "$tmp/qemu_insn.so" "$here/qemu_insn.c"
	qc() {
		qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu cortex-a53 -plugin "$tmp/qemu_insn.so" \
			-d plugin -D "$tmp/q$1" "$arm/bench/bench_echo" "$1" >/dev/null
		sed -n 's/^insns \([0-9]*\)$/\1/p' "$tmp/q$1"
	}
	on=$(qc -c)
	off=$(qc -C)
	share arm64 "$(((on - off) / secs))"
else
	echo "echo_cost.sh: no qemu-aarch64 or no $arm/bench/bench_echo (cmake --preset arm64 && cmake --build --preset arm64 --target bench_echo): arm64 skipped" >&2
fi
"$x86/bench/bench_echo" -c | sed -n 's/^canceller: /settings: /p'
