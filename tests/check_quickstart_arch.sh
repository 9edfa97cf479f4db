#!/bin/sh
# ./quickstart.sh deb ARCH refuses a name that is not Debian's before dpkg hears of it,
# naming the one meant and the names that work. dpkg and sudo are wrapped: an
# --add-architecture is recorded and refused, never made.
#   check_quickstart_arch.sh SOURCE_DIR
set -eu
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
mkdir "$d/bin"
real=$(command -v dpkg)
cat >"$d/bin/dpkg" <<W
#!/bin/sh
case " \$* " in *" --add-architecture "*) echo "\$*" >>"$d/added"; exit 1 ;; esac
exec "$real" "\$@"
W
printf '#!/bin/sh\nexec "$@"\n' >"$d/bin/sudo"
chmod +x "$d/bin/dpkg" "$d/bin/sudo"
check() { # ARCH WANT: refused, saying WANT and the names that work, dpkg untouched
	if PATH="$d/bin:$PATH" "$src/quickstart.sh" deb "$1" >"$d/out" 2>&1; then
		echo "FAIL: quickstart.sh deb $1 succeeded"; cat "$d/out"; exit 1
	fi
	grep -q "$2" "$d/out" || { echo "FAIL: deb $1 does not say '$2':"; cat "$d/out"; exit 1; }
	grep -q "the names that work: arm64 (64-bit Raspberry Pi OS), armhf (32-bit)" "$d/out" ||
		{ echo "FAIL: deb $1 does not name arm64 and armhf:"; cat "$d/out"; exit 1; }
	if [ -e "$d/added" ]; then
		echo "FAIL: deb $1 ran dpkg $(cat "$d/added")"; exit 1
	fi
}
src=$1
check aarch64 "Debian calls it arm64 (./quickstart.sh deb arm64)"
check armv7l "Debian calls it armhf"
check x86_64 "Debian calls it amd64"
check nonsense "unknown architecture 'nonsense'"
echo "quickstart.sh deb: 4 wrong names refused before dpkg: OK"
