#!/usr/bin/env python3
"""A deliberately bad HTTP server for flywheel's staging tests.

  /endless      200, no Content-Length, bytes forever
  /trickle      200, Content-Length 1000, one byte every 0.5 s
  /lie          200, Content-Length 10, then 20 bytes
Usage: hostile_server.py PORT
"""
import http.server
import socketserver
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        try:
            if self.path.startswith("/endless"):
                self.send_response(200)
                self.end_headers()
                chunk = b"x" * 65536
                while True:
                    self.wfile.write(chunk)
            elif self.path.startswith("/trickle"):
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                for _ in range(1000):
                    self.wfile.write(b"y")
                    self.wfile.flush()
                    time.sleep(0.5)
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            pass


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
