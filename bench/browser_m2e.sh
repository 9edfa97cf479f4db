#!/bin/sh
# browser_m2e.sh BUILD_DIR: mouth to ear between Debian's headless Chromium running the
# page (web/page) and a real box in files mode, through the real intercomd (and the
# browser tests' stand-in for the gateway), each way over 32 presses of 0.6 s. Each
# press's delay is found in the audio (bench/wavdelay): the page's captured frames
# against what the box played, the box's capture file against a tap of what the page's
# player played; both clocks are the audio threads' own, device buffers excluded.
set -eu
b=${1:-build/default}
here=$(cd "$(dirname "$0")/.." && pwd)
export INTERCOMD="$b/intercomd" INTERCOM="$b/firmware/intercom" INTERCOM_WEB="$b/web/intercom-web" WAVDELAY="$b/bench/wavdelay"
export PAGE_DIR="$here/web/page"
echo "load: $(uptime)"
for way in bench_up bench_down; do
	python3 "$here/tests/browser/run.py" "$way" | grep -E '^BENCH|FAIL|Chromium [0-9]'
done
echo "load: $(uptime)"
