#!/usr/bin/env bash
# mouth_to_ear.sh: mouth-to-ear delay through the real intercomd and two real intercom
# clients in files mode, at 20 ms and 10 ms frames, split into its parts.
#   bench/mouth_to_ear.sh [BUILD_DIR]      (default build/default; needs espeak-ng and sox)
set -euo pipefail
b=${1:-build/default}
d=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$d"' EXIT
espeak-ng -s 150 -w "$d/e.wav" "One two three four five six seven eight nine ten." 2>/dev/null
sox -q "$d/e.wav" -r 48000 -c 1 -b 16 -e signed-integer "$d/in.wav" pad 0.6 0
len=$(sox --info -D "$d/in.wav")
port=17600
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$b/intercomd" --bind 127.0.0.1 --port "$port" 2>/dev/null &
sleep 0.2
printf '%-6s %8s %8s %10s %10s %11s %12s %6s %6s\n' frame total frame lookahead "jb hold" playback "net+server" corr env
for fm in 20 10; do
	"$b/firmware/intercom" --server "127.0.0.1:$port" --nick Ear --frame-ms "$fm" \
		--playback-file "$d/out.wav" --exit-after "$(awk "BEGIN{print $len+1.5}")" 2>"$d/ear.log" &
	ear=$!
	sleep 0.2
	"$b/firmware/intercom" --server "127.0.0.1:$port" --nick Mouth --frame-ms "$fm" \
		--capture-file "$d/in.wav" --talk-after 0.5 --talk-for "$len" \
		--exit-after "$(awk "BEGIN{print $len+1}")" 2>"$d/mouth.log"
	wait $ear
	t1=$(grep -o 'started at [0-9]*' "$d/mouth.log" | grep -o '[0-9]*$')
	t2=$(grep -o 'started at [0-9]*' "$d/ear.log" | grep -o '[0-9]*$')
	r=$("$b/bench/wavdelay" "$d/in.wav" "$d/out.wav" --offset-ms $((t2 - t1)) --from 0.6 \
		--to "$(awk "BEGIN{print $len}")")
	total=$(echo "$r" | sed 's/delay_ms=\([0-9.]*\).*/\1/')
	corr=$(echo "$r" | sed 's/.*correlation=\([0-9.]*\).*/\1/')
	env=$(echo "$r" | sed 's/.*envelope=\([0-9.]*\).*/\1/')
	la=$(grep -o 'look-ahead [0-9.]*' "$d/mouth.log" | grep -o '[0-9.]*$')
	hold=$(grep -o 'hold [0-9.]*' "$d/ear.log" | grep -o '[0-9.]*$')
	# files mode writes each frame as the period that just ended: -1 frame against a card
	rest=$(awk "BEGIN{printf \"%.1f\", $total - $fm - $la - $hold + $fm}")
	printf '%3s ms %6s ms %5s ms %7s ms %7s ms %8s ms %9s ms %6s %6s\n' "$fm" "$total" "$fm" \
		"$la" "$hold" "-$fm" "$rest" "$corr" "$env"
done
echo "frame: the encoder needs the whole frame; jb hold: arrival to the listener's next"
echo "playout tick (the clocks' phase, 0 to 1 frame, plus any jitter buffering); playback:"
echo "files mode writes a frame as the period just ended; a sound card plays it after that,"
echo "from its buffer (the client keeps 1-2 periods queued), and its capture adds a period."
