#!/bin/sh
# The shipped example configs stay true: with every key uncommented (their defaults),
# each program accepts its file. A key renamed or removed in the code fails this.
#   check_example_configs.sh INTERCOMD INTERCOM SOURCE_DIR
set -eu
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
sed 's/^#\([a-z_]* =\)/\1/' "$3/board/etc/intercomd.conf" > "$d/intercomd.conf"
sed 's/^#\([a-z_]* =\)/\1/' "$3/board/etc/intercom.conf" > "$d/intercom.conf"
n1=$(grep -c '^[a-z_]* =' "$d/intercomd.conf")
n2=$(grep -c '^[a-z_]* =' "$d/intercom.conf")
"$1" --config "$d/intercomd.conf" --check-config
"$2" --config "$d/intercom.conf" --check-config
# the examples as they are (board/examples: a door station ...), each a whole config
for e in "$3"/board/examples/*.conf; do
	"$2" --config "$e" --check-config
done
for b in "$3"/board/*.conf; do
	printf 'board = %s\n' "$b" > "$d/board.conf"
	"$2" --config "$d/board.conf" --check-config
done
echo "example configs: $n1 intercomd keys, $n2 intercom keys, $(ls "$3"/board/*.conf | wc -l) board files, $(ls "$3"/board/examples/*.conf | wc -l) examples: OK"
