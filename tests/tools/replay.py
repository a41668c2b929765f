#!/usr/bin/env python3
"""An attacker's replay of captured UDP datagrams (tests only).

usage: replay.py PCAP --sport N|any --dport N --to ADDR [--to-port N] [--from ADDR]
                 [--from-port N] [--count N]

Reads an Ethernet pcap (tcpdump -w), takes the IPv4 UDP datagrams with that
source and destination port, and sends each payload, as it was captured, to
ADDR (port --to-port, default the captured destination port) from --from
(default: this host's own address, through an ordinary socket; with --from,
a raw socket spoofs the source address). Prints how many were sent.
"""
import argparse
import socket
import struct


def datagrams(path, sport, dport):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(endian + "IIII", data[off:off + 16])
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if linktype == 1:  # Ethernet
            if len(pkt) < 14 or struct.unpack("!H", pkt[12:14])[0] != 0x0800:
                continue
            ip = pkt[14:]
        elif linktype == 113:  # Linux cooked
            if len(pkt) < 16 or struct.unpack("!H", pkt[14:16])[0] != 0x0800:
                continue
            ip = pkt[16:]
        else:
            raise SystemExit(f"replay: link type {linktype} not handled")
        if len(ip) < 20 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp = ip[ihl:]
        if len(udp) < 8:
            continue
        sp, dp, ulen = struct.unpack("!HHH", udp[:6])
        if (sport is None or sp == sport) and dp == dport:
            yield sp, dp, udp[8:ulen]


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def spoofed(src, sport, dst, dport, payload):
    udp_len = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, 0x4242, 0, 64, 17, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + udp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("pcap")
    ap.add_argument("--sport", default="any")
    ap.add_argument("--dport", type=int, required=True)
    ap.add_argument("--to", required=True)
    ap.add_argument("--to-port", type=int)
    ap.add_argument("--from", dest="src")
    ap.add_argument("--from-port", type=int)
    ap.add_argument("--count", type=int, default=1000)
    a = ap.parse_args()
    sport = None if a.sport == "any" else int(a.sport)
    n = 0
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) if a.src else None
    plain = None if a.src else socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for sp, dp, payload in datagrams(a.pcap, sport, a.dport):
        if n >= a.count:
            break
        port = a.to_port or dp
        if raw:
            raw.sendto(spoofed(a.src, a.from_port or sp, a.to, port, payload), (a.to, 0))
        else:
            plain.sendto(payload, (a.to, port))
        n += 1
    print(n)


if __name__ == "__main__":
    main()
