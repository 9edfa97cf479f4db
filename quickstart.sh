#!/usr/bin/env bash
# quickstart.sh: set up, build and run intercom on Debian 12 / Raspberry Pi OS.
#   ./quickstart.sh server [intercomd flags...]   build and run intercomd in the foreground
#   ./quickstart.sh test                          build and run every test (what CI runs)
set -euo pipefail
cd "$(dirname "$0")"

say() { printf '==> %s\n' "$*"; }
die() { printf 'quickstart: %s\n' "$*" >&2; exit 1; }

# Install the Debian packages that are missing (apt-get; sudo when not root).
need() {
	local missing=()
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	command -v apt-get >/dev/null || die "apt-get not found: install ${missing[*]} by hand"
	say "installing ${missing[*]}"
	"${sudo[@]}" apt-get update -qq || die "apt-get update failed: check the network or apt sources"
	DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

jobs=$(nproc 2>/dev/null || echo 2)

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
server)
	# The server needs nothing but libc and a C compiler.
	need cmake make gcc libc6-dev
	say "configuring (server only)"
	cmake --preset server-only >/dev/null
	say "building intercomd"
	cmake --build --preset server-only -j"$jobs" >/dev/null
	say "starting intercomd in the foreground (Ctrl-C stops it)"
	exec build/server-only/intercomd "$@"
	;;
test)
	need cmake make gcc libc6-dev pkg-config libcmocka-dev libopus-dev valgrind cppcheck \
		clang-format
	say "checking format (clang-format) and static analysis (cppcheck)"
	files=$(git ls-files '*.c' '*.h' 2>/dev/null ||
		find common proto server firmware tests bench -name '*.[ch]')
	# shellcheck disable=SC2086
	clang-format --dry-run --Werror $files || die "clang-format: run clang-format -i on the files above"
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D__GNUC__ -Iproto -Icommon -Iserver -Ifirmware common proto server firmware ||
		die "cppcheck found problems (above)"
	for preset in default sanitize; do
		say "configuring and building ($preset)"
		cmake --preset "$preset" >/dev/null
		cmake --build --preset "$preset" -j"$jobs" >/dev/null ||
			cmake --build --preset "$preset" -j1 # show the error
		say "running every test ($preset)"
		ctest --preset "$preset" -j"$jobs"
	done
	say "all tests passed (default and sanitize builds)"
	;;
*)
	echo "usage: ./quickstart.sh server [intercomd flags...] | ./quickstart.sh test" >&2
	exit 2
	;;
esac
