#!/usr/bin/env bash
# pulse_air.sh: a private PulseAudio whose sinks run on a real clock (null sinks are paced
# by the system clock, as a sound card is by its crystal), for the clocked ALSA test and
# bench. Two boxes reach it through the ALSA pulse plugin (libasound2-plugins).
#
#   pulse_air.sh start DIR   start it; DIR/.asoundrc names the boxes' devices
#   pulse_air.sh stop DIR
#
# One stereo null sink "air" is the room: its left channel is what the talking box's
# microphone hears, its right channel what the listening box's speaker plays, so one
# recording of air.monitor holds both, on one clock, and their offset is mouth to ear.
#   mouthin   a sink: whatever is played into it is said into the talker's microphone
#   mouth_mic the talker's capture device (air's left channel)
#   ear_spk   the listener's playback device (air's right channel)
#   mouth_spk, ear_mic  the talker's speaker and the listener's microphone (a second,
#             silent null sink "spare"), so each box has a clocked device both ways
# And a box in a room with an echo (the echo canceller's test): its speaker "roomspk" is
# heard by its microphone "roommic" through a module-loopback (a real, clocked echo
# path, its delay unknown to the box).
#   room_mic, room_spk  that box's devices
# Exits 77 when PulseAudio or the ALSA pulse plugin is not installed.
set -euo pipefail
cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || {
	echo "usage: pulse_air.sh start|stop DIR" >&2
	exit 2
}
sock="$dir/native"
export XDG_RUNTIME_DIR="$dir" HOME="$dir" PULSE_RUNTIME_PATH="$dir/pulse" PULSE_SERVER="unix:$sock"

case "$cmd" in
start)
	command -v pulseaudio >/dev/null || {
		echo "pulse_air: pulseaudio is not installed (apt-get install pulseaudio)" >&2
		exit 77
	}
	ls /usr/lib/*/alsa-lib/libasound_module_pcm_pulse.so >/dev/null 2>&1 || {
		echo "pulse_air: the ALSA pulse plugin is missing (apt-get install libasound2-plugins)" >&2
		exit 77
	}
	mkdir -p "$dir/pulse"
	# real-time and high priority, as a desktop's PulseAudio runs (through rtkit): it
	# stands in for a card's clock, which other work on the machine never starves (where
	# they cannot be had, not root, PulseAudio runs without them)
	# --disable-shm: the clients' blocks over the socket (its memfd path logs "Cannot
	# send block reference" dozens of times a run, pulseaudio#824); --no-cpu-limit: a
	# daemon on a machine other builds hold must not end itself for the CPU it took
	pulseaudio --daemonize=yes --exit-idle-time=-1 -n --use-pid-file=yes \
		--high-priority=yes --realtime=yes --disable-shm=yes --no-cpu-limit=yes \
		--log-target="file:$dir/pulse.log" \
		-L "module-native-protocol-unix socket=$sock auth-anonymous=1" \
		-L "module-null-sink sink_name=air rate=48000 channels=2 channel_map=front-left,front-right" \
		-L "module-null-sink sink_name=spare rate=48000 channels=1 channel_map=mono" \
		-L "module-remap-sink sink_name=mouthin master=air rate=48000 channels=1 master_channel_map=front-left channel_map=mono remix=no" \
		-L "module-remap-sink sink_name=earout master=air rate=48000 channels=1 master_channel_map=front-right channel_map=mono remix=no" \
		-L "module-remap-source source_name=micsrc master=air.monitor rate=48000 channels=1 master_channel_map=front-left channel_map=mono remix=no" \
		-L "module-null-sink sink_name=roomspk rate=48000 channels=1 channel_map=mono" \
		-L "module-null-sink sink_name=roommic rate=48000 channels=1 channel_map=mono" \
		-L "module-loopback source=roomspk.monitor sink=roommic latency_msec=40 adjust_time=0 source_dont_move=true sink_dont_move=true" \
		2>>"$dir/pulse.log" || {
		echo "pulse_air: pulseaudio did not start; see $dir/pulse.log" >&2
		exit 1
	}
	for _ in $(seq 50); do
		pactl info >/dev/null 2>&1 && break
		sleep 0.1
	done
	pactl info >/dev/null 2>&1 || {
		echo "pulse_air: pulseaudio does not answer on $sock; see $dir/pulse.log" >&2
		exit 1
	}
	dev() { printf 'pcm.%s { type pulse server "unix:%s" device "%s" handle_underrun true }\n' "$1" "$sock" "$2"; }
	{
		dev mouth_mic micsrc
		dev mouth_spk spare
		dev ear_mic spare.monitor
		dev ear_spk earout
		dev room_mic roommic.monitor
		dev room_spk roomspk
	} >"$dir/.asoundrc"
	;;
stop)
	# a daemon gone before its test ended fails that test ("Connection refused" in a
	# box's log): say why, from its own log
	pulseaudio --check 2>/dev/null || {
		echo "pulse_air: PulseAudio had exited before its test ended; the end of $dir/pulse.log:" >&2
		tail -20 "$dir/pulse.log" >&2 || true
	}
	pulseaudio -k 2>/dev/null || true
	;;
*)
	echo "usage: pulse_air.sh start|stop DIR" >&2
	exit 2
	;;
esac
