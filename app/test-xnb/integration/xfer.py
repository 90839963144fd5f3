#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Verified transfers for the tap test, run inside network namespaces.

  xfer.py tcp-recv PORT SECS               accept one connection, read to EOF
  xfer.py tcp-send HOST PORT BYTES SECS     send BYTES of a known stream
  xfer.py udp-recv PORT COUNT SIZE SECS     take COUNT datagrams of SIZE bytes
  xfer.py udp-send HOST PORT COUNT SIZE     send them, paced

HOST may be an IPv6 link-local address with its scope (fe80::4%tap).
Every line printed is "xfer: key=value ...". The stream and every
datagram are made from SHA-256 in counter mode, so the receiver checks
every byte: tcp-recv prints bytes= and sha256=, which the sender's must
match; udp-recv prints received=, bad= (wrong length or content) and
dup= for datagrams it got twice. Exit status 0 unless an error (or, for
the receivers, a timeout) occurred.
"""

import hashlib
import socket
import sys
import time


def block(i):
    """The stream's 32-byte block number i."""
    return hashlib.sha256(b"xnb-xfer %d" % i).digest()


def stream(n):
    """The first n bytes of the stream, in chunks."""
    i = 0
    done = 0
    while done < n:
        chunk = b"".join(block(i + k) for k in range(2048))
        i += 2048
        chunk = chunk[: n - done]
        done += len(chunk)
        yield chunk


def datagram(seq, size):
    """Datagram seq: its number, then blocks derived from it."""
    head = seq.to_bytes(4, "big")
    body = b"".join(hashlib.sha256(b"xnb-dgram %d %d" % (seq, k)).digest()
                    for k in range((size + 31) // 32))
    return (head + body)[:size]


def family_of(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def addr_of(host, port):
    info = socket.getaddrinfo(host, port, family_of(host), socket.SOCK_STREAM)
    return info[0][4]


def tcp_recv(port, secs):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::", port))
    s.listen(1)
    s.settimeout(secs)
    print("xfer: listening", flush=True)
    c, _ = s.accept()
    c.settimeout(secs)
    h = hashlib.sha256()
    n = 0
    while True:
        d = c.recv(1 << 20)
        if not d:
            break
        h.update(d)
        n += len(d)
    print("xfer: bytes=%d sha256=%s" % (n, h.hexdigest()), flush=True)


def tcp_send(host, port, nbytes, secs):
    # The receiver may not listen yet (a loaded host starts it late):
    # refused or unreachable connects are tried again until the deadline.
    deadline = time.monotonic() + secs
    while True:
        c = socket.socket(family_of(host), socket.SOCK_STREAM)
        c.settimeout(secs)
        try:
            c.connect(addr_of(host, port))
            break
        except (ConnectionRefusedError, OSError) as e:
            c.close()
            if time.monotonic() >= deadline or isinstance(e, socket.timeout):
                raise
            time.sleep(0.2)
    h = hashlib.sha256()
    n = 0
    for chunk in stream(nbytes):
        c.sendall(chunk)
        h.update(chunk)
        n += len(chunk)
    c.shutdown(socket.SHUT_WR)
    c.recv(1)
    print("xfer: bytes=%d sha256=%s" % (n, h.hexdigest()), flush=True)


def udp_recv(port, count, size, secs):
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    try:
        # Past rmem_max (we are root): a burst must not overflow it.
        s.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_RCVBUFFORCE", 33), 16 << 20)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    s.bind(("::", port))
    print("xfer: listening", flush=True)
    seen = set()
    bad = dup = 0
    deadline = time.monotonic() + secs
    while len(seen) < count:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        seq = int.from_bytes(d[:4], "big") if len(d) >= 4 else -1
        if len(d) != size or seq >= count or d != datagram(seq, size):
            bad += 1
        elif seq in seen:
            dup += 1
        else:
            seen.add(seq)
    print("xfer: received=%d bad=%d dup=%d" % (len(seen), bad, dup), flush=True)
    return 0 if len(seen) == count else 1


def udp_send(host, port, count, size):
    s = socket.socket(family_of(host), socket.SOCK_DGRAM)
    dst = addr_of(host, port)
    for seq in range(count):
        s.sendto(datagram(seq, size), dst)
        # Paced: no queue on the way overflows, even while the receiving
        # guest waits some tens of ms for a core (2 cores, testpmd polling
        # one; 16 datagrams per pause once lost three pauses' worth).
        if seq % 4 == 3:
            time.sleep(0.005)
    print("xfer: sent=%d" % count, flush=True)


def main(argv):
    cmd = argv[1] if len(argv) > 1 else ""
    if cmd == "tcp-recv" and len(argv) == 4:
        tcp_recv(int(argv[2]), float(argv[3]))
    elif cmd == "tcp-send" and len(argv) == 6:
        tcp_send(argv[2], int(argv[3]), int(argv[4]), float(argv[5]))
    elif cmd == "udp-recv" and len(argv) == 6:
        return udp_recv(int(argv[2]), int(argv[3]), int(argv[4]), float(argv[5]))
    elif cmd == "udp-send" and len(argv) == 6:
        udp_send(argv[2], int(argv[3]), int(argv[4]), int(argv[5]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
