#!/usr/bin/env python3
"""run.py SCENARIO: one browser test. Starts the real intercomd, the real intercom-web in
front of it (with --test-sink) and, where the scenario needs them, real boxes (firmware
`intercom` in files mode); enrolls Chromium's profile with a link from --add-user, runs
Debian's headless Chromium on ?test=SCENARIO (the page scripts itself and posts its
results to the sink), then checks them. Exit 0 pass, 1 fail, 77 skip (no chromium).
Environment: INTERCOMD, INTERCOM, INTERCOM_WEB, WAVDELAY (the built programs), PAGE_DIR
(web/page, served over plain http from a LAN name for the unsupported-browser check)."""
import http.server
import json
import ssl
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import wave


SKIP = 77
# Every flag Chromium runs with, in one place (they change with security updates:
# the version is logged beside them). --no-sandbox: CI runs as root.
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
    "--disable-dev-shm-usage",  # a container's /dev/shm is often 64 MiB
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required", "--mute-audio",
    "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
    "--enable-logging=stderr", "--log-level=0",
    # a name that is not loopback, for a page that is not a secure context (as on a LAN)
    "--host-resolver-rules=MAP lan.test 127.0.0.1",
    # the gateway's certificate comes from its own CA, which this profile does not hold
    "--ignore-certificate-errors",
]
BROWSER_NICK = "Phone"
# the page's status line, exactly, when its WebSocket never opened (web/page/app.js)
NOT_ENROLLED = "not enrolled in this browser: open your enrollment link"
NOT_ANSWERING = "the gateway is not answering"
SCENARIO_S = 60  # the bound on one scenario's browser run, generous for a busy machine


def log(*a):
    print("browser:", *a, flush=True)


def fail(msg):
    log("FAIL:", msg)
    sys.exit(1)


class Unheard(Exception):
    """Audio that did not match what was said (envelope under 0.9 or windowed under 0.7).
    A machine overloaded past its cores starves the browser's audio thread too; main()
    runs such a scenario once more, and fails if it misses again."""


def heard(v, what):
    """v (stretches()'s verdict) is the audio said, or Unheard(what: v)."""
    if not v or v[0] < 0.9 or v[1] < 0.7:
        raise Unheard("%s: %s" % (what, v))


class Proc:
    def __init__(self, argv, logpath):
        self.logpath = logpath
        self.fh = open(logpath, "wb")
        self.p = subprocess.Popen(argv, stdout=self.fh, stderr=subprocess.STDOUT)

    def text(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, pattern, s=20):
        t0 = time.monotonic()
        while time.monotonic() - t0 < s:
            m = re.search(pattern, self.text())
            if m:
                return m
            if self.p.poll() is not None:
                break
            time.sleep(0.02)
        sys.stdout.write(self.text())
        fail("no %r in %s" % (pattern, self.logpath))

    def stop(self):
        """SIGTERM and wait; the exit status (a server must exit 0: under the sanitize
        preset a leak or an error report makes it fail)."""
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(20)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        if not self.fh.closed:
            self.fh.close()
        return self.p.returncode


def speech_wav(path, seconds, seed=7):
    """A voice-like signal: syllables of gliding pitch with a harmonic, of random length
    and loudness, so it has one true alignment."""
    rnd, rate, out, t = random.Random(seed), 48000, bytearray(), 0
    n_total = seconds * rate
    while t < n_total:
        n = int(rate * rnd.uniform(0.12, 0.3))
        gap = int(rate * rnd.uniform(0.04, 0.15))
        f0, f1, amp, ph = rnd.uniform(120, 260), rnd.uniform(120, 260), rnd.uniform(0.2, 0.6), 0.0
        for i in range(n):
            f = f0 + (f1 - f0) * i / n
            ph += 2 * math.pi * f / rate
            env = math.sin(math.pi * i / n)
            v = amp * env * (0.7 * math.sin(ph) + 0.3 * math.sin(3 * ph))
            out += int(v * 32767).to_bytes(2, "little", signed=True)
        out += b"\0\0" * gap
        t += n + gap
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(out[: n_total * 2]))


def compare(in_wav, out_wav, offset_ms, frm, to):
    """wavdelay's verdict: (delay_ms, correlation, envelope, windowed) or None."""
    r = subprocess.run([os.environ["WAVDELAY"], in_wav, out_wav, "--offset-ms", "%d" % offset_ms,
                        "--from", "%.2f" % frm, "--to", "%.2f" % to], capture_output=True, text=True)
    log("wavdelay:", r.stdout.strip(), r.stderr.strip())
    m = re.search(r"delay_ms=(\S+) correlation=(\S+) envelope=(\S+) windowed=(\S+)", r.stdout)
    return tuple(float(x) for x in m.groups()) if m else None


def stretches(in_wav, out_wav, offset_ms, frm, to, stretch_s=0.6):
    """compare() stretch by stretch, each at its own delay (as speech_stretches in
    tests/integration/speech.c): a listener starved for a moment comes back with its
    jitter buffer grown, later but not lost. Returns the median envelope, the median
    windowed correlation and the least delay, or None when a stretch found no match."""
    n = max(1, int(round((to - frm) / stretch_s)))
    got = []
    for k in range(n):
        v = compare(in_wav, out_wav, offset_ms, frm + (to - frm) * k / n, frm + (to - frm) * (k + 1) / n)
        if not v:
            return None
        got.append(v)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    return med([v[2] for v in got]), med([v[3] for v in got]), min(v[0] for v in got)


class Run:
    """One scenario's world: intercomd (TLS, as installed), intercom-web in front of it with
    the page enrolled as BROWSER_NICK, boxes, and Chromium."""

    def __init__(self, name):
        self.name, self.procs, self.chrome = name, [], None
        self.dir = tempfile.mkdtemp(prefix="ic-browser-%s-" % name)
        self.sink = os.path.join(self.dir, "sink")
        os.mkdir(self.sink)
        self.wav = os.path.join(self.dir, "speech.wav")
        speech_wav(self.wav, 60 if name.startswith("bench") else 16)
        self.srv = Proc([os.environ["INTERCOMD"], "--bind", "127.0.0.1", "--port", "0",
                         "--state-dir", os.path.join(self.dir, "srv")], os.path.join(self.dir, "intercomd.log"))
        self.procs.append(self.srv)
        m = self.srv.wait_log(r"port (\d+) \(TCP\) and (\d+) \(UDP voice\)")
        self.port = int(m[1])
        self.web_args = [os.environ["INTERCOM_WEB"], "--config", "/dev/null", "--state-dir",
                         os.path.join(self.dir, "web"), "--name", "127.0.0.1", "--server", "127.0.0.1",
                         "--server-port", str(self.port), "--port", "0", "--http-port", "0"]
        extra = ["--keepalive", str(FROZEN_KEEPALIVE_S)] if name == "frozen" else []
        self.web = Proc(self.web_args + extra + ["--verbose", "--test-sink", self.sink],
                        os.path.join(self.dir, "web.log"))
        self.procs.append(self.web)
        self.web_port = int(self.web.wait_log(r"https and WebSocket on port (\d+)")[1])
        self.origin = "https://127.0.0.1:%d" % self.web_port

    def add_user(self, nick):
        """intercom-web --add-user: the enrollment link, on the running gateway's port."""
        r = subprocess.run(self.web_args + ["--add-user", nick], capture_output=True, text=True, timeout=30)
        m = re.search(r"/enroll\?t=([0-9a-f]{64})", r.stdout + r.stderr)
        if r.returncode or not m:
            fail("intercom-web --add-user %s: %s%s" % (nick, r.stdout, r.stderr))
        return self.origin + "/enroll?t=" + m[1]

    def dump_dom(self, url, profile="profile"):
        """Chromium opens url (following redirects) and prints the DOM it ended on."""
        r = subprocess.run(["chromium"] + CHROMIUM_FLAGS + ["--user-data-dir=" + os.path.join(self.dir, profile),
                            "--dump-dom", url], capture_output=True, text=True, timeout=SCENARIO_S)
        return r.stdout

    def enroll(self, nick=None):
        dom = self.dump_dom(self.add_user(nick or BROWSER_NICK))
        if 'id="ptt"' not in dom:
            fail("enrollment did not lead to the page: %r" % dom[:300])

    def wait_result(self, name, s=SCENARIO_S):
        """The file the page posted to the gateway's test sink (a JSON once it parses)."""
        path, t0 = os.path.join(self.sink, name), time.monotonic()
        while time.monotonic() - t0 < s:
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
                try:
                    if name.endswith(".json"):
                        json.loads(data)
                    return data
                except ValueError:
                    pass  # still being written
            if self.chrome and self.chrome.p.poll() is not None:
                fail("Chromium exited (%s)" % self.chrome.logpath)
            time.sleep(0.05)
        fail("the page posted no %s within %d s (Chromium's log: %s)" % (
            name, s, self.chrome.logpath if self.chrome else "-"))

    def box(self, nick, *extra):
        p = Proc([os.environ["INTERCOM"], "--server", "127.0.0.1:%d" % self.port, "--nick", nick,
                  "--state-dir", os.path.join(self.dir, "box-" + nick)] + list(extra),
                 os.path.join(self.dir, nick + ".log"))
        self.procs.append(p)
        return p

    def browser(self, query, origin=None, name=None, profile="profile"):
        url = "%s/?%s%s" % (origin or self.origin, "" if name else "test=%s&" % self.name, query)
        argv = ["chromium"] + CHROMIUM_FLAGS + [
            "--user-data-dir=" + os.path.join(self.dir, profile),
            "--use-file-for-fake-audio-capture=" + self.wav, url]
        log("chromium:", " ".join(argv))
        self.chrome = Proc(argv, os.path.join(self.dir, "chromium.log"))
        self.procs.append(self.chrome)

    def result(self, s=SCENARIO_S):
        r = json.loads(self.wait_result(self.name + ".json", s))
        if "error" in r or "unsupported" in r:
            fail("the page says: %s" % r)
        return r

    def done(self):
        bad = []
        for p in reversed(self.procs):
            if p.stop() and p.logpath.endswith(("intercomd.log", "web.log", "web2.log")):
                bad.append(p.logpath)
        for path in bad:
            with open(path, errors="replace") as f:
                sys.stdout.write(f.read()[-4000:])
        if os.environ.get("KEEP"):
            log("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        if bad:
            fail("did not exit cleanly: %s" % ", ".join(bad))


def box_t0_epoch_ms(box):
    """The box logs its audio clock start on CLOCK_MONOTONIC; the page's clock is the
    wall clock. Python's time.monotonic() is CLOCK_MONOTONIC on Linux."""
    mono = int(box.wait_log(r"audio clock started at (\d+) ms")[1])
    return mono + (time.time() - time.monotonic()) * 1000


class Peer:
    """A protocol client of its own (TLS 1.3 with a fresh Ed25519 identity, as a box) for
    the roster and message checks."""

    def __init__(self, run, nick):
        key, crt = os.path.join(run.dir, nick + ".key"), os.path.join(run.dir, nick + ".crt")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", key, "-out", crt,
                        "-subj", "/CN=" + nick, "-days", "2"], check=True, capture_output=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # a test: the server is ours
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(crt, key)
        self.s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", run.port)))
        self.buf, self.lines = b"", []
        self.send('CONNECT: "%s" "Peer" 1.2.0' % nick)

    def send(self, line):
        self.s.sendall((line + "\n").encode())

    def wait(self, pattern, s=SCENARIO_S):
        t0 = time.monotonic()
        self.s.settimeout(0.5)
        while time.monotonic() - t0 < s:
            for i, line in enumerate(self.lines):
                if re.search(pattern, line):
                    del self.lines[: i + 1]
                    return line
            try:
                d = self.s.recv(65536)
            except (socket.timeout, ssl.SSLWantReadError):
                continue
            if not d:
                break
            self.buf += d
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.decode()
                if line.startswith("PING: "):
                    self.send("PONG: " + line[6:])
                self.lines.append(line)
        fail("the peer never got %r (it got %s)" % (pattern, self.lines[-5:]))


def roster(run):
    """Roster and messages both ways between the page and a protocol client."""
    run.enroll()
    bob = Peer(run, "Bob")
    bob.wait(r"^JOINED: #Lobby")
    run.browser("peer=Bob")
    bob.wait(r"^USERLIST #Lobby: .*\b%s\b" % BROWSER_NICK)
    bob.send("PRIVMSG %s: hi from Bob" % BROWSER_NICK)
    bob.send("PRIVMSG #Lobby: hi all from Bob")
    bob.wait(r"^PRIVMSG %s: hello Bob from the page$" % BROWSER_NICK)
    bob.wait(r"^PRIVMSG #Lobby %s: hello room from the page$" % BROWSER_NICK)
    bob.send("JOIN: #Kitchen")
    bob.wait(r"^USERLIST #Kitchen: .*\b%s\b" % BROWSER_NICK)
    r = run.result()
    if BROWSER_NICK not in r["rooms"].get("#Kitchen", []) or "Bob" not in r["rooms"]["#Kitchen"]:
        fail("the page's #Kitchen: %s" % r["rooms"])
    for shown in ("Bob: hi from Bob", "#Lobby Bob: hi all from Bob"):
        if shown not in r["messagesShown"]:
            fail("the page shows no %r: %r" % (shown, r["messagesShown"]))
    if not (r["spaceOn"] and r["spaceOff"] and r["typingIgnored"]):
        fail("the Space key is not the push-to-talk button (or works while typing): %s" % r)
    if "#Kitchen" not in r["roomsShown"] or "Bob" not in r["users"]:
        fail("rooms shown %r, users shown %r" % (r["roomsShown"], r["users"]))
    log("roster and messages both ways: ok")


def talk(run):
    """Push-to-talk browser -> box: the box plays what the page captured."""
    run.enroll()
    out = os.path.join(run.dir, "box-out.wav")
    box = run.box("Box", "--playback-file", out, "--exit-after", "30")
    box.wait_log(r"status: online #Lobby")
    # after=1500: a Chromium just started keeps a core busy for a second or so; on a loaded
    # two-core machine a press at once had its first frames late (the box's delay moved
    # from 187 to 37 ms within the press) while a press later never did
    run.browser("peer=Box&ms=3000&after=1500")
    r = run.result()
    box.stop()
    sent = r["stats"]["sent"]
    log("page sent %d packets for %d captured frames" % (sent, r["frames"]))
    if sent < r["frames"] * 0.95 or sent < 140:
        fail("the page sent %d of %d frames" % (sent, r["frames"]))
    cap = os.path.join(run.sink, "talk.wav")
    offset = box_t0_epoch_ms(box) - r["t0"]
    v = stretches(cap, out, offset, 0.2, 2.9)
    heard(v, "the box did not play what the page captured")
    log("browser -> box: envelope %.3f windowed %.3f, delay %.1f ms" % v)


def listen(run):
    """Box -> browser: the page plays what the box captured (a tap of the player)."""
    run.enroll()
    run.browser("ms=7000")
    run.wait_result("listen.ready")
    box = run.box("Box", "--capture-file", run.wav, "--talk-after", "1", "--talk-for", "4",
                  "--exit-after", "6")
    r = run.result()
    box.p.wait(30)
    sent = int(re.search(r"voice: sent (\d+)", box.text())[1])
    log("box sent %d, page received %d, decoded %d, player %s" % (
        sent, r["stats"]["received"], r["stats"]["decoded"], r["player"]))
    if r["stats"]["decoded"] < sent * 0.95:
        fail("the page decoded %d of %d packets" % (r["stats"]["decoded"], sent))
    offset = r["t0"] - box_t0_epoch_ms(box)
    v = stretches(run.wav, os.path.join(run.sink, "listen.wav"), offset, 1.2, 4.8)
    heard(v, "the page did not play what the box captured")
    log("box -> browser: envelope %.3f windowed %.3f, delay %.1f ms" % v)


class PlainPage(http.server.BaseHTTPRequestHandler):
    """The page's files over plain http, as a gateway misconfigured behind an http proxy
    would serve them, and the test sink (only for the unsupported-browser check)."""

    def log_message(self, *a):
        pass

    def do_GET(self):
        name = self.path.split("?")[0].lstrip("/") or "index.html"
        path = os.path.join(os.environ["PAGE_DIR"], name)
        if "/" in name or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if name.endswith(".html") else "text/javascript")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        name = re.search(r"name=([a-z0-9_.-]{1,64})$", self.path)[1]
        with open(os.path.join(self.server.sink, name), "wb") as f:
            f.write(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()


def unsupported(run):
    """Over plain http from a LAN name (no secure context: no microphone, WebCodecs or
    AudioWorklet) the page says what is missing and which browsers work."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PlainPage)
    httpd.sink = run.sink
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        run.browser("", origin="http://lan.test:%d" % httpd.server_address[1])
        r = json.loads(run.wait_result("unsupported.json"))
    finally:
        httpd.shutdown()
    log("the page says: %s" % r)
    if "a secure (https) page" not in r.get("unsupported", []) or not r.get("appHidden"):
        fail("the page did not refuse an insecure context: %s" % r)
    for want in ("https", "Chrome", "Safari 26", "Firefox for Android"):
        if want not in r["shown"]:
            fail("the page's explanation lacks %r: %r" % (want, r["shown"]))


def call(run):
    """A box calls the page: it rings (with its tone), the page accepts, the call is
    hands-free both ways (the browser's echo cancellation, noise suppression and gain
    control on), and the page's End ends it at the box."""
    run.enroll()
    out = os.path.join(run.dir, "box-out.wav")
    run.browser("peer=Door&ms=4000")
    run.wait_result("call.ready")
    box = run.box("Door", "--call", BROWSER_NICK, "--capture-file", run.wav, "--playback-file", out,
                  "--exit-after", "14")
    r = run.result()
    rang(r, "Door")
    answered(run, box, r, out, "Door")


def rang(r, caller):
    """The page showed caller's ring with its tone, and the tone stopped once answered."""
    log("rang: %s" % r["rang"])
    if not (r["rang"]["shown"] and r["rang"]["tone"] and r["rang"]["from"] == caller) or r["toneAfter"]:
        fail("the ring was not shown and heard, or its tone went on: %s" % r)


def answered(run, box, r, out, caller):
    """The page is in a call with caller: hands-free both ways, and the page's End."""
    box.wait_log(r"in call with %s" % BROWSER_NICK)
    box.p.wait(30)
    log("call settings %s; page sent %d, decoded %d" % (r["settings"], r["stats"]["sent"], r["stats"]["decoded"]))
    if not all(r["settings"].values()):
        fail("the call's microphone lacks the browser's processing: %s" % r["settings"])
    if not r["pttDisabled"]:
        fail("push-to-talk stayed on during a hands-free call")
    last = re.findall(r"status: .*", box.text())[-1]
    if "in call" in last:
        fail("the page's End did not end the call at the box: %r" % last)
    t0 = box_t0_epoch_ms(box)
    acc = (r["accepted"] - t0) / 1000  # the call, on the box's clock
    got = stretches(run.wav, os.path.join(run.sink, run.name + "-heard.wav"), r["heardT0"] - t0, acc + 0.5, acc + 3.5)
    said = stretches(os.path.join(run.sink, run.name + ".wav"), out, t0 - r["t0"], 0.5, 3.5)
    log("box -> browser %s, browser -> box %s (envelope, windowed, delay ms)" % (got, said))
    heard(got, "the page did not hear the door hands-free")
    heard(said, "the door did not hear the page hands-free")


def house(run):
    """A door box rings #House where the page and a kitchen box wait: both ring, the page
    accepts, the kitchen's ring stops, and the call is hands-free both ways."""
    run.enroll()
    out = os.path.join(run.dir, "box-out.wav")
    kitchen = run.box("Kitchen", "--join", "#House", "--playback-file", "/dev/null", "--exit-after", "25")
    kitchen.wait_log(r"status: online #House")
    run.browser("peer=Kitchen&room=%23House&ms=4000")
    run.wait_result("house.ready")
    door = run.box("Door", "--call", "#House", "--capture-file", run.wav, "--playback-file", out,
                   "--exit-after", "14")
    r = run.result()
    if r["rang"]["group"] != "#House" or "#House" not in r["rang"]["text"]:
        fail("the page's ring did not name the group: %s" % r["rang"])
    rang(r, "Door")
    answered(run, door, r, out, "Door")
    klog = kitchen.text()
    at = klog.find("call from Door (#House)")
    if at < 0:
        fail("the kitchen box never rang")
    after = re.findall(r"status: .*", klog[at:])
    if "call from" in after[-1] or "in call" in klog:
        fail("the kitchen's ring did not stop, or it took the call: %r" % after)
    log("the kitchen rang (%r) and stopped (%r)" % (after[0], after[-1]))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]


def press_delays(in_wav, out_wav, offset_ms, starts, on_s):
    """Mouth to ear of each press, from the talker's audio (IN's clock) to the
    listener's: the delay of each press's window; presses with no match are counted."""
    got, missed = [], 0
    for t in starts:
        v = compare(in_wav, out_wav, offset_ms, t + 0.1, t + on_s - 0.05)
        if v and v[2] > 0.8:
            got.append(v[0])
        else:
            missed += 1
    return got, missed


def m2e_report(what, got, missed):
    if len(got) < 30:
        fail("%s: only %d presses matched (%d missed)" % (what, len(got), missed))
    print("BENCH %s mouth to ear p50 %.1f ms p95 %.1f ms over %d presses (%d missed), device buffers excluded" % (
        what, pct(got, 50), pct(got, 95), len(got), missed), flush=True)


def bench_up(run, n=32, on=0.6, off=0.6):
    """bench: browser -> box mouth to ear over n presses (bench/browser_m2e.sh)."""
    run.enroll()
    out = os.path.join(run.dir, "box-out.wav")
    box = run.box("Box", "--playback-file", out, "--exit-after", "%d" % (n * (on + off) + 40))
    box.wait_log(r"status: online #Lobby")
    run.browser("test=presses&peer=Box&n=%d&on=%d&off=%d" % (n, on * 1000, off * 1000), name="presses")
    r = json.loads(run.wait_result("presses.json", SCENARIO_S + n * (on + off)))
    if "presses" not in r:
        fail("the page says: %s" % r)
    box.stop()
    starts = [(p - r["t0"]) / 1000 for p in r["presses"]]
    got, missed = press_delays(os.path.join(run.sink, "presses.wav"), out, box_t0_epoch_ms(box) - r["t0"], starts, on)
    m2e_report("browser -> box", got, missed)


def bench_down(run, n=32, on=0.6, off=0.6):
    """bench: box -> browser mouth to ear over n presses (bench/browser_m2e.sh)."""
    run.enroll()
    ms = int((n * (on + off) + 3) * 1000)
    run.browser("test=listen&ms=%d" % ms, name="listen")
    run.wait_result("listen.ready")
    box = run.box("Box", "--capture-file", run.wav, "--talk-after", "1", "--talk-for", "%.2f" % on,
                  "--talk-every", "%.2f" % (on + off), "--exit-after", "%.1f" % (ms / 1000))
    r = json.loads(run.wait_result("listen.json", SCENARIO_S + ms / 1000))
    box.p.wait(30)
    starts = [1 + i * (on + off) for i in range(n)]
    got, missed = press_delays(run.wav, os.path.join(run.sink, "listen.wav"), r["t0"] - box_t0_epoch_ms(box),
                               starts, on)
    m2e_report("box -> browser", got, missed)


def enroll(run):
    """A link works once, in one browser; a used or forged link is refused; a browser
    without the cookie is refused the WebSocket and its page says it is not enrolled."""
    link = run.add_user(BROWSER_NICK)
    if 'id="ptt"' not in run.dump_dom(link):
        fail("the link did not lead to the page")
    forged = link[:-1] + ("0" if link[-1] != "0" else "1")
    for what, url in (("used", link), ("forged", forged)):
        dom = run.dump_dom(url, profile="other")
        if "Enrollment refused" not in dom or 'id="ptt"' in dom:
            fail("a %s link was not refused: %r" % (what, dom[:300]))
    run.browser("", profile="other")  # never enrolled: no cookie
    refused = json.loads(run.wait_result("enroll.ready"))
    log("without the cookie the page says %r" % refused["status"])
    if refused["online"] or refused["lines"] or refused["status"] != NOT_ENROLLED:
        fail("a browser without the cookie got in, or was not told exactly: %s" % refused)
    run.web.wait_log(r"WebSocket refused: no valid enrollment cookie")
    if BROWSER_NICK.lower() in run.srv.text().lower():
        fail("the server saw the unenrolled browser's nick")
    # the gateway stops under the open page: it says so (Chromium logs the page's status
    # lines, the sink being gone with the gateway), then the gateway comes back
    run.web.stop()
    run.chrome.wait_log(r"status: %s" % NOT_ANSWERING, SCENARIO_S)
    restart_web(run)
    r = run.result()
    log("gateway stopped: %r; back: %r" % (NOT_ANSWERING, r["back"]))
    if r["back"] != NOT_ENROLLED or r["online"] or r["lines"]:
        fail("after the gateway came back the page says %s" % r)


def restart_web(run):
    """intercom-web again on the same port (the page reconnects there), as web2.log."""
    run.web = Proc(run.web_args[:-4] + ["--port", str(run.web_port), "--http-port", "0", "--verbose",
                                        "--test-sink", run.sink], os.path.join(run.dir, "web2.log"))
    run.procs.append(run.web)
    run.web.wait_log(r"https and WebSocket on port %d" % run.web_port)


def vanish(run):
    """The browser is killed while it talks: the server drops its session (the others see
    it leave), the box goes on, and the same browser talks again when it comes back."""
    run.enroll()
    out = os.path.join(run.dir, "box-out.wav")
    box = run.box("Box", "--playback-file", out, "--exit-after", "60")
    box.wait_log(r"status: online #Lobby")
    bob = Peer(run, "Bob")
    run.browser("test=vanish&peer=Box", name="vanish")
    run.wait_result("vanish.ready")
    bob.wait(r"^USERLIST #Lobby: .*\b%s\b" % BROWSER_NICK)
    run.chrome.p.kill()  # SIGKILL: no close frame, no unload
    run.chrome.p.wait()
    bob.wait(r"^USERLIST #Lobby: (?!.*\b%s\b)" % BROWSER_NICK)
    log("the server dropped the vanished browser's session")
    run.name = "talk"
    run.browser("test=talk&peer=Box&ms=3000&after=1500", name="talk")
    r = run.result()
    if box.p.poll() is not None:
        fail("the box did not go on")
    box.stop()
    v = stretches(os.path.join(run.sink, "talk.wav"), out, box_t0_epoch_ms(box) - r["t0"], 0.2, 2.9)
    heard(v, "after coming back the page was not heard")
    log("back again, browser -> box: envelope %.3f windowed %.3f, delay %.1f ms" % v)


def reconnect(run):
    """The gateway restarts under an open page: the page says it is offline and logs in
    again by itself (its backoff), with its rooms back."""
    run.enroll()
    run.browser("")
    run.wait_result("reconnect.ready")
    run.web.stop()
    restart_web(run)
    r = run.result()
    log("gone: %r; back: %r after %d closes" % (r["gone"], r["status"], r["closes"]))
    if "offline" not in r["gone"] or r["closes"] < 1 or BROWSER_NICK not in r["lobby"]:
        fail("the page did not come back: %s" % r)
    run.web.wait_log(r"WebSocket of user %s" % BROWSER_NICK)


FROZEN_KEEPALIVE_S = 2  # the gateway's --keepalive in "frozen": given up after 6 s


def frozen(run):
    """The gateway stops answering without closing anything (SIGSTOP: as a phone sees it
    when its Wi-Fi goes, no FIN ever comes): the page gives its socket up after three
    missed keepalives and says so, and is back online by itself once the gateway
    answers again; the gateway drops the old connection."""
    run.enroll()
    run.browser("")
    run.wait_result("frozen.ready")
    at = len(run.chrome.text())
    os.kill(run.web.p.pid, signal.SIGSTOP)
    t0 = time.monotonic()
    try:
        m = run.chrome.wait_log(r"status: offline \(the gateway stopped answering\)[^\"]*", SCENARIO_S)
        noticed = time.monotonic() - t0
    finally:
        os.kill(run.web.p.pid, signal.SIGCONT)
    if m.start() < at:
        fail("the page said it before the gateway stopped: %r" % m[0])
    r = run.result()
    log("given up %.1f s after the gateway froze (keepalive %d s): %r; back: %r after %d closes"
        % (noticed, FROZEN_KEEPALIVE_S, r["gone"], r["status"], r["closes"]))
    if "stopped answering" not in r["gone"] or BROWSER_NICK not in r["lobby"]:
        fail("the page did not give up and come back: %s" % r)
    # the gateway: its old connection ends (the page's close frame, or silent), the new
    # one logs in
    run.web.wait_log(r"WebSocket of user %s(.|\n)*WebSocket of user %s" % (BROWSER_NICK, BROWSER_NICK))


def jitter(run):
    """The player's jitter buffer and mixer (worklet.js) in Chromium, on a clock the test
    drives: silent until 40 ms are buffered, an underrun raises the target by 10 ms, the
    end of a spurt is no underrun, a stall's burst never leaves more than 60 ms over the
    target, 5 s of
    calm lower it again, and two talkers add up."""
    run.browser("")
    r = run.result()
    log("worklet: %s" % r)
    want = {"silentBelowStart": True, "playsAtStart": True, "underrunRaises": [1, 2400],
            "catchUp": [True, True, 1920], "endIsNoUnderrun": 0, "calmLowers": 1920, "mixed": 0.75}
    for k, v in want.items():
        if r[k] != v:
            fail("%s: %s, want %s" % (k, r[k], v))


def callout(run):
    """The page calls a box that answers by itself: hands-free both ways, then the
    page's End ends it at the box."""
    run.enroll()
    out = os.path.join(run.dir, "box-out.wav")
    box = run.box("Door", "--auto-accept", "--capture-file", run.wav, "--playback-file", out,
                  "--exit-after", "16")
    box.wait_log(r"status: online #Lobby")
    run.browser("peer=Door&ms=4000")
    r = run.result()
    if "calling Door" not in r["calling"]:
        fail("the status line did not say it was calling: %r" % r["calling"])
    answered(run, box, r, out, "Door")


def callfail(run):
    """The page calls a nick nobody has, then rings #House (where a box waits) until
    intercomd says FLOOD: each ERROR is shown on the status line and in the messages, the
    page leaves its calling state, and its Call button is enabled again."""
    run.enroll()
    kitchen = run.box("Kitchen", "--join", "#House", "--playback-file", "/dev/null", "--exit-after", "40")
    kitchen.wait_log(r"status: online #House")
    run.browser("room=%23House")
    r = run.result()
    log("nobody: %s; rings: %s" % (r["nobody"], r["rings"]))
    want = "call to Nobody failed: NO_SUCH_USER: no such user online"
    n = r["nobody"]
    if n["calling"] != "calling Nobody" or not n["refused"] or n["status"] != want or n["callDisabled"]:
        fail("a call to an unknown nick: %s, want the status %r" % (n, want))
    last = r["rings"][-1]
    want = "call to #House failed: FLOOD: one ring of a room every 2 s: wait, then ring again"
    if not last["refused"] or last["status"] != want or last["callDisabled"] or len(r["rings"]) < 2:
        fail("rings of a room too often: %s, want the status %r" % (r["rings"], want))
    if any(x["refused"] for x in r["rings"][:-1]) or last["calling"] != "calling #House":
        fail("a ring let through was taken for refused: %s" % r["rings"])
    for shown in ("NO_SUCH_USER: no such user online", "FLOOD: one ring of a room every 2 s"):
        if shown not in r["messagesShown"]:
            fail("the messages do not show %r: %r" % (shown, r["messagesShown"]))
    if r["ringTone"]:
        fail("a tone still plays")
    if "call from %s (#House)" % BROWSER_NICK not in kitchen.text():
        fail("the kitchen box never rang")


def dropcall(run):
    """The gateway goes away while the page is in a call: the server ends the call (the box
    is back online), the page leaves the call, says so and closes the call's microphone;
    back online, a microphone that opens after its call ended is closed, a page sent to
    the background lets go of push-to-talk, and sound the browser suspended is shown and
    started again by the next touch."""
    run.enroll()
    box = run.box("Door", "--auto-accept", "--capture-file", run.wav, "--playback-file", "/dev/null",
                  "--exit-after", "90")
    box.wait_log(r"status: online #Lobby")
    run.browser("peer=Door")
    run.wait_result("dropcall.ready")
    box.wait_log(r"in call with %s" % BROWSER_NICK)
    run.web.stop()
    box.wait_log(r"in call with %s[\s\S]*status: online" % BROWSER_NICK)
    restart_web(run)
    r = run.result()
    log("dropped: %s; late: %s; hidden: %s; hint: %r" % (r["dropped"], r["late"], r["hidden"], r["hint"]))
    d = r["dropped"]
    if d["callStream"] or d["track"] != "ended" or "In a call" in d["ptt"] or not d["endHidden"]:
        fail("the page stayed in the call, or its microphone open: %s" % d)
    # ended by the close, or by the gateway's WEB STATE offline just before it
    if "call with Door ended: the " not in d["messagesShown"]:
        fail("the page did not say the call ended: %r" % d["messagesShown"])
    if "offline" not in d["status"] and d["status"] != NOT_ANSWERING:
        fail("the status line did not say the page is offline: %r" % d["status"])
    if r["late"]["callStream"] or r["late"]["callSrc"]:
        fail("a call's microphone that opened after the call ended stayed open")
    if not r["hidden"]["held"] or r["hidden"]["after"]:
        fail("push-to-talk stayed held in the background: %s" % r["hidden"])
    if "tap" not in r["hint"]:
        fail("no hint while the sound was suspended: %r" % r["hint"])


def refused(run):
    """intercomd refuses the page's login (a box holds its nick): the gateway opens the
    WebSocket, says why, and closes it; the page's reconnect backoff grows all the same
    (it starts over only once logged in), rather than trying every second."""
    run.enroll()
    box = run.box(BROWSER_NICK, "--capture-file", run.wav, "--playback-file", "/dev/null", "--exit-after", "90")
    box.wait_log(r"status: online #Lobby")
    run.browser("")
    r = run.result()
    log("refused logins: %s" % r)
    if r["online"] or len(r["retries"]) < 3:
        fail("the page got in, or was not refused: %s" % r)
    # the worker's BACKOFF_MS (1, 2, 4 s ...), each spread by +-20 %: the third wait is
    # at least 3.2 s, where a backoff started over at each open stays at most 1.2 s
    if not (r["retries"][1] >= 1600 and r["retries"][2] >= 3200):
        fail("the backoff did not grow over refused logins: %s" % r["retries"])
    if not any("NICK_REGISTERED" in line for line in r["lines"]):
        fail("the page was not told why: %s" % r["lines"])


SCENARIOS = {"refused": refused, "dropcall": dropcall, "callfail": callfail, "callout": callout, "jitter": jitter, "reconnect": reconnect, "enroll": enroll, "vanish": vanish, "bench_up": bench_up, "bench_down": bench_down, "house": house, "call": call, "unsupported": unsupported, "roster": roster, "talk": talk, "listen": listen, "frozen": frozen}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print("usage: run.py %s" % "|".join(SCENARIOS), file=sys.stderr)
        return 2
    if not shutil.which("chromium"):
        print("SKIP: chromium is not installed (apt-get install --no-install-recommends chromium)")
        return SKIP
    ver = subprocess.run(["chromium", "--version"], capture_output=True, text=True)
    log("%s; flags: %s" % (ver.stdout.strip(), " ".join(CHROMIUM_FLAGS)))
    for attempt in (1, 2):
        run = Run(sys.argv[1])
        try:
            SCENARIOS[sys.argv[1]](run)
            return 0
        except Unheard as e:
            if attempt == 2:
                fail("%s (twice)" % e)
            log("%s: once more, in a new world (the machine's load: %s)" % (e, os.getloadavg()))
        finally:
            run.done()
    return 1


if __name__ == "__main__":
    sys.exit(main())
