#!/usr/bin/env bash
# The Debian packages as a user gets them: lintian-clean of errors, installed with apt,
# the installed programs run (a real login against the installed intercomd, the
# installed client against it as the service's user), the units pass systemd's checks,
# the arm64 build runs under qemu, and a purge leaves nothing behind.
#   tests/check_packages.sh DIR   (DIR holds the .deb files; run as root)
set -euo pipefail
dir=$1
host=$(dpkg --print-architecture)
fail() { printf 'check_packages: FAILED: %s\n' "$*" >&2; exit 1; }
ok() { printf '  ok: %s\n' "$*"; passed=$((passed + 1)); }
passed=0
tmp=$(mktemp -d)
srv=
web=
cleanup() {
	[ -n "$srv" ] && kill "$srv" 2>/dev/null
	[ -n "$web" ] && kill "$web" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

shopt -s nullglob
debs=("$dir"/*.deb)
[ ${#debs[@]} -ge 6 ] || fail "expected intercomd, intercom and intercom-web packages for two architectures in $dir"
version=$(dpkg-deb -f "$dir/intercomd_"*"_$host.deb" Version)

# 1. lintian: no errors (warnings are shown)
out=$(lintian --allow-root --fail-on error "${debs[@]}" 2>&1) || {
	printf '%s\n' "$out"
	fail "lintian found errors"
}
printf '%s\n' "$out" | grep -v -e '^running with root' -e '^$' || true
ok "lintian: no errors in ${#debs[@]} packages"

# 2. what each package declares
for arch in "$host" arm64; do
	d=$(dpkg-deb -f "$dir/intercom_${version}_$arch.deb" Depends)
	for lib in libopus0 libasound2 libgpiod2 libspeexdsp1 adduser; do
		[[ $d == *"$lib"* ]] || fail "intercom ($arch) does not depend on $lib: $d"
	done
	d=$(dpkg-deb -f "$dir/intercomd_${version}_$arch.deb" Depends)
	[[ $(printf '%s' "$d" | sed 's/ ([^)]*)//g') == "libc6, libssl3" ]] ||
		fail "intercomd ($arch) should need libc and OpenSSL alone: $d"
	d=$(dpkg-deb -f "$dir/intercom-web_${version}_$arch.deb" Depends)
	for lib in libssl3 libqrencode4; do
		[[ $d == *"$lib"* ]] || fail "intercom-web ($arch) does not depend on $lib: $d"
	done
done
ok "runtime dependencies: intercomd needs libc and libssl3 alone; intercom libopus0, libasound2, libgpiod2"

# 3. install with apt, as a user would; never over a real installation on a person's box
for p in intercom intercomd intercom-web; do
	if [ "${CI:-}" != true ] &&
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		fail "the $p package is installed on this machine: this check installs and purges it," \
			"so it stops here rather than remove yours (remove it first, or run with CI=true)"
	fi
done
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "./$dir/intercomd_${version}_$host.deb" \
	"./$dir/intercom_${version}_$host.deb" "./$dir/intercom-web_${version}_$host.deb" \
	>"$tmp/apt.log" 2>&1 || {
	cat "$tmp/apt.log"
	fail "apt-get install of the packages failed"
}
ok "apt-get install ./intercomd_${version}_$host.deb ./intercom_${version}_$host.deb"
for f in /etc/intercom/intercomd.conf /etc/intercom/intercom.conf /etc/intercom/intercom-web.conf; do
	dpkg-query --control-show "$(dpkg -S "$f" | cut -d: -f1)" conffiles | grep -q "^$f$" ||
		fail "$f is not a conffile"
	[ "$(grep -c '^#[a-z_]* =' "$f")" -ge 5 ] || fail "$f does not show its keys commented"
done
for m in /usr/share/man/man8/intercomd.8.gz /usr/share/man/man1/intercom.1.gz \
	/usr/share/man/man8/intercom-web.8.gz; do
	[ -s "$m" ] || fail "missing man page $m"
	zcat "$m" | grep -q '^\.SH OPTIONS' || fail "$m has no OPTIONS section"
done
ok "conffiles in /etc/intercom with every key commented; man pages intercomd(8), intercom(1)"
id -nG intercom | tr ' ' '\n' | grep -qx audio || fail "the intercom user is not in audio"
id -nG intercom | tr ' ' '\n' | grep -qx gpio || fail "the intercom user is not in gpio"
ok "system user intercom in the audio and gpio groups"

# 4. the installed programs
v=$(/usr/sbin/intercomd --version)
[ "$v" = "intercomd $version (protocol 1)" ] || fail "intercomd --version says '$v'"
v=$(/usr/bin/intercom --version)
[[ $v == "intercom $version"* ]] || fail "intercom --version says '$v'"
ok "installed --version: $v"
runuser -u intercom -- /usr/bin/intercom --config /etc/intercom/intercom.conf --check-config \
	>"$tmp/check.log" 2>&1 || {
	cat "$tmp/check.log"
	fail "the shipped intercom.conf is refused"
}
/usr/sbin/intercomd --config /etc/intercom/intercomd.conf --check-config >/dev/null ||
	fail "the shipped intercomd.conf is refused"
# the README's door station: this file copied over intercom.conf
runuser -u intercom -- /usr/bin/intercom --config /usr/share/intercom/examples/door-station.conf \
	--check-config >"$tmp/check.log" 2>&1 || {
	cat "$tmp/check.log"
	fail "the shipped door-station.conf is refused"
}
ok "the shipped configs pass --check-config (the client's and the door station's as the service user)"

chmod 711 "$tmp"
install -d -o intercom "$tmp/c"
install -d -o nobody -m 0700 "$tmp/srv-state"
[ "$(stat -c '%U %a' /var/lib/intercom)" = "intercom 700" ] ||
	fail "/var/lib/intercom should be the intercom user's, mode 700: $(stat -c '%U %a' /var/lib/intercom)"
# as an unprivileged user, as under DynamicUser (setpriv execs: $srv is intercomd itself)
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/intercomd --config /etc/intercom/intercomd.conf \
	--bind 127.0.0.1 --port 0 --name PackageCheck --state-dir "$tmp/srv-state" 2>"$tmp/intercomd.log" &
srv=$!
# port 0: it takes a free port and logs it, so nothing else can race us for one
port=
for _ in $(seq 100); do
	port=$(sed -n 's/.*listening on .* port \([0-9]*\) (TCP).*/\1/p' "$tmp/intercomd.log")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || fail "the installed intercomd did not start: $(cat "$tmp/intercomd.log")"
# TLS by default: a plaintext line gets TLS_REQUIRED in the clear
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'CONNECT: "Installed" "Package Check" 1.0.0\n' >&3
IFS= read -r -t 5 line <&3 || true
exec 3>&-
[[ $line == "ERROR TLS_REQUIRED: this server accepts TLS only"* ]] ||
	fail "a plaintext login to the installed intercomd got '$line', not TLS_REQUIRED"
# a real login over TLS with a box key of our own (the README's by-hand session):
# CONNECT, ACCEPT, VOICE with keys, PING -> PONG, JOINED #Lobby
openssl genpkey -algorithm ed25519 -out "$tmp/me.pem" 2>/dev/null
openssl req -new -x509 -key "$tmp/me.pem" -subj /CN=check -days 1 -out "$tmp/me.crt" 2>/dev/null
coproc TLS { openssl s_client -quiet -connect "127.0.0.1:$port" -cert "$tmp/me.crt" \
	-key "$tmp/me.pem" 2>/dev/null; }
printf 'CONNECT: "Installed" "Package Check" 1.1.0\n' >&"${TLS[1]}"
got=
while IFS= read -r -t 5 line <&"${TLS[0]}"; do
	line=${line%$'\r'}
	got+="$line"$'\n'
	case "$line" in
	PING:*) printf 'PONG: %s\n' "${line#PING: }" >&"${TLS[1]}" ;;
	"JOINED: #Lobby") break ;;
	ERROR*) break ;;
	esac
done
# the coproc may have ended already (bash then unsets TLS and TLS_PID)
if [ -n "${TLS_PID:-}" ]; then
	printf 'DISCONNECT\n' >&"${TLS[1]}" 2>/dev/null || true
	kill "$TLS_PID" 2>/dev/null || true
fi
[[ $got == *"ACCEPT: PackageCheck"* ]] || fail "no ACCEPT from the installed intercomd: $got"
[[ $got == *" chacha20-poly1305 "* ]] || fail "no keyed VOICE line over TLS: $got"
[[ $got == *"JOINED: #Lobby"* ]] || fail "the login did not reach #Lobby: $got"
[[ $got == *"REGISTERED: Installed sha256:"* ]] || fail "the nick's first login was not REGISTERED: $got"
ok "plaintext refused; a real login over TLS 1.3 against the installed intercomd (ACCEPT, VOICE with keys, PING/PONG, JOINED #Lobby)"

# the installed client, as the service's user, logs in and hears the connected tone
runuser -u intercom -- /usr/bin/intercom --config /etc/intercom/intercom.conf \
	--server "127.0.0.1:$port" --nick InstalledClient --playback-file "$tmp/c/heard.wav" \
	--exit-after 1.5 >"$tmp/client.log" 2>&1 || true
grep -q 'status: online' "$tmp/client.log" || {
	cat "$tmp/client.log"
	fail "the installed client did not get online"
}
grep -q 'trusted on first use (kept in /var/lib/intercom/known_servers)' "$tmp/client.log" ||
	fail "the installed client did not pin the server's key: $(cat "$tmp/client.log")"
[ "$(stat -c '%U' /var/lib/intercom/known_servers)" = "intercom" ] ||
	fail "known_servers should be the intercom user's"
ok "the installed client logs in over TLS as the intercom user and pins the server's key"
# each made its identity on first start: the fingerprints they logged are the ones
# --fingerprint prints, and the box's key is in its state directory, the user's alone
fp=$(setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/intercomd \
	--config /etc/intercom/intercomd.conf --state-dir "$tmp/srv-state" --fingerprint)
grep -q "identity $fp " "$tmp/intercomd.log" || fail "intercomd logged another identity than $fp"
fp=$(runuser -u intercom -- /usr/bin/intercom --config /etc/intercom/intercom.conf --fingerprint)
grep -q "identity $fp (/var/lib/intercom/key.pem" "$tmp/client.log" ||
	fail "the client logged another identity than $fp: $(cat "$tmp/client.log")"
[ "$(stat -c '%U %a' /var/lib/intercom/key.pem)" = "intercom 600" ] ||
	fail "the box's key should be the intercom user's, mode 600"
ok "identities: made on first start, the same from --fingerprint, the box's in /var/lib/intercom (600)"

# the gateway, installed, as an unprivileged user against the installed intercomd:
# enrollment link and QR code, its CA (key 0600), the landing page and the https page
install -d -o nobody -m 0700 "$tmp/web-state"
asweb() { setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/intercom-web \
	--config /etc/intercom/intercom-web.conf --state-dir "$tmp/web-state" "$@"; }
link=$(asweb --name 127.0.0.1 --add-user Phone) || fail "intercom-web --add-user failed"
[[ $link == *"https://127.0.0.1:8443/enroll?t="* ]] || fail "no enrollment link: $link"
[ "$(asweb --list-users)" = "Phone waiting-for-enrollment" ] || fail "intercom-web --list-users"
# setpriv execs: $web is intercom-web itself
setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/sbin/intercom-web \
	--config /etc/intercom/intercom-web.conf --state-dir "$tmp/web-state" --name 127.0.0.1 \
	--server 127.0.0.1 --server-port "$port" --port 0 --http-port 0 2>"$tmp/web.log" &
web=$!
for _ in $(seq 100); do
	grep -q 'http port' "$tmp/web.log" && break
	sleep 0.1
done
hport=$(sed -n 's/.*https and WebSocket on port \([0-9]*\),.*/\1/p' "$tmp/web.log")
lport=$(sed -n 's/.*http port \([0-9]*\);.*/\1/p' "$tmp/web.log")
[ -n "$hport" ] && [ -n "$lport" ] || fail "the installed intercom-web did not start: $(cat "$tmp/web.log")"
exec 5<>"/dev/tcp/127.0.0.1/$lport"
printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&5
landing=$(timeout 5 cat <&5) || true
exec 5<&-
[[ $landing == *"HTTP/1.1 200"*"ca.crt"* ]] || fail "the landing page: $landing"
page=$(printf 'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' |
	timeout 5 openssl s_client -quiet -connect "127.0.0.1:$hport" 2>/dev/null | head -1) || true
[[ $page == "HTTP/1.1 200"* ]] || fail "the https page: $page"
[ "$(stat -c '%U %a' "$tmp/web-state/ca-key.pem")" = "nobody 600" ] ||
	fail "the gateway's CA key should be the service user's, mode 600"
kill "$web"
wait "$web" || fail "intercom-web did not exit cleanly on SIGTERM"
web=
ok "intercom-web installed: an enrollment link, the landing page with the CA, the https page, the CA key 600"
kill "$srv"
wait "$srv" || fail "intercomd did not exit cleanly on SIGTERM"
srv=
# the registry it kept, read and changed offline by root: the file stays the service's
reg=$(/usr/sbin/intercomd --config /etc/intercom/intercomd.conf --state-dir "$tmp/srv-state" --registry list)
[[ $reg == *"InstalledClient $fp 20"* ]] || fail "the box's nick is not in the registry: $reg"
/usr/sbin/intercomd --config /etc/intercom/intercomd.conf --state-dir "$tmp/srv-state" \
	--registry add Spare "$fp" >/dev/null || fail "intercomd --registry add failed"
[ "$(stat -c '%U %a' "$tmp/srv-state/registry")" = "nobody 600" ] ||
	fail "after root's --registry add the registry should stay the service user's: $(stat -c '%U %a' "$tmp/srv-state/registry")"
ok "the nick registry: both logins bound, listed and changed offline, still the service user's"

# 5. the units: systemd's own checks, with the programs installed
out=$(systemd-analyze verify /lib/systemd/system/intercomd.service \
	/lib/systemd/system/intercom.service /lib/systemd/system/intercom-web.service 2>&1) || true
[ -z "$out" ] || {
	printf '%s\n' "$out"
	fail "systemd-analyze verify complained"
}
for u in intercomd intercom intercom-web; do
	# exposure 0 (locked down) to 10 (wide open); above 2.0 is a hardening lost
	e=$(systemd-analyze security --offline=yes --threshold=20 "/lib/systemd/system/$u.service" \
		2>&1 | sed -n 's/.*Overall exposure level for [a-z.-]*: \([0-9.]*\).*/\1/p') ||
		fail "$u.service is less hardened than before (exposure $e)"
	[ -n "$e" ] || fail "no exposure level for $u.service"
	printf '  %s.service: systemd exposure level %s\n' "$u" "$e"
done
grep -q '^DynamicUser=yes' /lib/systemd/system/intercomd.service || fail "intercomd.service: DynamicUser"
ok "systemd-analyze verify: no complaint; security exposure within 2.0"

# 6. the arm64 build runs (qemu user emulation)
mkdir -p "$tmp/arm64"
for p in intercomd intercom intercom-web; do dpkg-deb -x "$dir/${p}_${version}_arm64.deb" "$tmp/arm64"; done
readelf -h "$tmp/arm64/usr/sbin/intercomd" | grep -q 'Machine:.*AArch64' || fail "the arm64 intercomd is not aarch64"
v=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/arm64/usr/sbin/intercomd" --version)
[ "$v" = "intercomd $version (protocol 1)" ] || fail "arm64 intercomd --version says '$v'"
v=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/arm64/usr/bin/intercom" --version)
[[ $v == "intercom $version"* ]] || fail "arm64 intercom --version says '$v'"
v=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$tmp/arm64/usr/sbin/intercom-web" --version)
[[ $v == "intercom-web $version"* ]] || fail "arm64 intercom-web --version says '$v'"
ok "the arm64 packages' programs run under qemu-aarch64"

# 6b. the client's maintainer scripts on a first install, an upgrade and a remove. No
# systemd runs here, so they are read by running them: extracted from the package and
# run with fakes of the service tools first on PATH, which log each call (systemctl
# answers that the service is enabled); what they asked for is then checked.
ctl=$tmp/ctl
fake=$tmp/fake
mkdir -p "$ctl" "$fake"
dpkg-deb -e "$dir/intercom_${version}_$host.deb" "$ctl"
for t in deb-systemd-invoke deb-systemd-helper systemctl adduser addgroup udevadm; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\nexit 0\n' "$t" "$tmp" >"$fake/$t"
	chmod +x "$fake/$t"
done
made_run=
[ -d /run/systemd/system ] || { mkdir -p /run/systemd/system && made_run=yes; }
maint() { # SCRIPT ARGS...: run it, return what it asked of systemd
	: >"$tmp/calls"
	PATH="$fake:$PATH" DPKG_MAINTSCRIPT_PACKAGE=intercom sh "$ctl/$1" "${@:2}" ||
		fail "intercom's $1 $* failed"
	grep -E 'deb-systemd-invoke|systemctl' "$tmp/calls" || true
}
first=$(maint postinst configure)
upgrade=$(maint postinst configure 0.0.1)
remove=$(maint prerm remove)
[ -n "$made_run" ] && rmdir /run/systemd/system
[[ $first != *"deb-systemd-invoke start"* && $first != *"deb-systemd-invoke restart"* ]] ||
	fail "a first install starts intercom.service before its config names a server: $first"
[[ $upgrade == *"deb-systemd-invoke restart intercom.service"* ]] ||
	fail "an upgrade does not start the enabled intercom.service again: $upgrade"
[[ $remove == *"deb-systemd-invoke stop intercom.service"* ]] ||
	fail "a remove leaves intercom.service running: $remove"
ok "intercom's maintainer scripts (run with fake service tools): not started on a first install, restarted on an upgrade when enabled, stopped on remove"

# 7. purge leaves no configuration behind
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq intercom intercomd intercom-web >"$tmp/apt.log" 2>&1 ||
	fail "apt-get purge failed"
[ ! -e /etc/intercom ] || fail "/etc/intercom is left after purge"
[ ! -e /usr/sbin/intercomd ] || fail "/usr/sbin/intercomd is left after purge"
[ ! -e /usr/sbin/intercom-web ] || fail "/usr/sbin/intercom-web is left after purge"
[ ! -e /var/lib/intercom ] || fail "/var/lib/intercom (the box's identity) is left after purge"
ok "apt-get purge removes programs, configuration and the box's identity"

echo "package sizes:"
for f in "${debs[@]}"; do
	printf '  %-40s %6d KiB download, %5s KiB installed\n' "$(basename "$f")" \
		$(($(stat -c %s "$f") / 1024)) "$(dpkg-deb -f "$f" Installed-Size)"
done
echo "packages: $passed passed, 0 failed"
