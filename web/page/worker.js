/* worker.js: the page's socket and codec, off the main thread.
 * The WebSocket to the gateway (text: protocol lines both ways; binary: voice, see
 * docs/WEB.md), reconnecting with backoff like a box; the Opus encoder with the boxes'
 * settings, fed 20 ms frames by the capture worklet while the page talks; one Opus
 * decoder per talker (SSRC), whose PCM goes straight to the player worklet. */
'use strict';

const ENCODER = {
	codec: 'opus', sampleRate: 48000, numberOfChannels: 1, bitrate: 24000,
	bitrateMode: 'constant',
	opus: { frameDuration: 20000, complexity: 5, application: 'voip', signal: 'voice',
		useinbandfec: true, usedtx: false, packetlossperc: 10 },
};
const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000, 30000];
/* the gateway's keepalive period until its first "WEB ALIVE" says (web_limits.h), and
 * how many of them may go missing before the connection is given up: a phone that left
 * the Wi-Fi gets no FIN, and TCP would take minutes */
const ALIVE_MS = 10000, IDLE_PERIODS = 3;

let url = '', ws = null, tries = 0, timer = 0;
let aliveMs = ALIVE_MS, lastRx = 0;
let player = null, encoder = null, talking = false, marker = false, pts = 0;
let flags = []; /* per frame handed to the encoder, in order: its marker */
const decoders = new Map();
const stats = { sent: 0, received: 0, decoded: 0, decodeErrors: 0, encodeErrors: 0 };
let record = null; /* test tap: the frames sent, with the context frame of the first */

function post(m) { self.postMessage(m); }

function connect() {
	timer = 0;
	post({ type: 'ws', state: 'connecting' });
	const s = new WebSocket(url);
	ws = s;
	s.binaryType = 'arraybuffer';
	s.opened = false;
	lastRx = performance.now(); /* an opening handshake gets the same time as a silence */
	s.onopen = () => { s.opened = true; lastRx = performance.now(); post({ type: 'ws', state: 'open' }); };
	s.onmessage = (e) => {
		lastRx = performance.now();
		/* the backoff starts over once logged in, not once the socket opened: a gateway
		 * that opens it and closes it again (a refused login) is not tried every second */
		if (e.data === 'WEB STATE online') tries = 0;
		if (typeof e.data !== 'string') voiceIn(new Uint8Array(e.data));
		else if (e.data.startsWith('WEB ALIVE ')) aliveMs = Math.max(1000, Number(e.data.slice(10)) || ALIVE_MS);
		else post({ type: 'line', text: e.data });
	};
	s.onclose = (e) => closed(e.code, e.reason);
}

/* The socket is gone (or given up): tell the page, and try again after the backoff. */
function closed(code, reason) {
	const opened = ws.opened;
	ws = null;
	const wait = BACKOFF_MS[Math.min(tries++, BACKOFF_MS.length - 1)];
	/* spread a household of phones reconnecting after a gateway restart */
	const ms = Math.round(wait * (0.8 + 0.4 * Math.random()));
	post({ type: 'ws', state: 'closed', code, reason, retry: ms, opened });
	timer = setTimeout(connect, ms);
}

/* Nothing from the gateway for IDLE_PERIODS keepalives (or an opening that long): give
 * the socket up without waiting for its closing handshake, which a vanished path never
 * completes, and reconnect. */
setInterval(() => {
	if (!ws || performance.now() - lastRx < IDLE_PERIODS * aliveMs) return;
	const dead = ws;
	dead.onclose = dead.onmessage = dead.onopen = null;
	closed(1006, 'the gateway stopped answering');
	try { dead.close(); } catch (err) { /* already closing */ }
}, 500);

/* a talker gone for a minute (its session left: each login has a new SSRC) */
setInterval(() => {
	const now = Date.now();
	for (const [ssrc, d] of decoders)
		if (now - d.used > 60000) { if (d.state !== 'closed') d.close(); decoders.delete(ssrc); }
}, 10000);

function decoderFor(ssrc) {
	let d = decoders.get(ssrc);
	if (d && d.state !== 'closed') { d.used = Date.now(); return d; }
	d = new AudioDecoder({
		output: (a) => {
			const pcm = new Float32Array(a.numberOfFrames);
			a.copyTo(pcm, { planeIndex: 0, format: 'f32-planar' });
			a.close();
			stats.decoded++;
			if (player) player.postMessage({ ssrc, pcm }, [pcm.buffer]);
		},
		error: () => { stats.decodeErrors++; decoders.delete(ssrc); },
	});
	d.configure({ codec: 'opus', sampleRate: 48000, numberOfChannels: 1 });
	d.used = Date.now();
	decoders.set(ssrc, d);
	return d;
}

/* 0x01, flags, SSRC (4), seq (2), timestamp (4), Opus */
function voiceIn(b) {
	if (b.length < 13 || b[0] !== 1) return;
	stats.received++;
	const v = new DataView(b.buffer, b.byteOffset);
	const ssrc = v.getUint32(2), ts = v.getUint32(8);
	try {
		decoderFor(ssrc).decode(new EncodedAudioChunk({
			type: 'key', timestamp: Math.round(ts * 1e6 / 48000), data: b.subarray(12) }));
	} catch (err) {
		stats.decodeErrors++;
		decoders.delete(ssrc);
	}
}

function makeEncoder() {
	encoder = new AudioEncoder({
		output: (chunk) => {
			const f = flags.shift() || 0;
			const b = new Uint8Array(2 + chunk.byteLength);
			b[0] = 1;
			b[1] = f;
			chunk.copyTo(b.subarray(2));
			if (ws && ws.readyState === WebSocket.OPEN) { ws.send(b); stats.sent++; }
		},
		error: () => { stats.encodeErrors++; encoder = null; flags = []; },
	});
	encoder.configure(ENCODER);
}

function frameIn(d) {
	if (!talking) return;
	if (!encoder || encoder.state === 'closed') makeEncoder();
	if (record) {
		if (!record.pcm.length) record.at = d.at;
		record.pcm.push(d.pcm.slice());
		record.ats.push(d.at);
	}
	flags.push(marker ? 1 : 0);
	marker = false;
	const a = new AudioData({ format: 'f32-planar', sampleRate: 48000, numberOfFrames: d.pcm.length,
		numberOfChannels: 1, timestamp: pts, data: d.pcm });
	pts += 20000;
	encoder.encode(a);
	a.close();
}

self.onmessage = (e) => {
	const m = e.data;
	switch (m.type) {
	case 'init':
		url = m.url;
		player = m.player;
		m.capture.onmessage = (f) => frameIn(f.data);
		connect();
		break;
	case 'line':
		if (ws && ws.readyState === WebSocket.OPEN) ws.send(m.text);
		break;
	case 'talk':
		if (m.on && !talking) marker = true;
		talking = m.on;
		break;
	case 'record':
		record = m.on ? { pcm: [], ats: [], at: 0 } : record;
		break;
	case 'dump':
		post({ type: 'dump', record, stats });
		record = null;
		break;
	case 'reconnect': /* the browser came back online: do not wait out the backoff */
		if (!ws && timer) { clearTimeout(timer); connect(); }
		break;
	}
};

self.AudioEncoder || post({ type: 'fatal', what: 'AudioEncoder in a worker' });
