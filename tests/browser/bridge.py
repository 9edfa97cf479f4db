"""bridge.py: a test-only stand-in for intercom-web, for the browser tests until the
gateway serves the page itself. It serves web/page over http://127.0.0.1 (a secure
context for Chromium), speaks docs/WEB.md's WebSocket messages to the page, and for each
WebSocket logs one session into a real intercomd started with --tls off (protocol 1.0
lines and token voice), like the gateway does over TLS. It also takes the test-only
POST /test/result?name=NAME of --test-sink. Never shipped, never listening beyond
loopback."""
import base64
import hashlib
import http.server
import os
import re
import select
import socket
import struct
import threading
import time
import urllib.parse

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TYPES = {".html": "text/html", ".js": "text/javascript", ".css": "text/css"}
NAME_RE = re.compile(r"^[a-z0-9_.-]{1,64}$")
SINK_MAX = 4 << 20


class WsClosed(Exception):
    pass


class Ws:
    """RFC 6455 server side: frames from the browser are masked, ours are not."""

    def __init__(self, sock):
        self.sock, self.buf, self.lock = sock, b"", threading.Lock()

    def _need(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise WsClosed()
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """one whole message: (opcode, payload)"""
        data, op0 = b"", None
        while True:
            b0, b1 = self._need(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._need(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._need(8))[0]
            mask = self._need(4) if b1 & 0x80 else b"\0\0\0\0"
            p = bytes(c ^ mask[i % 4] for i, c in enumerate(self._need(n)))
            op = b0 & 0x0F
            if op == 8:
                raise WsClosed()
            if op == 9:
                self.send(10, p)
                continue
            if op == 10:
                continue
            op0 = op if op else op0
            data += p
            if b0 & 0x80:
                return op0, data

    def send(self, op, payload):
        n = len(payload)
        head = bytes([0x80 | op])
        if n < 126:
            head += bytes([n])
        elif n < 65536:
            head += bytes([126]) + struct.pack("!H", n)
        else:
            head += bytes([127]) + struct.pack("!Q", n)
        with self.lock:
            self.sock.sendall(head + payload)

    def close(self, code, reason=""):
        try:
            self.send(8, struct.pack("!H", code) + reason.encode())
        except OSError:
            pass


class Session:
    """One browser's session toward intercomd (plain TCP lines, token voice)."""

    def __init__(self, ws, server_port, nick):
        self.ws, self.nick = ws, nick
        self.tcp = socket.create_connection(("127.0.0.1", server_port))
        self.tcp.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.inbuf, self.voice, self.seq, self.ts = b"", None, 0, 0
        self.last_sent = 0.0

    def rtp(self, payload, marker):
        port, ssrc, token = self.voice
        self.seq = (self.seq + 1) & 0xFFFF
        if payload:
            self.ts = (self.ts + 960) & 0xFFFFFFFF
        head = struct.pack("!BBHII", 0x90, (0x80 if marker else 0) | 111, self.seq, self.ts, ssrc)
        ext = b"\xbe\xde\x00\x03" + bytes([0x17]) + token + b"\0\0\0"
        self.udp.sendto(head + ext + payload, ("127.0.0.1", port))
        self.last_sent = time.monotonic()

    def line_in(self, line):
        m = re.match(r"^VOICE: (\d+) (\d+) ([0-9a-f]{16})$", line)
        if m:
            self.voice = (int(m[1]), int(m[2]), bytes.fromhex(m[3]))
            self.rtp(b"", False)
        elif line.startswith("PING: "):
            self.tcp.sendall(("PONG: " + line[6:] + "\n").encode())
            return
        elif line.startswith("JOINED: #Lobby") and not getattr(self, "online", False):
            self.online = True
            self.ws.send(1, b"WEB STATE online")
        self.ws.send(1, line.encode())

    def run(self):
        self.ws.send(1, ("WEB NICK " + self.nick).encode())
        self.ws.send(1, b"WEB STATE connecting")
        self.tcp.sendall(('CONNECT: "%s" "Web page" 1.2.0\n' % self.nick).encode())
        socks = [self.ws.sock, self.tcp, self.udp]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 1.0)
                if self.voice and time.monotonic() - self.last_sent > 5:
                    self.rtp(b"", False)
                if self.ws.sock in r or self.ws.buf:
                    op, p = self.ws.recv()
                    if op == 1:
                        self.tcp.sendall(p.replace(b"\n", b"") + b"\n")
                    elif op == 2 and len(p) > 2 and p[0] == 1 and self.voice:
                        self.rtp(p[2:], bool(p[1] & 1))
                if self.tcp in r:
                    d = self.tcp.recv(65536)
                    if not d:
                        self.ws.send(1, b"WEB STATE offline server closed the session")
                        self.ws.close(1011, "server closed")
                        return
                    self.inbuf += d
                    while b"\n" in self.inbuf:
                        line, self.inbuf = self.inbuf.split(b"\n", 1)
                        self.line_in(line.rstrip(b"\r").decode())
                if self.udp in r:
                    pkt = self.udp.recv(2048)
                    if len(pkt) > 12 and pkt[0] & 0xC0 == 0x80:
                        ssrc_seq_ts = pkt[8:12] + pkt[2:4] + pkt[4:8]
                        self.ws.send(2, bytes([1, pkt[1] >> 7]) + ssrc_seq_ts + pkt[12:])
        except (WsClosed, OSError):
            pass
        finally:
            try:
                self.tcp.sendall(b"DISCONNECT\n")
            except OSError:
                pass
            self.tcp.close()
            self.udp.close()


def make_server(page_dir, sink_dir, server_port, nick, on_result):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def reply(self, code, body, ctype="text/plain"):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            path = urllib.parse.urlparse(self.path).path
            if path == "/ws":
                return self.websocket()
            name = "index.html" if path == "/" else path.lstrip("/")
            f = os.path.join(page_dir, name)
            if "/" in name or not os.path.isfile(f):
                return self.reply(404, b"not found")
            with open(f, "rb") as fh:
                self.reply(200, fh.read(), TYPES.get(os.path.splitext(f)[1], "application/octet-stream"))

        def do_POST(self):
            u = urllib.parse.urlparse(self.path)
            name = urllib.parse.parse_qs(u.query).get("name", [""])[0]
            n = int(self.headers.get("Content-Length", "0"))
            if u.path != "/test/result" or not NAME_RE.match(name) or n > SINK_MAX:
                return self.reply(400, b"bad result")
            body = self.rfile.read(n)
            with open(os.path.join(sink_dir, name), "wb") as fh:
                fh.write(body)
            self.reply(204, b"")
            on_result(name)

        def websocket(self):
            key = self.headers.get("Sec-WebSocket-Key", "")
            acc = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", acc)
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            Session(Ws(self.connection), server_port, nick).run()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
