#!/usr/bin/env bash
# quickstart.sh: set up, build and run intercom on Debian 12 / Raspberry Pi OS.
#   ./quickstart.sh demo                          a server and two clients talking, from files
#   ./quickstart.sh test                          build and run every test (what CI runs)
#   ./quickstart.sh server [intercomd flags...]   build and run intercomd in the foreground
#   ./quickstart.sh deb [ARCH]                    Debian packages in build/deb (ARCH: arm64, armhf)
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

# Let apt install ARCH's libraries beside this machine's (Debian multiarch).
add_arch() {
	[ "$1" = "$(dpkg --print-architecture)" ] && return 0
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	say "adding the $1 architecture to apt (dpkg --add-architecture $1)"
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" dpkg --add-architecture "$1" || die "dpkg --add-architecture $1 failed"
	"${sudo[@]}" apt-get update -qq || die "apt-get update failed: check the network or apt sources"
}

# ARCH must be a Debian architecture name before dpkg is told to add it (an unknown
# name would stay in dpkg's list); the kernel's names for the boards are not Debian's.
check_arch() {
	local hint="the names that work: arm64 (64-bit Raspberry Pi OS), armhf (32-bit)"
	case $1 in
	arm64 | armhf | "$(dpkg --print-architecture)") return 0 ;;
	aarch64 | armv8*) die "unknown architecture '$1': Debian calls it arm64 (./quickstart.sh deb arm64); $hint" ;;
	arm | armv7* | armv6*) die "unknown architecture '$1': Debian calls it armhf (./quickstart.sh deb armhf); $hint" ;;
	x86_64) die "unknown architecture '$1': Debian calls it amd64; $hint" ;;
	esac
	command -v dpkg-architecture >/dev/null && dpkg-architecture -L | grep -qx -- "$1" && return 0
	die "unknown architecture '$1'; $hint"
}

# What building for ARCH needs: its cross compiler and its -dev libraries.
need_target() {
	local arch=$1 triplet
	shift
	check_arch "$arch"
	if [ "$arch" = "$(dpkg --print-architecture)" ]; then
		need gcc libc6-dev pkg-config libssl-dev libopus-dev libasound2-dev libgpiod-dev libspeexdsp-dev libqrencode-dev "$@"
		return
	fi
	add_arch "$arch"
	need dpkg-dev
	triplet=$(dpkg-architecture -a"$arch" -qDEB_HOST_GNU_TYPE 2>/dev/null) ||
		die "no GNU triplet for architecture $arch (dpkg-architecture -a$arch); try arm64 or armhf"
	local pkgs=(gcc-"$triplet" libc6-dev:"$arch" pkg-config:"$arch" libssl-dev:"$arch" libopus-dev:"$arch"
		libasound2-dev:"$arch" libgpiod-dev:"$arch" libspeexdsp-dev:"$arch" libqrencode-dev:"$arch")
	for p in "$@"; do pkgs+=("$p:$arch"); done
	need "${pkgs[@]}"
}

# Debian packages for ARCH (default: this machine's) into build/deb.
build_debs() {
	local arch=${1:-$(dpkg --print-architecture)} src=build/deb/src/intercom
	need_target "$arch"
	need cmake make build-essential debhelper dpkg-dev
	say "building the Debian packages for $arch (dpkg-buildpackage; log in build/deb/build-$arch.log)"
	rm -rf build/deb/src
	mkdir -p "$src"
	# a copy of the source without build trees, so the work tree stays clean
	tar --exclude=./build --exclude=./.git -cf - . | tar -xf - -C "$src"
	(cd "$src" && dpkg-buildpackage -a"$arch" -b -us -uc) >"build/deb/build-$arch.log" 2>&1 ||
		die "dpkg-buildpackage failed for $arch: see build/deb/build-$arch.log"
	mv build/deb/src/*.deb build/deb/
	rm -rf build/deb/src
}

jobs=$(nproc 2>/dev/null || echo 2)

# The demo's speech: TEXT spoken by espeak-ng into FILE, 48 kHz mono 16-bit, after PAD
# seconds of silence.
speak() {
	espeak-ng -s 150 -w "$1.espeak.wav" "$3" || die "espeak-ng failed"
	sox -q "$1.espeak.wav" -r 48000 -c 1 -b 16 -e signed-integer "$1" pad "$2" 0 ||
		die "sox could not convert the speech sample"
	rm -f "$1.espeak.wav"
}

# Wait up to 10 s for a line matching PATTERN in the log FILE.
wait_log() {
	for _ in $(seq 200); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	die "no '$2' in $1 after 10 s: see $1"
}

# wavdelay's verdict (delay_ms=... correlation=... envelope=... windowed=...) in words.
similarity() {
	echo "$1" | sed 's/.*correlation=\([0-9.]*\) envelope=\([0-9.]*\) windowed=\([0-9.]*\)/waveform \1 (per 250 ms window \3), envelope \2/'
}

# How faithfully HEARD.wav reproduces TALK.wav over [FROM, TO) s of TALK, the listener's
# clock OFFSET ms after the talker's: the mouth-to-ear delay and the similarity
# (bench/wavdelay; the demo stops when nothing matches).
heard() {
	local r ms
	r=$(build/demo/bench/wavdelay "$1" "$2" --offset-ms "$3" --from "$4" --to "$5") ||
		die "what was heard ($2) does not match what was said ($1): see build/demo/run/*.log"
	ms=${r#delay_ms=}
	echo "mouth to ear ${ms%% *} ms, $(similarity "$r")"
}

# A log's first number after TEXT (TEXT ends with a space).
logged() { grep -o "$2[0-9]*" "$1" | head -n 1 | grep -o '[0-9]*$'; }

# The demo's second part, on the running server (port $1) in run directory $2: Kitchen
# calls Door, Door answers by itself (--auto-accept, as a door station's auto_accept)
# and both talk hands-free, nobody holding a button, each from its capture file.
demo_call() {
	local port=$1 d=$2 door_len kit_len t_door t_kitchen ds ks dp kp
	speak "$d/door-say.wav" 2.6 "Hello, it is the postman. I have a parcel for you."
	speak "$d/kitchen-say.wav" 1.0 "Who is there?"
	door_len=$(sox --info -D "$d/door-say.wav")
	kit_len=$(sox --info -D "$d/kitchen-say.wav")
	say "a hands-free call: Kitchen calls Door, Door answers by itself, no button held"
	build/demo/firmware/intercom --server "127.0.0.1:$port" --nick Door --auto-accept \
		--state-dir "$d/door-state" --capture-file "$d/door-say.wav" --playback-file "$d/door-heard.wav" \
		--exit-after "$(awk "BEGIN { print $door_len + 1.2 }")" 2>"$d/door-call.log" &
	local door=$!
	wait_log "$d/door-call.log" 'status: online'
	build/demo/firmware/intercom --server "127.0.0.1:$port" --nick Kitchen --call Door \
		--state-dir "$d/kitchen-state" --capture-file "$d/kitchen-say.wav" --playback-file "$d/kitchen-heard.wav" \
		--exit-after "$(awk "BEGIN { print $door_len + 0.6 }")" 2>"$d/kitchen-call.log" ||
		die "the calling client failed: see $d/kitchen-call.log"
	wait $door || die "the door client failed: see $d/door-call.log"
	grep -q 'TALKING | in call with Kitchen' "$d/door-call.log" ||
		die "Door did not answer hands-free: see $d/door-call.log"
	! grep -q 'push-to-talk' "$d/door-call.log" "$d/kitchen-call.log" ||
		die "a button was pressed in the hands-free call: see $d/*-call.log"
	ds=$(logged "$d/door-call.log" 'voice: sent ')
	ks=$(logged "$d/kitchen-call.log" 'voice: sent ')
	dp=$(logged "$d/door-call.log" 'frames ')
	kp=$(logged "$d/kitchen-call.log" 'frames ')
	# each side talked for the whole call (over 2 s, 100 packets) and the other played it
	if [ "$ds" -lt 100 ] || [ "$ks" -lt 100 ] || [ $((kp * 100)) -lt $((ds * 90)) ] ||
		[ $((dp * 100)) -lt $((ks * 90)) ]; then
		die "the call did not carry voice both ways (Door sent $ds, Kitchen played $kp; Kitchen sent $ks, Door played $dp): see $d/*-call.log"
	fi
	t_door=$(logged "$d/door-call.log" 'started at ')
	t_kitchen=$(logged "$d/kitchen-call.log" 'started at ')
	# hands-free, every packet each side sent was sent during the call
	call_door="Door -> Kitchen: $ds packets sent, $kp frames played; $(heard "$d/door-say.wav" \
		"$d/kitchen-heard.wav" $((t_kitchen - t_door)) 2.6 "$door_len")"
	call_kitchen="Kitchen -> Door: $ks packets sent, $dp frames played; $(heard "$d/kitchen-say.wav" \
		"$d/door-heard.wav" $((t_door - t_kitchen)) 1.0 "$kit_len")"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
demo)
	need cmake make gcc libc6-dev pkg-config libssl-dev libopus-dev libasound2-dev libgpiod-dev libspeexdsp-dev espeak-ng sox
	say "configuring and building (server and client)"
	cmake --preset demo >/dev/null
	cmake --build --preset demo -j"$jobs" >/dev/null || cmake --build --preset demo -j1
	d=build/demo/run
	rm -rf "$d"/*-state # a fresh server key and first contact each run
	mkdir -p "$d"
	say "synthesising speech with espeak-ng (48 kHz mono 16-bit)"
	speak "$d/speech.wav" 0.6 "Hello from the front door. This is the intercom demo. One, two, three, four, five."
	len=$(sox --info -D "$d/speech.wav")
	# port 0: intercomd takes a free port and logs it
	# each program its own identity (and the boxes their known_servers) in the run's
	# directory: TLS 1.3 and encrypted voice, as installed
	build/demo/intercomd --bind 127.0.0.1 --port 0 --state-dir "$d/intercomd-state" \
		2>"$d/intercomd.log" &
	srv=$!
	trap 'kill $srv 2>/dev/null || true' EXIT
	port=
	for _ in $(seq 100); do
		port=$(sed -n 's/.*listening on .* port \([0-9]*\) (TCP).*/\1/p' "$d/intercomd.log")
		[ -n "$port" ] && break
		sleep 0.05
	done
	[ -n "$port" ] || die "intercomd did not start: see $d/intercomd.log"
	say "intercomd is on 127.0.0.1:$port; starting two clients (Door talks, Kitchen listens)"
	talk_end=$(awk "BEGIN { print $len + 1.0 }")
	build/demo/firmware/intercom --server "127.0.0.1:$port" --nick Kitchen \
		--state-dir "$d/kitchen-state" --playback-file "$d/heard.wav" --exit-after "$(awk "BEGIN { print $len + 2.0 }")" \
		2>"$d/kitchen.log" &
	ear=$!
	sleep 0.3
	build/demo/firmware/intercom --server "127.0.0.1:$port" --nick Door \
		--state-dir "$d/door-state" --capture-file "$d/speech.wav" --talk-after 0.5 --talk-for "$(awk "BEGIN { print $len + 0.3 }")" \
		--exit-after "$talk_end" 2>"$d/door.log" || die "the talking client failed: see $d/door.log"
	wait $ear || die "the listening client failed: see $d/kitchen.log"
	demo_call "$port" "$d"
	kill $srv 2>/dev/null; wait $srv 2>/dev/null || true
	t_door=$(grep -o 'started at [0-9]*' "$d/door.log" | grep -o '[0-9]*$')
	t_kitchen=$(grep -o 'started at [0-9]*' "$d/kitchen.log" | grep -o '[0-9]*$')
	cmp=$(build/demo/bench/wavdelay "$d/speech.wav" "$d/heard.wav" \
		--offset-ms $((t_kitchen - t_door)) --from 0.5 --to "$(awk "BEGIN { print $len + 0.5 }")") ||
		die "what Kitchen heard does not match what Door said: see $d/*.log"
	sent=$(grep -o 'voice: sent [0-9]*' "$d/door.log" | grep -o '[0-9]*$')
	stats=$(grep -o 'received [0-9]*, frames [0-9]*, fec [0-9]*, concealed [0-9]*' "$d/kitchen.log")
	echo
	echo "  Door said:      $d/speech.wav (${len} s of espeak-ng speech)"
	echo "  Kitchen heard:  $d/heard.wav"
	echo "  packets sent by Door: $sent; at Kitchen: $stats"
	echo "  mouth to ear:   $(echo "$cmp" | sed 's/delay_ms=\([0-9.]*\).*/\1/') ms" \
		"(capture sample -> playback sample; add your sound card's buffer on a real box)"
	echo "  similarity:     $(similarity "$cmp")"
	grep -q 'TLS 1.3 only' "$d/intercomd.log" && grep -q 'trusted on first use' "$d/kitchen.log" ||
		die "the demo did not run encrypted: see $d/*.log"
	echo "  encrypted:      TLS 1.3 signalling, ChaCha20-Poly1305 voice; each box trusted" \
		"the server's key $(sed -n 's/.*identity \(sha256:[0-9a-f]\{8\}\).*/\1.../p' "$d/intercomd.log") on first use"
	echo "  hands-free:     Kitchen called Door, Door answered by itself (auto-accept), nobody held a button"
	echo "    $call_door"
	echo "    $call_kitchen"
	echo "  logs:           $d/intercomd.log $d/door.log $d/kitchen.log $d/door-call.log $d/kitchen-call.log"
	;;
server)
	# The server needs libc, OpenSSL 3 and a C compiler.
	need cmake make gcc libc6-dev pkg-config libssl-dev
	say "configuring (server only)"
	cmake --preset server-only >/dev/null
	say "building intercomd"
	cmake --build --preset server-only -j"$jobs" >/dev/null
	say "starting intercomd in the foreground (Ctrl-C stops it)"
	exec build/server-only/intercomd "$@"
	;;
test)
	need cmake make gcc libc6-dev pkg-config libcmocka-dev libopus-dev libasound2-dev libgpiod-dev libspeexdsp-dev \
		valgrind cppcheck iproute2 \
		pulseaudio pulseaudio-utils libasound2-plugins libssl-dev libqrencode-dev \
		clang-format python3 chromium openssl
	say "checking format (clang-format) and static analysis (cppcheck)"
	files=$(git ls-files '*.c' '*.h' 2>/dev/null ||
		find common proto server firmware web tests bench -name '*.[ch]')
	# shellcheck disable=SC2086
	clang-format --dry-run --Werror $files || die "clang-format: run clang-format -i on the files above"
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --std=c11 -D__GNUC__ -Iproto -Icommon -Iserver -Ifirmware -Ifirmware/audio -Iweb common proto server firmware web ||
		die "cppcheck found problems (above)"
	for preset in default sanitize; do
		say "configuring and building ($preset)"
		cmake --preset "$preset" >/dev/null
		cmake --build --preset "$preset" -j"$jobs" >/dev/null ||
			cmake --build --preset "$preset" -j1 # show the error
		say "running every test ($preset)"
		ctest --preset "$preset" -j"$jobs"
	done
	say "cross-building for arm64; its unit tests run under qemu"
	need_target arm64 libcmocka-dev libssl-dev
	need qemu-user
	cmake --preset arm64 >/dev/null
	cmake --build --preset arm64 -j"$jobs" >/dev/null || cmake --build --preset arm64 -j1
	ctest --preset arm64 -j"$jobs"
	say "fuzzing every parser and state machine for ${FUZZ_SECONDS:-60} s each (libFuzzer, ASan + UBSan)"
	need clang libclang-rt-14-dev
	cmake --preset fuzz -DFUZZ_SECONDS="${FUZZ_SECONDS:-60}" >/dev/null
	cmake --build --preset fuzz -j"$jobs" >/dev/null || cmake --build --preset fuzz -j1
	ctest --preset fuzz -j"$jobs"
	cat build/fuzz/tests/fuzz/work/*/summary
	say "packages: build (amd64/host and arm64), lintian, install, check"
	need lintian systemd adduser openssl
	rm -f build/deb/*.deb
	build_debs
	build_debs arm64
	tests/check_packages.sh build/deb
	say "all tests passed (default, sanitize and arm64 builds; fuzzing; packages)"
	;;
deb)
	build_debs "${1:-}"
	ls -l build/deb/*_"${1:-$(dpkg --print-architecture)}".deb
	;;
*)
	echo "usage: ./quickstart.sh demo | test | server [intercomd flags...] | deb [ARCH]" >&2
	exit 2
	;;
esac
