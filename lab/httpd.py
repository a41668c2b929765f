#!/usr/bin/env python3
"""The lab VM's web server: Python's http.server for a directory, each connection's sending
paced by the kernel (SO_MAX_PACING_RATE) so that a download is an even stream whose stalls are
the network's, not the client's or the server's own bursts.

usage: httpd.py ADDRESS PORT DIRECTORY RATE-BYTES-PER-SECOND (0: unpaced)
"""
import functools
import http.server
import socket
import socketserver
import sys

SO_MAX_PACING_RATE = getattr(socket, "SO_MAX_PACING_RATE", 47)


class Paced(http.server.SimpleHTTPRequestHandler):
    rate = 0

    def setup(self):
        super().setup()
        if self.rate:
            self.connection.setsockopt(socket.SOL_SOCKET, SO_MAX_PACING_RATE, self.rate)

    def log_message(self, *args):
        pass


class Server(http.server.ThreadingHTTPServer):
    def server_bind(self):
        # HTTPServer's own looks the address up in the DNS (getfqdn): none of that here
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    addr, port, directory, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    Paced.rate = rate
    handler = functools.partial(Paced, directory=directory)
    Server((addr, port), handler).serve_forever()


if __name__ == "__main__":
    main()
