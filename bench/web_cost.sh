#!/usr/bin/env bash
# web_cost.sh: intercom-web's instructions per relayed voice frame, counted by callgrind
# (repeatable whatever else the machine does): the gateway runs under callgrind while
# bench_web has a box talk to USERS pages (downlink) and one page talk to the box
# (uplink).
#   bench/web_cost.sh [BUILD_DIR] [USERS] [SECONDS]   (default build/default, 4, 4)
set -euo pipefail
b=${1:-build/default}
users=${2:-4}
secs=${3:-4}
command -v valgrind >/dev/null || { echo "web_cost.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
[ -n "${WEB_COST_KEEP:-}" ] && trap - EXIT && echo "files in $d" >&2
GW_WRAP="valgrind --tool=callgrind --callgrind-out-file=$d/cg" \
	"$b/bench/bench_web" "$users" "$secs" >"$d/out"
cat "$d/out"
callgrind_annotate --inclusive=yes "$d/cg" >"$d/annotated"
# inclusive count of FILE:FUNCTION in the annotated output
count() { awk -v f="$1 " '{ gsub(/,/, "", $1) } index($0, f) { print $1; exit }' "$d/annotated"; }
down=$(sed -n 's/.* \([0-9]*\) frames delivered.*/\1/p' "$d/out")
up=$(sed -n 's/^uplink: .*: \([0-9]*\) frames sent.*/\1/p' "$d/out")
on_voice=$(count 'web/up.c:on_voice')
input=$(count 'web/gw_ws.c:gw_ws_input')
tlsread=$(count 'common/tlsstep.c:tlsstep_read')
take=$(count 'web/gw.c:take')
awk -v d="$down" -v u="$up" -v ov="$on_voice" -v inp="$input" -v tr="$tlsread" -v tk="$take" 'BEGIN {
	printf "downlink, per frame delivered to a page (open under s2c, WebSocket frame, TLS record written): %d instructions\n", ov / d
	printf "uplink, per frame from a page (WebSocket unframe, RTP header, seal under c2s, send): %d instructions\n", inp / u
	printf "  and its TLS record read (every record a page sent this run, requests and pongs included, over the frames): %d instructions\n", (tr - tk) / u
}'
