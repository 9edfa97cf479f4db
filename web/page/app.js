/* app.js: the intercom page. Speaks the server's line protocol through the gateway's
 * WebSocket (worker.js holds the socket and the codec), shows rooms, people, messages and
 * calls, and runs the audio graph: microphone -> ic-capture (worklet.js) -> worker
 * (Opus) -> gateway; gateway -> worker (Opus) -> ic-player -> speaker.
 * Rooms are push-to-talk (button, touch, or the Space key); calls are hands-free with the
 * browser's echo cancellation, noise suppression and gain control on.
 * ?test=NAME runs a scripted scenario (see the end of this file) for tests/browser. */
'use strict';

const $ = (id) => document.getElementById(id);
const S = {
	nick: '', online: false, rooms: new Map(), /* room -> [names] in join order */
	voice: '#Lobby', call: null, /* {peer, state: 'out'|'in'|'active', group} */
	messages: [], lines: [],
};
let worker = null, ctx = null, capNode = null, playNode = null, micSrc = null, callSrc = null;
let pttStream = null, callStream = null, ringer = null, pressed = false, tapSink = null;

function missing() {
	const m = [];
	if (!window.isSecureContext) m.push('a secure (https) page');
	if (!window.AudioEncoder || !window.AudioDecoder) m.push('WebCodecs audio (AudioEncoder, AudioDecoder)');
	if (!window.AudioContext || !window.AudioWorkletNode || !('audioWorklet' in AudioContext.prototype)) m.push('AudioWorklet');
	if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) m.push('microphone access (getUserMedia)');
	if (!window.Worker || !window.WebSocket) m.push('Web Workers and WebSocket');
	return m;
}

function status(text, bad) {
	if (TEST && $('status').textContent !== text) console.info('status: ' + text); /* tests/browser reads it */
	$('status').textContent = text;
	$('status').className = bad ? 'offline' : '';
}

function statusLine() {
	const c = S.call;
	if (!S.online) return;
	if (!c) status(S.note || 'online ' + S.voice, !!S.note);
	else if (c.state === 'in') status('ringing: ' + c.peer + (c.group ? ' (' + c.group + ')' : ''));
	else if (c.state === 'out') status('calling ' + c.peer);
	else status('in a call with ' + c.peer);
}

function send(line) { worker.postMessage({ type: 'line', text: line }); }

function li(text, cls) {
	const e = document.createElement('li');
	e.textContent = text;
	if (cls) e.className = cls;
	return e;
}

function render() {
	const rooms = $('rooms'), users = $('users'), to = $('to');
	rooms.replaceChildren();
	for (const r of S.rooms.keys()) {
		const e = li(r, r.toLowerCase() === S.voice.toLowerCase() ? 'voice' : '');
		const part = document.createElement('button');
		part.textContent = 'Leave';
		part.onclick = (ev) => { ev.stopPropagation(); send('PART: ' + r); };
		e.onclick = () => send('JOIN: ' + r); /* makes it the voice room again */
		e.append(' ', part);
		rooms.append(e);
	}
	users.replaceChildren(...(S.rooms.get(S.voice) || []).map((n) => li(n, n === S.nick ? 'me' : '')));
	const keep = to.value, opts = new Set();
	for (const [r, names] of S.rooms) { opts.add(r); names.forEach((n) => n !== S.nick && opts.add(n)); }
	to.replaceChildren(...[...opts].map((o) => { const e = document.createElement('option'); e.value = e.textContent = o; return e; }));
	if (opts.has(keep)) to.value = keep;
	const c = S.call;
	$('ring').hidden = !(c && c.state === 'in');
	$('end').disabled = !c;
	$('end').hidden = !c; /* the button is big on a phone: only while there is a call */
	$('call').disabled = !S.online || !!c;
	$('ptt').disabled = !S.online || (c && c.state === 'active');
	$('ptt').textContent = c && c.state === 'active' ? 'In a call (hands-free)' : 'Hold to talk';
	statusLine();
}

function message(from, where, text) {
	S.messages.push({ from, where, text });
	const e = li((where ? where + ' ' : '') + from + ': ' + text);
	$('messages').append(e);
	e.scrollIntoView({ block: 'nearest' });
}

/* TALK <who>: <what>[ #Room] */
function talk(who, args) {
	const [what, group] = args.split(' ');
	const c = S.call;
	switch (what) {
	case 'Request':
		S.note = '';
		S.call = { peer: who, state: 'in', group: group || '' };
		$('ringtext').textContent = who + (group ? ' rings ' + group : ' calls');
		ring(true);
		break;
	case 'Accept':
		if (c) { c.peer = who; c.state = 'active'; }
		ring(false);
		callAudio(true);
		break;
	default: /* Deny, End, Busy: for a group, who is the room */
		if (c) message(who, '', 'call ' + what.toLowerCase());
		if (c && c.state === 'out' && what !== 'End') S.note = 'call to ' + c.peer + ': ' + what.toLowerCase();
		S.call = null;
		ring(false);
		callAudio(false);
	}
	render();
}

/* Whether ERROR code answers our call: a refused Request (a ring of a room over the
 * server's rate is FLOOD), or an Accept that came too late (another took the group call).
 * A ringing call is only ours to refuse. */
function callRefused(code) {
	const c = S.call;
	if (!c || c.state === 'in') return false;
	return /^(BUSY|NO_SUCH_USER|BAD_ROOM|BAD_ARGS|NO_CALL)$/.test(code) || (code === 'FLOOD' && !!c.group);
}

function lineIn(line) {
	S.lines.push(line);
	let m;
	if ((m = /^WEB NICK (\S+)/.exec(line))) { S.nick = m[1]; $('nick').textContent = S.nick; }
	else if ((m = /^WEB STATE (\S+) ?(.*)/.exec(line))) {
		S.online = m[1] === 'online';
		S.note = '';
		if (!S.online) { S.rooms.clear(); callLost('the gateway lost the server'); }
		status(S.online ? 'online' : m[1] + (m[2] ? ': ' + m[2] : ''), !S.online);
	} else if ((m = /^JOINED: (\S+)/.exec(line))) { S.voice = m[1]; if (!S.rooms.has(m[1])) S.rooms.set(m[1], []); }
	else if ((m = /^PARTED: (\S+)/.exec(line))) {
		S.rooms.delete(m[1]);
		if (m[1] === S.voice) S.voice = [...S.rooms.keys()].pop() || '';
	} else if ((m = /^USERLIST (\S+): ?(.*)/.exec(line))) S.rooms.set(m[1], m[2] ? m[2].split(', ') : []);
	else if ((m = /^PRIVMSG (#\S+) (\S+): (.*)/.exec(line))) message(m[2], m[1], m[3]);
	else if ((m = /^PRIVMSG (\S+): (.*)/.exec(line))) message(m[1], '', m[2]);
	else if ((m = /^TALK (\S+): (.*)/.exec(line))) return talk(m[1], m[2]);
	else if ((m = /^ERROR (\S+): (.*)/.exec(line))) {
		message('server', '', m[1] + ': ' + m[2]);
		if (callRefused(m[1])) {
			S.note = 'call to ' + S.call.peer + ' failed: ' + m[1] + ': ' + m[2];
			S.call = null;
			ring(false);
			callAudio(false);
		}
	} else return;
	render();
}

/* A WebSocket refused at the upgrade shows the page nothing but a close, as a gateway
 * that is down does: ask the gateway (GET whoami, docs/WEB.md) which it was. */
const NOT_ENROLLED = 'not enrolled in this browser: open your enrollment link';
const NOT_ANSWERING = 'the gateway is not answering';
async function diagnose(retry) {
	let why;
	try {
		const r = await fetch('whoami', { cache: 'no-store', signal: AbortSignal.timeout(5000) });
		why = r.status === 403 ? NOT_ENROLLED
			: 'offline: the gateway refused the connection, again in ' + Math.round(retry / 1000) + ' s';
	} catch (err) {
		why = NOT_ANSWERING;
	}
	if (S.wsOpen) return; /* a later connection got in meanwhile */
	S.why = why;
	S.diagnosed = (S.diagnosed || 0) + 1;
	status(why, true);
}

function wsState(m) {
	if (m.state === 'closed') {
		S.online = false;
		S.wsOpen = false;
		callLost('the connection to the gateway dropped');
		press(false);
		S.closes = (S.closes || 0) + 1;
		if (TEST) (S.retries = S.retries || []).push(m.retry);
		render();
		if (!m.opened) diagnose(m.retry);
		else status('offline' + (m.reason ? ' (' + m.reason + ')' : '') + ', again in ' +
			Math.round(m.retry / 1000) + ' s', true);
	} else if (m.state === 'open') {
		S.wsOpen = true;
		S.why = '';
	} else if (m.state === 'connecting' && !S.why) status('connecting', true); /* a diagnosis stays until it changes */
}

/* ---- audio ---- */

async function mic(processing) {
	const c = { echoCancellation: processing, noiseSuppression: processing, autoGainControl: processing,
		channelCount: 1, sampleRate: 48000 };
	return navigator.mediaDevices.getUserMedia({ audio: c });
}

async function audioStart() {
	ctx = new AudioContext({ sampleRate: 48000, latencyHint: 'interactive' });
	/* the browser may suspend (or, on iOS, interrupt) the sound at any time: say so
	 * (#start), and start it again on the next touch or key (wire) */
	ctx.onstatechange = () => { $('start').hidden = ctx.state === 'running'; };
	await ctx.audioWorklet.addModule('worklet.js');
	capNode = new AudioWorkletNode(ctx, 'ic-capture', { numberOfOutputs: 0 });
	capNode.port.onmessage = (e) => TEST && e.data.clock >= 0 && clockIn(e.data.clock);
	playNode = new AudioWorkletNode(ctx, 'ic-player', { numberOfInputs: 0, outputChannelCount: [1] });
	playNode.connect(ctx.destination);
	playNode.port.onmessage = (e) => tapSink && e.data.tap && tapSink(e.data);
	/* opened once, now: a press is then heard within one frame */
	pttStream = await mic(false);
	micSrc = ctx.createMediaStreamSource(pttStream);
	micSrc.connect(capNode);
	const cap = new MessageChannel(), play = new MessageChannel();
	capNode.port.postMessage({ port: cap.port1 }, [cap.port1]);
	playNode.port.postMessage({ port: play.port1 }, [play.port1]);
	return { capture: cap.port2, player: play.port2 };
}

/* Each change of the call's sound; a microphone that opens after the call it was for
 * ended (getUserMedia takes a while, the socket may drop meanwhile) is closed at once. */
let callGen = 0, callAudioDone = Promise.resolve();
function callAudio(on) {
	callAudioDone = callAudioSet(on, ++callGen);
	return callAudioDone;
}

async function callAudioSet(on, gen) {
	if (on) {
		/* hands-free: the browser's canceller, suppressor and gain control on */
		let stream;
		try {
			stream = await mic(true);
		} catch (err) { message('page', '', 'no microphone for the call: ' + err.message); }
		if (gen !== callGen) { if (stream) stream.getTracks().forEach((t) => t.stop()); return; }
		if (stream) {
			callStream = stream;
			callSrc = ctx.createMediaStreamSource(callStream);
			micSrc.disconnect();
			callSrc.connect(capNode);
		}
		worker.postMessage({ type: 'talk', on: true });
	} else {
		worker.postMessage({ type: 'talk', on: pressed });
		if (callSrc) { callSrc.disconnect(); micSrc.connect(capNode); callSrc = null; }
		if (callStream) { callStream.getTracks().forEach((t) => t.stop()); callStream = null; }
	}
}

/* The connection is gone: so is the call at the server (its session left), so it ends
 * here too, said in the messages, and its microphone closes. */
function callLost(why) {
	if (S.call) {
		message('page', '', (S.call.state === 'active' ? 'call with ' : 'call to ') + S.call.peer + ' ended: ' + why);
		callAudio(false);
	}
	S.call = null;
	ring(false);
}

/* a ring tone: two tones, on 1 s, off 2 s, until answered or over */
function ring(on) {
	if (ringer) { ringer.osc.forEach((o) => o.stop()); ringer = null; }
	if (!on || !ctx) return;
	const g = ctx.createGain(), t = ctx.currentTime;
	g.gain.value = 0;
	for (let k = 0; k < 20; k++) {
		g.gain.setValueAtTime(0.15, t + 3 * k);
		g.gain.setValueAtTime(0, t + 3 * k + 1);
	}
	const osc = [440, 480].map((f) => { const o = ctx.createOscillator(); o.frequency.value = f; o.connect(g); o.start(); return o; });
	g.connect(ctx.destination);
	ringer = { osc };
}

function press(on) {
	if (on && (!S.online || (S.call && S.call.state === 'active'))) return;
	if (pressed === on) return;
	pressed = on;
	$('ptt').classList.toggle('on', on);
	$('ptt').setAttribute('aria-pressed', String(on));
	if (!(S.call && S.call.state === 'active')) worker.postMessage({ type: 'talk', on });
}

function wire() {
	const p = $('ptt');
	p.addEventListener('pointerdown', (e) => { e.preventDefault(); p.setPointerCapture && p.setPointerCapture(e.pointerId); press(true); });
	for (const ev of ['pointerup', 'pointercancel', 'lostpointercapture']) p.addEventListener(ev, () => press(false));
	p.addEventListener('touchstart', (e) => { e.preventDefault(); press(true); }, { passive: false });
	p.addEventListener('touchend', (e) => { e.preventDefault(); press(false); });
	p.addEventListener('contextmenu', (e) => e.preventDefault());
	const typing = () => /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement && document.activeElement.tagName);
	document.addEventListener('keydown', (e) => { if (e.code === 'Space' && !typing()) { e.preventDefault(); press(true); } });
	document.addEventListener('keyup', (e) => { if (e.code === 'Space' && !typing()) { e.preventDefault(); press(false); } });
	window.addEventListener('blur', () => press(false));
	$('msgform').onsubmit = (e) => {
		e.preventDefault();
		const to = $('to').value, text = $('message').value.replace(/[\r\n]/g, ' ').trim();
		if (!to || !text) return;
		send('PRIVMSG ' + to + ': ' + text);
		message(S.nick, to.startsWith('#') ? to : '', '(to ' + to + ') ' + text);
		$('message').value = '';
	};
	$('joinform').onsubmit = (e) => {
		e.preventDefault();
		let r = $('room').value.trim();
		if (!r) return;
		if (!r.startsWith('#')) r = '#' + r;
		send('JOIN: ' + r);
		S.note = '';
		$('room').value = '';
	};
	$('call').onclick = () => {
		const to = $('to').value;
		if (!to || S.call) return;
		S.note = '';
		S.call = { peer: to, state: 'out', group: to.startsWith('#') ? to : '' };
		send('TALK ' + to + ': Request');
		render();
	};
	/* the server tells only the caller: the answering side's call is up once it says so */
	$('accept').onclick = () => { if (S.call && S.call.state === 'in') { send('TALK ' + S.call.peer + ': Accept'); talk(S.call.peer, 'Accept'); } };
	$('deny').onclick = () => { if (S.call) { send('TALK ' + S.call.peer + ': Deny'); talk(S.call.peer, 'Deny'); } };
	$('end').onclick = () => { if (S.call) { send('TALK ' + S.call.peer + ': End'); talk(S.call.peer, 'End'); } };
	const resume = () => ctx && ctx.state !== 'running' && ctx.resume().then(() => { $('start').hidden = ctx.state === 'running'; }, () => {});
	$('start').onclick = resume;
	/* a phone starts audio only from a gesture: the first touch anywhere (a press of the
	 * button included) starts it */
	document.addEventListener('pointerdown', resume, true);
	window.addEventListener('online', () => worker.postMessage({ type: 'reconnect' }));
	/* a phone that backgrounds the page: no pointerup will come, so let go of the button;
	 * back in front, do not wait out the backoff, and wake the sound the browser stopped */
	document.addEventListener('visibilitychange', () => {
		if (document.visibilityState === 'hidden') return press(false);
		if (worker) worker.postMessage({ type: 'reconnect' });
		if (ctx && ctx.state !== 'running') ctx.resume().catch(() => {});
	});
	document.addEventListener('keydown', resume, true);
}

async function main() {
	const m = missing();
	if (m.length) {
		$('app').hidden = true;
		$('unsupported').hidden = false;
		$('missing').textContent = 'Missing here: ' + m.join('; ') + '.';
		status('unsupported browser', true);
		if (TEST) testPost(TEST + '.json', JSON.stringify({ unsupported: m, shown: $('unsupported').innerText,
			appHidden: $('app').hidden, status: $('status').textContent }));
		return;
	}
	wire();
	render();
	let ports;
	try {
		ports = await audioStart();
	} catch (err) {
		status('no sound: ' + err.message + ' (allow the microphone and reload)', true);
		if (TEST) testPost(TEST + '.json', JSON.stringify({ error: String(err) }));
		return;
	}
	if (ctx.state !== 'running') $('start').hidden = false;
	worker = new Worker('worker.js');
	worker.onmessage = (e) => {
		const d = e.data;
		if (d.type === 'line') lineIn(d.text);
		else if (d.type === 'ws') wsState(d);
		else if (d.type === 'dump' && dumpWait) { dumpWait(d); dumpWait = null; }
		else if (d.type === 'fatal') status('unsupported: ' + d.what, true);
	};
	const url = new URL('ws', location.href);
	url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
	url.search = '';
	worker.postMessage({ type: 'init', url: url.href, capture: ports.capture, player: ports.player },
		[ports.capture, ports.player]);
	if (TEST) runTest().catch((err) => testPost(TEST + '.json', JSON.stringify({ error: String(err && err.stack || err) })));
}

/* ---- scripted scenarios for tests/browser (?test=NAME&peer=...&ms=...) ---- */

const Q = new URLSearchParams(location.search);
const TEST = /^[a-z0-9_]{1,32}$/.test(Q.get('test') || '') ? Q.get('test') : '';
let dumpWait = null;

/* a POST on a kept-alive connection the gateway just closed for idling fails without
 * being sent again (browsers retry only idempotent requests): try again */
async function testPost(name, body) {
	for (let i = 0; ; i++) {
		try {
			return await fetch('test/result?name=' + encodeURIComponent(name), { method: 'POST', body });
		} catch (err) {
			if (i === 2) throw err;
		}
	}
}

function until(cond, what, ms = 20000) {
	return new Promise((ok, fail) => {
		const t0 = Date.now();
		const poll = () => cond() ? ok() : Date.now() - t0 > ms ? fail(new Error('timed out: ' + what)) : setTimeout(poll, 20);
		poll();
	});
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/* the wall clock (ms since 1970) at which the audio thread handled context frame f,
 * device buffers not counted: the earliest arrival of the capture worklet's frame
 * counts (it renders several quanta at once, and a message can only be late) */
let clockBase = Infinity;
function clockIn(f) {
	clockBase = Math.min(clockBase, performance.timeOrigin + performance.now() - f * 1000 / ctx.sampleRate);
}
function epochOf(f) { return clockBase + f * 1000 / ctx.sampleRate; }

function wav(chunks) {
	const n = chunks.reduce((a, c) => a + c.length, 0), b = new DataView(new ArrayBuffer(44 + 2 * n));
	const str = (o, s) => [...s].forEach((ch, i) => b.setUint8(o + i, ch.charCodeAt(0)));
	str(0, 'RIFF'); b.setUint32(4, 36 + 2 * n, true); str(8, 'WAVEfmt ');
	b.setUint32(16, 16, true); b.setUint16(20, 1, true); b.setUint16(22, 1, true);
	b.setUint32(24, 48000, true); b.setUint32(28, 96000, true); b.setUint16(32, 2, true); b.setUint16(34, 16, true);
	str(36, 'data'); b.setUint32(40, 2 * n, true);
	let o = 44;
	for (const c of chunks) for (const x of c) { b.setInt16(o, Math.max(-32768, Math.min(32767, Math.round(x * 32767))), true); o += 2; }
	return b.buffer;
}

/* the captured frames on their own timeline: silence where nothing was sent */
function timeline(rec) {
	const n = rec.pcm.length ? rec.ats[rec.ats.length - 1] - rec.at + rec.pcm[rec.pcm.length - 1].length : 0;
	const all = new Float32Array(n);
	rec.pcm.forEach((f, i) => all.set(f, rec.ats[i] - rec.at));
	return [all];
}

function dump() {
	return new Promise((ok) => { dumpWait = ok; worker.postMessage({ type: 'dump' }); });
}

function click(id) { $(id).click(); }
function pointer(type) { $('ptt').dispatchEvent(new PointerEvent(type, { bubbles: true, pointerId: 1, isPrimary: true })); }

const scenarios = {
	/* roster and messages both ways with peer; joins #Kitchen */
	async roster() {
		const peer = Q.get('peer');
		await until(() => S.online && (S.rooms.get('#Lobby') || []).includes(peer), peer + ' in #Lobby');
		$('room').value = 'Kitchen';
		$('join').click();
		await until(() => (S.rooms.get('#Kitchen') || []).includes(S.nick), 'joined #Kitchen');
		$('to').value = peer;
		$('message').value = 'hello ' + peer + ' from the page';
		click('send');
		$('to').value = '#Lobby';
		$('message').value = 'hello room from the page';
		click('send');
		/* the Space key is the button too, but not while typing in a field */
		document.activeElement.blur();
		const key = (type) => document.dispatchEvent(new KeyboardEvent(type, { code: 'Space', key: ' ', bubbles: true }));
		key('keydown');
		const spaceOn = $('ptt').classList.contains('on');
		key('keyup');
		const spaceOff = !$('ptt').classList.contains('on');
		$('message').focus();
		key('keydown');
		const typingIgnored = !$('ptt').classList.contains('on');
		key('keyup');
		$('message').blur();
		await until(() => S.messages.some((m) => m.from === peer && m.where === '') &&
			S.messages.some((m) => m.from === peer && m.where === '#Lobby'), 'messages from ' + peer);
		await until(() => (S.rooms.get('#Kitchen') || []).includes(peer), peer + ' in #Kitchen');
		return { nick: S.nick, rooms: Object.fromEntries(S.rooms), users: $('users').textContent, spaceOn, spaceOff, typingIgnored,
			roomsShown: $('rooms').textContent, messagesShown: $('messages').textContent };
	},
	/* push-to-talk for ms; posts what the page captured while pressed */
	async talk() {
		const peer = Q.get('peer'), ms = +Q.get('ms') || 3000;
		await until(() => S.online && (S.rooms.get(S.voice) || []).includes(peer), peer + ' here');
		await sleep(+Q.get('after') || 500);
		worker.postMessage({ type: 'record', on: true });
		pointer('pointerdown');
		await sleep(ms);
		pointer('pointerup');
		await sleep(300);
		const d = await dump();
		await testPost(TEST + '.wav', wav(timeline(d.record)));
		return { nick: S.nick, t0: epochOf(d.record.at), stats: d.stats, frames: d.record.pcm.length };
	},
	/* listens for ms through a tap of what the player plays */
	async listen() {
		const ms = +Q.get('ms') || 5000, tap = [];
		let at = -1;
		await until(() => S.online, 'online');
		tapSink = (d) => { if (at < 0) at = d.at; tap.push(...d.tap); };
		playNode.port.postMessage({ tap: true });
		await testPost(TEST + '.ready', 'listening');
		await sleep(ms);
		playNode.port.postMessage({ tap: false });
		tapSink = null;
		const d = await dump();
		const stats = await new Promise((ok) => { playNode.port.onmessage = (e) => e.data.stats && ok(e.data.stats); playNode.port.postMessage({ stats: true }); });
		await testPost(TEST + '.wav', wav(tap));
		return { nick: S.nick, t0: epochOf(at), stats: d.stats, player: stats };
	},
	/* an incoming call from peer: it rings, the page accepts, both sides talk hands-free
	 * for ms, then the page ends it */
	/* n presses of on ms, off ms apart (bench/browser_m2e.sh) */
	async presses() {
		const peer = Q.get('peer'), n = +Q.get('n') || 30, on = +Q.get('on') || 600, off = +Q.get('off') || 600, at = [];
		await until(() => S.online && (S.rooms.get(S.voice) || []).includes(peer), peer + ' here');
		await sleep(500);
		worker.postMessage({ type: 'record', on: true });
		for (let i = 0; i < n; i++) {
			at.push(performance.timeOrigin + performance.now());
			pointer('pointerdown');
			await sleep(on);
			pointer('pointerup');
			await sleep(off);
		}
		const d = await dump();
		await testPost(TEST + '.wav', wav(timeline(d.record)));
		return { nick: S.nick, t0: epochOf(d.record.at), presses: at, stats: d.stats };
	},
	/* the player's jitter buffer and mixer (worklet.js), run here on a clock of our own */
	async jitter() {
		const src = await (await fetch('worklet.js')).text();
		class Base { constructor() { this.port = { postMessage() {} }; } }
		const make = new Function('AudioWorkletProcessor', 'registerProcessor', 'currentFrame',
			src + '\nreturn { Talker, Player };');
		const { Talker, Player } = make(Base, () => {}, 0);
		const frame = (v) => new Float32Array(960).fill(v);
		const play = (t, n) => { const o = new Float32Array(n); t.mix(o); return o; };
		const r = {};
		let t = new Talker();
		t.push(frame(0.5));
		r.silentBelowStart = play(t, 128).every((x) => x === 0);
		t.push(frame(0.5));
		r.playsAtStart = play(t, 128).every((x) => x === 0.5);
		play(t, 1920); /* runs dry mid-spurt */
		t.push(frame(0.5)); /* the next packet, late */
		r.underrunRaises = [t.underruns, t.target];
		t = new Talker();
		t.push(frame(0.1)); t.push(frame(0.1)); play(t, 128);
		for (let i = 0; i < 10; i++) t.push(frame(0.2)); /* a stall's burst */
		r.catchUp = [t.dropped > 0, t.have <= t.target + 2880, t.target];
		t = new Talker();
		t.push(frame(0.1)); t.push(frame(0.1)); play(t, 1920 + 128); /* the spurt ended */
		play(t, 960 * 6);
		t.push(frame(0.1));
		r.endIsNoUnderrun = t.underruns;
		t = new Talker();
		t.target = 2400;
		for (let i = 0; i < 260; i++) { t.push(frame(0.1)); play(t, 960); }
		r.calmLowers = t.target;
		const p = new Player();
		p.feed({ ssrc: 1, pcm: frame(0.25) }); p.feed({ ssrc: 1, pcm: frame(0.25) });
		p.feed({ ssrc: 2, pcm: frame(0.5) }); p.feed({ ssrc: 2, pcm: frame(0.5) });
		const out = [[new Float32Array(128)]];
		p.process([], out);
		r.mixed = out[0][0][0];
		return r;
	},
	/* online, then the gateway goes away and comes back: the page is online again */
	async reconnect() {
		await until(() => S.online, 'online');
		await testPost(TEST + '.ready', 'online');
		await until(() => !S.online, 'the gateway gone');
		const gone = $('status').textContent;
		await until(() => S.online && (S.rooms.get('#Lobby') || []).includes(S.nick), 'online again', 40000);
		return { gone, closes: S.closes, status: $('status').textContent, lobby: S.rooms.get('#Lobby') };
	},
	/* online, then the gateway stops answering without closing anything (a phone whose
	 * Wi-Fi went: no FIN ever comes): the page gives the socket up by itself, and is
	 * online again once the gateway answers */
	async frozen() {
		await until(() => S.online, 'online');
		await testPost(TEST + '.ready', 'online');
		await until(() => !S.online, 'the gateway given up', 60000);
		const gone = $('status').textContent;
		await until(() => S.online && (S.rooms.get('#Lobby') || []).includes(S.nick), 'online again', 60000);
		return { gone, closes: S.closes, status: $('status').textContent, lobby: S.rooms.get('#Lobby') };
	},
	/* no enrollment cookie: the page says so; then the gateway stops, and comes back */
	async enroll() {
		await until(() => S.diagnosed >= 2, 'two refused connections');
		const refused = { status: $('status').textContent, online: S.online, lines: S.lines.length };
		await testPost(TEST + '.ready', JSON.stringify(refused));
		await until(() => $('status').textContent === NOT_ANSWERING, 'the gateway gone', 40000);
		await until(() => $('status').textContent === NOT_ENROLLED, 'the gateway back', 40000);
		return { refused, back: $('status').textContent, online: S.online, lines: S.lines.length };
	},
	/* holds push-to-talk until the browser is killed */
	async vanish() {
		const peer = Q.get('peer');
		await until(() => S.online && (S.rooms.get(S.voice) || []).includes(peer), peer + ' here');
		pointer('pointerdown');
		await sleep(1000);
		await testPost(TEST + '.ready', 'talking');
		await sleep(60000);
		return {};
	},
	async house() { return scenarios.call(); },
	/* the server refuses the login: the worker's backoff grows though the socket opened */
	async refused() {
		await until(() => (S.retries || []).length >= 3, 'three refused logins', 40000);
		return { retries: S.retries, online: S.online, status: $('status').textContent };
	},
	/* in a call with peer when the gateway goes away: the call ends here and its
	 * microphone closes; back online, a phone's other troubles: a call's microphone that
	 * opens after the call ended, the page sent to the background while the button is
	 * held, the browser suspending the sound */
	async dropcall() {
		const peer = Q.get('peer');
		await until(() => S.online && (S.rooms.get('#Lobby') || []).includes(peer), peer + ' here');
		$('to').value = peer;
		click('call');
		await until(() => S.call && S.call.state === 'active' && callStream, 'the call');
		const track = callStream.getAudioTracks()[0];
		await testPost(TEST + '.ready', 'in a call');
		await until(() => !S.call, 'the call ended', 40000);
		await callAudioDone;
		const dropped = { status: $('status').textContent, messagesShown: $('messages').textContent,
			track: track.readyState, callStream: !!callStream, ptt: $('ptt').textContent, endHidden: $('end').hidden };
		await until(() => S.online, 'online again', 40000);
		S.call = { peer: 'Late', state: 'out', group: '' };
		lineIn('TALK Late: Accept');
		const opening = callAudioDone;
		lineIn('TALK Late: End');
		await opening;
		const late = { callStream: !!callStream, callSrc: !!callSrc };
		pointer('pointerdown');
		const held = pressed;
		Object.defineProperty(document, 'visibilityState', { value: 'hidden', configurable: true });
		document.dispatchEvent(new Event('visibilitychange'));
		const hidden = { held, after: pressed };
		delete document.visibilityState;
		pointer('pointerup');
		await ctx.suspend();
		await until(() => !$('start').hidden, 'the hint to start the sound');
		const hint = $('start').textContent;
		document.body.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
		await until(() => ctx.state === 'running' && $('start').hidden, 'the sound started again');
		return { dropped, late, hidden, hint };
	},
	/* calls a nick nobody has, then rings room until the server says FLOOD: each time the
	 * page shows the error and leaves the calling state */
	async callfail() {
		const room = Q.get('room');
		await until(() => S.online, 'online');
		const dial = async (to, ms) => { /* a ring that is let through gets no answer */
			const o = document.createElement('option');
			o.value = o.textContent = to;
			$('to').append(o);
			$('to').value = to;
			click('call');
			const calling = $('status').textContent;
			await until(() => !S.call, 'the call refused', ms).catch(() => {});
			return { calling, refused: !S.call, status: $('status').textContent, callDisabled: $('call').disabled };
		};
		const nobody = await dial('Nobody', 20000);
		const rings = [];
		for (let i = 0; i < 8; i++) {
			const r = await dial(room, 500);
			rings.push(r);
			if (r.refused) break;
			click('end');
			await until(() => !S.call, 'the end');
		}
		return { nobody, rings, messagesShown: $('messages').textContent, ringTone: !!ringer };
	},
	/* the page calls peer (which answers by itself): hands-free both ways for ms, then End */
	async callout() {
		const peer = Q.get('peer'), ms = +Q.get('ms') || 4000, tap = [];
		let at = -1;
		await until(() => S.online && (S.rooms.get('#Lobby') || []).includes(peer), peer + ' here');
		tapSink = (d) => { if (at < 0) at = d.at; tap.push(...d.tap); };
		playNode.port.postMessage({ tap: true });
		worker.postMessage({ type: 'record', on: true });
		$('to').value = peer;
		click('call');
		const calling = $('status').textContent;
		await until(() => S.call && S.call.state === 'active' && callStream, 'the call');
		const accepted = Date.now(), pttDisabled = $('ptt').disabled;
		const settings = callStream.getAudioTracks()[0].getSettings();
		await sleep(ms);
		click('end');
		await until(() => !S.call, 'the end');
		playNode.port.postMessage({ tap: false });
		tapSink = null;
		const d = await dump();
		await testPost(TEST + '.wav', wav(timeline(d.record)));
		await testPost(TEST + '-heard.wav', wav(tap));
		return { nick: S.nick, calling, accepted,
			settings: { echoCancellation: settings.echoCancellation, noiseSuppression: settings.noiseSuppression,
				autoGainControl: settings.autoGainControl },
			t0: epochOf(d.record.at), heardT0: epochOf(at), stats: d.stats, pttDisabled };
	},
	async call() {
		const peer = Q.get('peer'), ms = +Q.get('ms') || 4000, tap = [];
		let at = -1;
		await until(() => S.online, 'online');
		const room = Q.get('room');
		if (room) { /* a ring group's member, beside the box peer */
			$('room').value = room;
			$('join').click();
			await until(() => (S.rooms.get(room) || []).includes(peer), peer + ' in ' + room);
		}
		tapSink = (d) => { if (at < 0) at = d.at; tap.push(...d.tap); };
		playNode.port.postMessage({ tap: true });
		worker.postMessage({ type: 'record', on: true });
		await testPost(TEST + '.ready', 'waiting for the ring');
		await until(() => S.call && S.call.state === 'in', 'the ring');
		const rang = { shown: !$('ring').hidden, text: $('ringtext').textContent, tone: !!ringer,
			from: S.call.peer, group: S.call.group };
		click('accept');
		await until(() => S.call && S.call.state === 'active' && callStream, 'the call');
		const accepted = Date.now(), toneAfter = !!ringer, pttDisabled = $('ptt').disabled;
		const settings = callStream.getAudioTracks()[0].getSettings();
		await sleep(ms);
		click('end');
		await until(() => !S.call, 'the end');
		playNode.port.postMessage({ tap: false });
		tapSink = null;
		const d = await dump();
		await testPost(TEST + '.wav', wav(timeline(d.record)));
		await testPost(TEST + '-heard.wav', wav(tap));
		return { nick: S.nick, rang, toneAfter, accepted, settings: { echoCancellation: settings.echoCancellation,
			noiseSuppression: settings.noiseSuppression, autoGainControl: settings.autoGainControl },
			t0: epochOf(d.record.at), heardT0: epochOf(at), stats: d.stats, pttDisabled };
	},
};

async function runTest() {
	const f = scenarios[TEST];
	if (!f) throw new Error('no scenario ' + TEST);
	const r = await f();
	r.lines = S.lines;
	await testPost(TEST + '.json', JSON.stringify(r));
}

main();
