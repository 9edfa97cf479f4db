#!/usr/bin/env python3
"""Writes the seed corpora of the text and packet fuzz targets from the protocol's test
vectors (the contract's example session, the RTP golden packets, the shipped configs).
fuzz_voice's seeds come from seed_voice (real Opus packets). Run from tests/fuzz:
    python3 make_seeds.py"""
import os, struct, wave, io

def save(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/{name}", "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# line: client lines as the contract shows them, CR LF, too long, bad bytes
session = [
    'CONNECT: "Alice" "Alice Example" 1.0.0', "PONG: 885459221", "JOIN #Kitchen",
    "PRIVMSG #Kitchen: dinner is ready", "PRIVMSG Bob: hello", "USERLIST #Lobby",
    "TALK Bob: Request", "TALK Bob: Accept", "TALK Bob: Deny", "TALK Bob: End",
    "PING: 42", "PART #Kitchen", "DISCONNECT",
]
save("line", "session", "\n".join(session) + "\n")
save("line", "crlf", "\r\n".join(session) + "\r\n")
save("line", "too-long", "PRIVMSG #Lobby: " + "x" * 600 + "\nJOIN #A\n")
save("line", "bad-bytes", b"PRIVMSG Bob: \xff\xfe\x00\x01\nCONNECT: Bob Bob 2.0.0\n:\n \n")

# rtp: golden packets (with the token extension, without, CSRCs, padding)
def rtp(seq, ts, ssrc, payload, marker=False, token=None, csrc=0, pad=0):
    b0 = 0x80 | (0x20 if pad else 0) | (0x10 if token else 0) | csrc
    h = struct.pack("!BBHII", b0, (0x80 if marker else 0) | 111, seq, ts, ssrc)
    h += b"\0\0\0\1" * csrc
    if token:
        h += struct.pack("!HH", 0xBEDE, 3) + bytes([0x17]) + token + b"\0\0\0"
    body = payload + (b"\0" * (pad - 1) + bytes([pad]) if pad else b"")
    return h + body
tok = bytes.fromhex("efb4ebc3676760fc")
save("rtp", "token", rtp(1, 960, 2062047811, b"\x78" * 72, True, tok))
save("rtp", "plain", rtp(65535, 4294966336, 7, b"\x78\x01\x02"))
save("rtp", "csrc-padding", rtp(3, 2880, 9, b"abc", csrc=2, pad=4))
save("rtp", "keepalive", rtp(2, 1920, 2062047811, b"", token=tok))

# hub: records as fuzz_hub.c reads them
def to(who, text):
    data = text.encode()
    out = b""
    while data:
        chunk, data = data[:255], data[255:]
        out += bytes([0x04 if who else 0x00, len(chunk)]) + chunk
    return out
pong = lambda who: bytes([0x11 | (0x04 if who else 0), 0])   # answer PING, no time
wait = lambda steps: bytes([0x01, steps])
def voice(who, seq, marker, payload, opus=True):
    flags = (1 if marker else 0) | (2 if opus else 0)
    return (bytes([0x02 | (0x04 if who else 0)]) + struct.pack("!HIBB", seq, seq * 960, flags,
            len(payload)) + payload)
login = lambda who, nick: to(who, f'CONNECT: "{nick}" "{nick} Example" 1.0.0\n') + pong(who)
save("hub", "login-rooms-im", login(0, "Alice") + to(0, "JOIN #Kitchen\nPRIVMSG #Kitchen: hi\n"
     "PRIVMSG Peer: hello\nUSERLIST #Kitchen\nPART #Kitchen\nDISCONNECT\n"))
save("hub", "call", login(0, "Alice") + login(1, "Bob") + to(0, "TALK Bob: Request\n") +
     to(1, "TALK Alice: Accept\n") + voice(0, 1, True, b"\x78" * 40) +
     voice(0, 2, False, b"\x78" * 40) + to(1, "TALK Alice: End\n"))
save("hub", "room-voice-timeouts", login(0, "Alice") + voice(0, 10, True, b"") +
     voice(0, 11, True, b"\x78" * 60) + voice(0, 11, False, b"\x78" * 60) + wait(200) + wait(255))
save("hub", "errors-flood", to(0, "JOIN #Kitchen\n") + login(0, "Alice") +
     to(0, "TALK Alice: Request\nJOIN bad\nPART #Nowhere\nFOO\n" + "PING: 1\n" * 40))
save("hub", "stalled-reader", login(0, "Alice") + bytes([0x08 | 0x01, 0]) +
     to(1, 'CONNECT: "Bob" "B" 1.0.0\n') + pong(1) + to(1, ("PRIVMSG Alice: " + "y" * 200 + "\n") * 20))

# ring groups (1.2): A rings #House where B waits (accepted, voice, ended); A rings
# #Lobby (B and Peer rung), B refuses, the ring times out; B parts while rung, A cancels,
# bad and unknown rooms, a group Request while in a call; A rings over and over (FLOOD),
# then again once its allowance has come back
login12 = lambda who, nick: to(who, f'CONNECT: "{nick}" "{nick} Example" 1.2.0\n') + pong(who)
save("hub", "ring-group", login12(0, "Door") + login12(1, "Kitchen") + to(1, "JOIN #House\n") +
     to(0, "TALK #House: Request\n") + to(1, "TALK Door: Accept\n") +
     voice(0, 1, True, b"\x78" * 40) + voice(1, 1, True, b"\x78" * 40) +
     to(0, "TALK #House: End\nTALK Kitchen: End\n"))
save("hub", "ring-group-refused", login12(0, "Door") + login(1, "Kitchen") +
     to(0, "TALK #Lobby: Request\n") + to(1, "TALK Door: Deny\n") + wait(200) + wait(200) +
     to(0, "TALK #lobby: Request\n") + to(1, "TALK Door: Request\n") + to(0, "TALK Kitchen: End\n"))
save("hub", "ring-group-part", login12(0, "Door") + login12(1, "Kitchen") + to(1, "JOIN #House\n") +
     to(0, "TALK #House: Request\nTALK #House: Request\nTALK Kitchen: Accept\n") +
     to(1, "PART #House\n") + to(0, "TALK #Bad!: Request\nTALK #Nowhere: Request\nTALK #House: Deny\n") +
     to(1, "JOIN #House\n") + to(0, "TALK #House: Request\nTALK #House: End\n") +
     to(1, "TALK Door: Request\n") + to(0, "TALK #House: Request\nDISCONNECT\n"))
save("hub", "ring-group-spam", login12(0, "Door") + login12(1, "Kitchen") +
     to(0, "TALK #Lobby: Request\nTALK #Lobby: End\n" * 5) + to(1, "TALK Door: Deny\n") +
     wait(30) + to(0, "TALK #Lobby: Request\n") + to(1, "TALK Door: Accept\n"))

# config: the shipped files, a board by path, and broken lines
root = "../.."
for name in ("intercomd.conf", "intercom.conf"):
    with open(f"{root}/board/etc/{name}") as f:
        text = f.read()
    save("config", name, text)
    save("config", "uncommented-" + name,
         "\n".join(l[1:] if l.startswith("#") and " = " in l else l for l in text.splitlines()))
with open(f"{root}/board/examples/door-station.conf") as f:
    save("config", "door-station.conf", f.read())
for board in ("rpi3", "rpi4", "rpi5", "rpizero2w"):
    with open(f"{root}/board/{board}.conf") as f:
        save("config", f"board-{board}", f.read())
save("config", "mixed", "port = 7000\nnick = Door\nboard = rpi5\nserver = [::1]:6060\n"
     "max_clients = 1000\nbitrate = 6000\npin_ptt = none\n")
save("config", "broken", "port\n= 5\nport = 99999\nnick = \"\"\nunknown = 1\n\x00\xff = \n")

# wav: 48 kHz mono 16-bit (what the client takes), and the formats it refuses
def wav(rate=48000, ch=1, width=2, frames=100):
    b = io.BytesIO()
    with wave.open(b, "wb") as w:
        w.setnchannels(ch); w.setsampwidth(width); w.setframerate(rate)
        w.writeframes(bytes(range(256)) * (frames * ch * width // 256 + 1))
    return b.getvalue()
save("wav", "good", wav())
save("wav", "stereo", wav(ch=2))
save("wav", "44k1", wav(rate=44100))
save("wav", "8bit", wav(width=1))
save("wav", "truncated", wav()[:60])
g = wav()
save("wav", "extra-chunk", g[:36] + b"LIST" + struct.pack("<I", 4) + b"INFO" + g[36:])

# tls (fuzz_tls.c): a role byte (0: the server's steps behind a hub, 1: the box's, 2: the
# box's hello answered by the rest, 3: the server's hello taken from the rest), then
# what the peer does after the handshake: records (op 0, a 2-byte length), raw wire
# bytes (op 1), a KeyUpdate asking for one back (op 2), time (op 3), empty records (op 4,
# a count), a warning alert (op 5, its description)
def rec(text):
    b = text.encode() if isinstance(text, str) else text
    return bytes([0, len(b) >> 8, len(b) & 0xff]) + b
SERVER, BOX = bytes([0]), bytes([1])
login = 'CONNECT: "Gate" "Front Gate" 1.1.0\n'
save("tls", "login", SERVER + rec(login) + rec("JOIN #Yard\nPRIVMSG #Yard: hi\n"))
save("tls", "one-record-many-lines", SERVER + rec(login + "PING: 1\n" * 30))
save("tls", "split-line", SERVER + rec('CONNECT: "Ga') + rec('te" "G" 1.') + rec("1.0\nPING: 2\n"))
save("tls", "key-update", SERVER + rec(login) + bytes([2]) + rec("USERLIST #Lobby\n") + bytes([2]))
save("tls", "time", SERVER + rec(login) + bytes([3, 200]) + bytes([3, 250]) + rec("PING: 3\n"))
save("tls", "garbage", SERVER + rec(login) + bytes([1, 8]) + b"\x17\x03\x03\x00\x10abc" + rec("PING: 4\n"))
save("tls", "password-and-bad", SERVER + rec('CONNECT: "Gate" "" 1.0.0\nCONNECT: "x y" "" 1.1.0 "pw"\n'))
save("tls", "key-update-flood", SERVER + rec(login) + bytes([2]) * 200 + rec("PING: 5\n"))
save("tls", "empty-records", SERVER + rec(login) + bytes([4, 31]) + rec("PI") + bytes([4, 31]) + rec("NG: 6\n"))
save("tls", "empty-records-too-many", SERVER + rec(login) + bytes([4, 40]))
save("tls", "alerts", SERVER + rec(login) + bytes([5, 90]) * 3 + rec("PING: 7\n") + bytes([5, 90]) * 6)
save("tls", "alert-close-notify", SERVER + rec(login) + bytes([5, 0]))
save("tls", "box-lines", BOX + rec('PING: 1\nREGISTERED: "Gate"\n') + rec("PRIVMSG #Yard :hi\n"))
save("tls", "box-key-update-flood", BOX + bytes([2]) * 200 + rec("PING: 2\n"))
save("tls", "box-empty-records", BOX + bytes([4, 31]) + rec("PING: 3\n") + bytes([4, 40]))
save("tls", "box-alerts", BOX + bytes([5, 90]) * 4 + rec("PING: 4\n"))
save("tls", "box-garbage", BOX + rec("PING: 6\n") + bytes([1, 5]) + b"\x17\x03\x03\x40\x01")
save("tls", "box-plaintext-answer", bytes([2]) + b"ERROR :unknown command\r\n")
save("tls", "box-alert-answer", bytes([2]) + b"\x15\x03\x03\x00\x02\x02\x28")
save("tls", "box-short-answer", bytes([2]) + b"\x16\x03")
save("tls", "server-plaintext-hello", bytes([3]) + b"CONNECT: \"Gate\" \"\" 1.0.0\n")
save("tls", "server-bad-hello", bytes([3]) + b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")
