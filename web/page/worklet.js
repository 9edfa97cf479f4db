/* worklet.js: the page's two audio-thread processors.
 * ic-capture cuts the microphone into 20 ms frames (960 samples at 48 kHz) and hands each
 * to the worker, with the context frame it started at (for the tests' clock).
 * ic-player keeps a jitter buffer per talker (SSRC) and mixes them: it starts a talker
 * once 40 ms are buffered, raises that by 10 ms after each underrun (up to 120 ms), lowers
 * it again after 5 s without one, and after a stall (a TCP hiccup delivers a burst) drops
 * the oldest audio down to the target so the delay does not stay grown. */
const FRAME = 960;
const RATE = 48000;
const START = 1920, STEP = 480, MAX = 5760, SLACK = 2880, CALM = 5 * RATE, IDLE = 10 * RATE;

class Capture extends AudioWorkletProcessor {
	constructor() {
		super();
		this.out = null; /* the worker's port */
		this.buf = new Float32Array(FRAME);
		this.n = 0;
		this.at = 0;
		this.port.onmessage = (e) => { if (e.data.port) this.out = e.data.port; };
	}
	process(inputs) {
		/* the main thread maps context frames to its clock from these (the tests) */
		if ((this.calls = (this.calls || 0) + 1) % 16 === 0) this.port.postMessage({ clock: currentFrame });
		const ch = inputs[0] && inputs[0][0];
		if (!ch || !this.out) return true;
		for (let i = 0; i < ch.length; i++) {
			if (this.n === 0) this.at = currentFrame + i;
			this.buf[this.n++] = ch[i];
			if (this.n === FRAME) {
				this.out.postMessage({ pcm: this.buf, at: this.at }, [this.buf.buffer]);
				this.buf = new Float32Array(FRAME);
				this.n = 0;
			}
		}
		return true;
	}
}

class Talker {
	constructor() {
		this.chunks = [];
		this.off = 0; /* read offset into chunks[0] */
		this.have = 0;
		this.playing = false;
		this.target = START;
		this.calm = 0; /* samples played since the last underrun */
		this.idle = 0;
		this.underruns = 0;
		this.dropped = 0;
		this.dry = -1; /* samples since it last ran dry, -1 while it has not */
	}
	push(pcm) {
		this.chunks.push(pcm);
		this.have += pcm.length;
		if (this.dry >= 0 && this.dry < FRAME * 5) {
			/* more of the same spurt came soon after we ran dry: an underrun */
			this.underruns++;
			this.target = Math.min(MAX, this.target + STEP);
			this.calm = 0;
		}
		this.dry = -1;
		this.idle = 0;
		if (this.playing && this.have > this.target + SLACK) this.skip(this.have - this.target);
	}
	skip(n) {
		this.dropped += n;
		while (n > 0 && this.chunks.length) {
			const left = this.chunks[0].length - this.off;
			const k = Math.min(left, n);
			this.off += k; n -= k; this.have -= k;
			if (this.off === this.chunks[0].length) { this.chunks.shift(); this.off = 0; }
		}
	}
	/* adds up to out.length samples into out */
	mix(out) {
		this.idle += out.length;
		if (this.dry >= 0) this.dry += out.length;
		if (!this.playing) {
			if (this.have >= this.target) this.playing = true;
			else return;
		}
		let i = 0;
		while (i < out.length && this.chunks.length) {
			const c = this.chunks[0];
			const k = Math.min(c.length - this.off, out.length - i);
			for (let j = 0; j < k; j++) out[i + j] += c[this.off + j];
			i += k; this.off += k; this.have -= k;
			if (this.off === c.length) { this.chunks.shift(); this.off = 0; }
		}
		if (i < out.length) {
			/* ran dry: the end of a talk spurt, or the network was late (push tells) */
			this.playing = false;
			this.dry = 0;
		} else if ((this.calm += out.length) > CALM && this.target > START) {
			this.target -= STEP;
			this.calm = 0;
		}
	}
}

class Player extends AudioWorkletProcessor {
	constructor() {
		super();
		this.talkers = new Map();
		this.tap = null; /* recording of what is played, for the tests */
		this.tapAt = 0;
		this.port.onmessage = (e) => {
			const d = e.data;
			if (d.port) d.port.onmessage = (m) => this.feed(m.data);
			if ('tap' in d) this.tap = d.tap ? [] : null;
			if (d.stats) this.port.postMessage({ stats: this.stats() });
		};
	}
	feed(d) {
		let t = this.talkers.get(d.ssrc);
		if (!t) this.talkers.set(d.ssrc, (t = new Talker()));
		t.push(d.pcm);
	}
	stats() {
		const s = {};
		for (const [k, t] of this.talkers)
			s[k] = { underruns: t.underruns, dropped: t.dropped, target: t.target };
		return s;
	}
	process(inputs, outputs) {
		const out = outputs[0][0];
		out.fill(0);
		for (const [k, t] of this.talkers) {
			t.mix(out);
			if (!t.playing && t.idle > IDLE) this.talkers.delete(k);
		}
		for (let c = 1; c < outputs[0].length; c++) outputs[0][c].set(out);
		if (this.tap) {
			if (!this.tap.length) this.tapAt = currentFrame;
			this.tap.push(out.slice());
			if (this.tap.length >= 75) { /* 200 ms */
				this.port.postMessage({ tap: this.tap, at: this.tapAt });
				this.tap = [];
			}
		}
		return true;
	}
}

registerProcessor('ic-capture', Capture);
registerProcessor('ic-player', Player);
