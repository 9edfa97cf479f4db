#!/usr/bin/env bash
# clocked.sh: mouth to ear and xruns through sound devices with a real clock: the real
# intercomd and two real intercom boxes on PulseAudio null sinks, reached through the
# ALSA pulse plugin (tests/support/pulse_air.sh: one stereo recording holds what the
# talker's microphone heard and what the listener's speaker played, on one clock).
#
#   bench/clocked.sh [BUILD_DIR] [RUNS] [MINUTES]     (default build/default, 5, 1)
#
# For 20 ms and 10 ms frames: RUNS runs of 10 s, a click every 487 ms said into the
# talker's microphone while it holds push-to-talk; each click's delay to the listener's
# speaker (p50 and p95 over every click of every run; the runs start the boxes at other
# phases). Then RUNS runs with a 200 ms stall of the listener, each printing how long its
# delay took to come back. Then MINUTES of talk at each frame size (0: none), the
# underruns and overruns of both boxes counted per minute (and the share of the CPUs a
# virtual machine's host stole meanwhile: /proc/stat), the delay over the whole
# stretch (drift would grow it), and each box's CPU (user + system time over its run: a
# busy loop shows here). The boxes run at Nice -10 as the package runs them; the load
# average is printed before and after. CLOCKED_FRAMES="10" runs one frame size only;
# CLOCKED_RUN_AS replaces the unit's priority (e.g. "chrt -f 10", or "" for none);
# CLOCKED_ARGS adds flags to both boxes (e.g. "--echo-cancel no"); CLOCKED_KEEP=DIR keeps
# the last long run's recording and logs there.
# Needs pulseaudio, pulseaudio-utils and libasound2-plugins.
set -euo pipefail
b=${1:-build/default}
runs=${2:-5}
minutes=${3:-1}
here=$(cd "$(dirname "$0")/.." && pwd)
d=$(mktemp -d /tmp/clocked.XXXXXX)
"$here/tests/support/pulse_air.sh" start "$d" || exit $?
export HOME="$d" XDG_RUNTIME_DIR="$d" PULSE_SERVER="unix:$d/native"
trap 'kill $(jobs -p) 2>/dev/null || true; "$here/tests/support/pulse_air.sh" stop "$d"; rm -rf "$d"' EXIT

"$b/intercomd" --bind 127.0.0.1 --port 0 2>"$d/srv.log" &
for _ in $(seq 50); do
	port=$(sed -n 's/.*port \([0-9]*\) (TCP).*/\1/p' "$d/srv.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "clocked: intercomd did not start; see $d/srv.log" >&2; exit 1; }

# The boxes run as the package runs them: the unit's Nice= and CPUSchedulingPolicy=
# (board/systemd/intercom.service), where this may raise priority.
unit="$here/board/systemd/intercom.service"
deployed=
n=$(sed -n 's/^Nice=//p' "$unit")
[ -z "$n" ] || ! nice -n "$n" true 2>/dev/null || [ "$(nice -n "$n" nice)" -ne "$n" ] ||
	deployed="nice -n $n"
pol=$(sed -n 's/^CPUSchedulingPolicy=//p' "$unit")
prio=$(sed -n 's/^CPUSchedulingPriority=//p' "$unit")
if [ "$pol" = fifo ] && chrt -f "$prio" true 2>/dev/null; then
	deployed="chrt -f $prio"
fi
deployed=${CLOCKED_RUN_AS-$deployed}
echo "load: $(uptime | sed 's/.*load/load/'); boxes ${deployed:-at the default priority}; flags: ${CLOCKED_ARGS:-none}"

# one session: FRAME SECONDS CLICK_TRACK GAP [STALL] -> rec.wav, ear.log, mouth.log;
# with STALL, the listener is stopped for 200 ms STALL seconds after the clicks start,
# and stall_at is when that was in the recording (to within the recorder's start)
session() {
	local fm=$1 secs=$2 track=$3 gap=$4 stall=${5:-}
	parec --device=air.monitor --format=s16le --rate=48000 --channels=2 \
		--file-format=wav "$d/rec.wav" &
	local rec=$! rec_t0
	rec_t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S %e" -o "$d/ear.cpu" $deployed "$b/firmware/intercom" --server "127.0.0.1:$port" --nick Ear --frame-ms "$fm" \
		--capture-device ear_mic --playback-device ear_spk \
		--exit-after "$(awk "BEGIN{print $secs + 2.5}")" ${CLOCKED_ARGS:-} 2>"$d/ear.log" &
	local ear=$!
	sleep "$gap"
	/usr/bin/time -f "%U %S %e" -o "$d/mouth.cpu" $deployed "$b/firmware/intercom" --server "127.0.0.1:$port" --nick Mouth --frame-ms "$fm" \
		--capture-device mouth_mic --playback-device mouth_spk --talk-after 0.8 \
		--talk-for "$secs" --exit-after "$(awk "BEGIN{print $secs + 1.5}")" ${CLOCKED_ARGS:-} 2>"$d/mouth.log" &
	local mouth=$!
	sleep 1
	if [ -n "$stall" ]; then
		(
			sleep "$stall"
			box=$(pgrep -P "$ear")
			t=$(date +%s.%N)
			kill -STOP "$box"
			sleep 0.2
			kill -CONT "$box"
			awk "BEGIN{print $t - $rec_t0}" >"$d/stall_at"
		) &
	fi
	paplay --device=mouthin "$track"
	wait "$mouth" "$ear"
	kill -INT "$rec"
	wait "$rec" || true
}

cpu() { # a box's CPU (user + system) as a share of one core over its run
	awk '{printf "%.1f %%", ($1 + $2) * 100 / $3}' "$1"
}

cpustat() { # the machine's CPU time so far: all and stolen (jiffies; /proc/stat), as
	# bench_cpu_times counts them (user to steal: guest time is in user already)
	awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; print t, $9}' /proc/stat
}

stolen() { # the share of the machine a hypervisor took since cpustat printed $1 $2
	cpustat | awk -v t0="$1" -v s0="$2" '{printf "%.1f %%", ($1 > t0) ? ($2 - s0) * 100 / ($1 - t0) : 0}'
}

xruns() { # underruns+overruns in a box's log
	sed -n 's/.*sound card: \([0-9]*\) underruns, \([0-9]*\) overruns.*/\1 \2/p' "$1" |
		awk '{n += $1 + $2} END {print n + 0}'
}

# Of those, the ones that came while the talker held push-to-talk (the box logs each of
# its first five xruns as a time into its audio, on the monotonic clock both boxes
# share): the rest came as a box stopped. Xruns a box counted but did not log are
# counted as during the talk.
talk_xruns() { # EAR_LOG MOUTH_LOG
	local from to
	from=$(sed -n 's/.*push-to-talk pressed (scripted) at \([0-9]*\) ms.*/\1/p' "$2" | head -n1)
	to=$(sed -n 's/.*push-to-talk released (scripted) at \([0-9]*\) ms.*/\1/p' "$2" | head -n1)
	for log in "$1" "$2"; do
		awk -v from="${from:-0}" -v to="${to:-0}" -v all="$(xruns "$log")" '
			/audio clock started at/ { for (i = 1; i <= NF; i++) if ($i == "at") s = $(i + 1) }
			/capture delivering, / { for (i = 1; i <= NF; i++) if ($i == "ms") d = $(i - 1) }
			/ s into the audio/ {
				logged++
				for (i = 1; i <= NF; i++) if ($i == "s" && $(i + 1) == "into") t = s + d + $(i - 1) * 1000
				if (t >= from && t <= to) n++
			}
			END { print n + all - logged }' "$log"
	done | awk '{n += $1} END {print n + 0}'
}

"$b/bench/clickdelay" --make "$d/clicks.wav" 9 487
printf '%-7s %6s %7s %9s %9s %7s\n' frames runs clicks "p50" "p95" xruns
frames=${CLOCKED_FRAMES:-20 10}
for fm in $frames; do
	[ "$runs" -gt 0 ] || break
	all=()
	x=0
	for r in $(seq "$runs"); do
		session "$fm" 10 "$d/clicks.wav" "$(awk "BEGIN{print 0.3 + $r * $fm / 1000 / $runs}")"
		mv "$d/rec.wav" "$d/rec-$fm-$r.wav"
		all+=("$d/rec-$fm-$r.wav")
		x=$((x + $(xruns "$d/ear.log") + $(xruns "$d/mouth.log")))
	done
	r=$("$b/bench/clickdelay" "${all[@]}")
	v() { echo "$r" | sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
	printf '%3s ms %6s %7s %6s ms %6s ms %7s\n' "$fm" "$runs" "$(v clicks) ($(v missed) missed)" \
		"$(v p50_ms)" "$(v p95_ms)" "$x"
done

# Recovery after a 200 ms stall of the listener (kill -STOP, -CONT), 6 s into 14 s of
# clicks, RUNS times: from the stall to the delay back at no more than 10 ms over its
# median before (bench/clickdelay, CLICKDELAY_STALL_AT; the clicks' 487 ms spacing is
# the resolution), and the longest delay of the clicks around it (peak).
"$b/bench/clickdelay" --make "$d/stall.wav" 14 487
for fm in $frames; do
	[ "$runs" -gt 0 ] || break
	rs=()
	for r in $(seq "$runs"); do
		session "$fm" 14 "$d/stall.wav" "$(awk "BEGIN{print 0.3 + $r * $fm / 1000 / $runs}")" 6
		at=$(cat "$d/stall_at")
		o=$(CLICKDELAY_EACH=1 CLICKDELAY_STALL_AT=$at "$b/bench/clickdelay" "$d/rec.wav")
		peak=$(echo "$o" | awk -v s="$at" '/^at / && $2 >= s - 0.5 && $2 < s + 2 && $4 > m {m = $4} END {print m + 0}')
		rs+=("$(echo "$o" | sed -n 's/recovery_ms=//p') ms (p50 $(echo "$o" | sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p'), peak $peak)")
	done
	echo "$fm ms frames, a 200 ms stall of the listener: back to its p50 + 10 ms (or less) after"
	printf '  %s\n' "${rs[@]}"
done
echo "load: $(uptime | sed 's/.*load/load/')"

[ "$minutes" -gt 0 ] || exit 0
secs=$((minutes * 60))
"$b/bench/clickdelay" --make "$d/long.wav" "$((secs - 1))" 487
for fm in $frames; do
	c0=$(cpustat)
	session "$fm" "$secs" "$d/long.wav" 0.3
	# A VM's host that runs something else stops the whole guest, sound server and
	# boxes alike, for tens of ms: no priority inside can help (each box's longest
	# wait for a top-up is in its "the loop woke" line)
	echo "$fm ms frames: the hypervisor took $(stolen $c0) of the CPUs' time (steal)"
	x=$(($(xruns "$d/ear.log") + $(xruns "$d/mouth.log")))
	r=$("$b/bench/clickdelay" "$d/rec.wav")
	[ -z "${CLOCKED_KEEP:-}" ] || cp "$d/rec.wav" "$d/ear.log" "$d/mouth.log" "$CLOCKED_KEEP/"
	t=$(talk_xruns "$d/ear.log" "$d/mouth.log")
	echo "$fm ms frames, $minutes min of talk: xruns in both boxes $x ($(awk "BEGIN{printf \"%.2f\", $x / $minutes / 2}") per box per minute), $t of them during the talk, $((x - t)) as a box stopped; clicks ${r#clicks=}"
	echo "  CPU of one core: listener $(cpu "$d/ear.cpu"), talker $(cpu "$d/mouth.cpu")"
	grep -h "sound card:.*run\|the loop woke\|jitter buffer hold\|dropped" "$d/ear.log" "$d/mouth.log" || true
done
echo "load: $(uptime | sed 's/.*load/load/')"
