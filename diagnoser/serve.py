#!/usr/bin/python3
"""simrun's reference diagnoser as a server of the window API
(docs/diagnosers.md): POST a window (any path), get
{"label", "target", "confidence"}.

  diagnoser/serve.py --model MODEL.json [--host 127.0.0.1] [--port 0]

Prints the port it listens on, then serves until SIGTERM.  Sessions are
kept apart by the window's "session": the topology a session's first
window carries is used for its later ones, and the session's history
(features.History: its traffic level so far) makes some features
relative to that network's own normal."""
import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from simrun_diagnoser import features, forest  # noqa: E402
from simrun_diagnoser.topology import Topology  # noqa: E402

MAX_BODY = 64 * 1024 * 1024


class Diagnoser(object):
    def __init__(self, model):
        self.model = model
        self.sessions = {}
        self.lock = threading.Lock()

    def diagnose(self, window):
        session = str(window.get('session', ''))
        with self.lock:
            if window.get('topology') or session not in self.sessions:
                self.sessions[session] = (Topology(window.get('topology')), features.History(),
                                          threading.Lock())
            topo, history, lock = self.sessions[session]
        # One session's windows in turn (its history is shared); sessions
        # side by side.
        with lock:
            x, hints = features.extract(window, topo, history)
        label, p = self.model.predict(x)
        out = {'label': label, 'confidence': round(p, 4)}
        if label != 'normal':
            target = features.target_of(label, x, hints)
            if target:
                out['target'] = target
        return out


def handler(diag):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get('Content-Length') or 0)
            if n <= 0 or n > MAX_BODY:
                self.reply(413 if n > MAX_BODY else 400, {'error': 'a window is a JSON body'})
                return
            try:
                window = json.loads(self.rfile.read(n))
                if not isinstance(window, dict):
                    raise ValueError('not an object')
            except ValueError as exc:
                self.reply(400, {'error': 'not a window: %s' % exc})
                return
            self.reply(200, diag.diagnose(window))

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--model', required=True)
    ap.add_argument('--host', default='127.0.0.1')
    ap.add_argument('--port', type=int, default=0)
    args = ap.parse_args()
    diag = Diagnoser(forest.Forest.load(args.model))
    server = ThreadingHTTPServer((args.host, args.port), handler(diag))
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()
