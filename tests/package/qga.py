#!/usr/bin/env python3
"""Runs a command in a QEMU guest through its guest agent (qemu-guest-agent, virtio-serial).

usage: qga.py SOCKET [-t SECONDS] -- COMMAND   runs `sh -c COMMAND` in the guest; its output is
                                               printed and its exit code is this one's
       qga.py SOCKET [-t SECONDS] --ping       waits until the agent answers (exit 0), or fails

The agent speaks JSON over the port's byte stream. First a 0xFF byte (it resets the agent's
parser, should an earlier client have left half a command) and guest-sync-delimited with a fresh
id (its answer, after a 0xFF, tells where the stale output an earlier client left unread ends),
then guest-exec and guest-exec-status until the process has exited. Exit 124 when the command or the agent takes longer than SECONDS."""
import base64
import json
import os
import socket
import sys
import time


class Agent:
    def __init__(self, path, deadline):
        self.deadline = deadline
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(max(0.1, deadline - time.monotonic()))
        self.sock.connect(path)
        self.buf = b""

    def send(self, cmd, args=None):
        msg = {"execute": cmd}
        if args is not None:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")

    def recv(self):
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                line = line.strip(b"\xff \r")
                if not line:
                    continue
                try:
                    return json.loads(line)
                except ValueError:
                    continue  # a partial line left by an earlier client
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer")
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the guest agent closed the connection")
            self.buf += data

    def call(self, cmd, args=None):
        self.send(cmd, args)
        return self.recv()

    def sync(self):
        # the answer with our id ends what is stale: anything before it is an earlier
        # client's, or the agent's complaint about the half command the 0xFF cut short
        want = int.from_bytes(os.urandom(4), "big") >> 1
        self.sock.sendall(b"\xff")
        self.send("guest-sync-delimited", {"id": want})
        while self.recv().get("return") != want:
            pass


def main():
    argv = sys.argv[1:]
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    path, argv = argv[0], argv[1:]
    timeout = 60.0
    if argv[0] == "-t":
        timeout, argv = float(argv[1]), argv[2:]
    deadline = time.monotonic() + timeout
    if argv == ["--ping"]:
        while time.monotonic() < deadline:
            try:
                a = Agent(path, min(deadline, time.monotonic() + 5))
                a.sync()
                return 0
            except (OSError, TimeoutError, ConnectionError):
                time.sleep(0.5)
        return 124
    if argv[0] != "--" or len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        a = Agent(path, deadline)
        a.sync()
        r = a.call("guest-exec", {"path": "/bin/sh", "arg": ["-c", argv[1]],
                                  "capture-output": True})
        if "error" in r:
            print("qga: guest-exec: %s" % r["error"].get("desc"), file=sys.stderr)
            return 125
        pid = r["return"]["pid"]
        while True:
            st = a.call("guest-exec-status", {"pid": pid})["return"]
            if st.get("exited"):
                break
            time.sleep(0.05)
            if time.monotonic() > deadline:
                raise TimeoutError("guest-exec-status")
    except TimeoutError as e:
        print("qga: no answer in %g s (%s)" % (timeout, e), file=sys.stderr)
        return 124
    except OSError as e:
        print("qga: %s" % e, file=sys.stderr)
        return 125
    sys.stdout.buffer.write(base64.b64decode(st.get("out-data", "")))
    sys.stderr.buffer.write(base64.b64decode(st.get("err-data", "")))
    if "signal" in st:
        return 128 + st["signal"]
    return st.get("exitcode", 125)


if __name__ == "__main__":
    sys.exit(main())
