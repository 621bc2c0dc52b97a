#!/usr/bin/env python3
"""A misbehaving upstream for the push tests: an HTTP(S) server on loopback in front of a
real fleet-receiver that answers each POST according to a plan, then passes the rest
through. Every request is logged as one line "<unix time> <fault> <bytes>" to --log.

Plan: comma-separated faults, used in order, one per request; "pass" after the plan ends.
  pass         forward to the receiver, relay its answer
  500          answer 500 without forwarding
  503-after    forward (the receiver stores the batch), then answer 503
  429:N        answer 429 with Retry-After: N
  401          answer 401
  garbage      answer 200 with an HTML body
  truncated    forward, then answer 200 announcing the full length but sending half
  slow:N       wait N seconds before forwarding (the agent's timeout should fire first)
  drop         close the connection without a word
"""
import argparse
import http.server
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.request


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--plan", default="")
    parser.add_argument("--log", required=True)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    args = parser.parse_args()
    plan = [p for p in args.plan.split(",") if p]
    lock = threading.Lock()
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *unused):
            pass

        def reply(self, status, body, headers=()):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def forward(self, body):
            request = urllib.request.Request(
                args.upstream + self.path, data=body, method="POST",
                headers={"Content-Type": self.headers.get("Content-Type", "")})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    return answer.status, answer.read()
            except urllib.error.HTTPError as error:
                return error.code, error.read()
            except OSError as error:
                return 502, ('{"error":"proxy: %s"}' % error).encode()

        def do_GET(self):
            self.reply(200, b'{"ok":true}')

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                fault = plan.pop(0) if plan else "pass"
            log.write("%.3f %s %d\n" % (time.time(), fault, len(body)))
            if fault == "pass":
                self.reply(*self.forward(body))
            elif fault == "500":
                self.reply(500, b'{"error":"injected"}')
            elif fault == "503-after":
                self.forward(body)
                self.reply(503, b'{"error":"injected after storing"}')
            elif fault.startswith("429:"):
                self.reply(429, b'{"error":"slow down"}', [("Retry-After", fault[4:])])
            elif fault == "401":
                self.reply(401, b'{"error":"unknown key (injected)"}')
            elif fault == "garbage":
                self.reply(200, b"<html><body>502 Bad Gateway</body></html>")
            elif fault == "truncated":
                status, answer = self.forward(body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer[: len(answer) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif fault.startswith("slow:"):
                time.sleep(float(fault[5:]))
                try:
                    self.reply(*self.forward(body))
                except OSError:
                    pass
            elif fault == "drop":
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            else:
                sys.exit("unknown fault " + fault)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.listen), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("listening", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
