#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Check a capture (pcapng from dpdk-dumpcap, pcap from dpdk-pdump)
against the frames xnb-guest's gen mode sends (--proto raw).

  capture.py FILE --sizes 60,1514,9000 --src MAC [--dst MAC]

Every frame is rebuilt from its number and length as xnb-guest's
frame_build() makes it and compared byte for byte. One line on stdout:

  frames=N in=N out=N nodir=N in_bytes=B out_bytes=B nodir_bytes=B bad=N
  truncated=N
  in_seq=0-K out_seq=0-K nodir_seq=0-K

where in/out is the direction pcapng's epb_flags give (dumpcap: in is
what the port received from the guest, out what it sent to it); a pcap
file has none (nodir). *_seq is "0-K" when the frames of that direction
are numbers 0 to K, each once and in order, "none" without frames, else
"disorder". The first bad frames are described on stderr. Exit status
0 when the file could be read, 1 when not.
"""

import struct
import sys

GUEST_ETHERTYPE = 0x88B5
GUEST_MAGIC = 0x474E4258
MAX_FRAME = 65536 + 8
MASK64 = (1 << 64) - 1


def mix32(x):
    x &= MASK64
    x ^= x >> 33
    x = (x * 0xFF51AFD7ED558CCD) & MASK64
    x ^= x >> 33
    x = (x * 0xC4CEB9FE1A85EC53) & MASK64
    x ^= x >> 33
    return x & 0xFFFFFFFF


BASE = bytes(((i * 0x9D) & 0xFF) ^ ((i >> 8) & 0xFF) for i in range(MAX_FRAME))


def frame_build(seq, length, src, dst):
    """xnb-guest's frame_build() for --proto raw."""
    x = mix32(seq + 1)
    key = struct.pack("<Q", x << 32 | x)
    pattern = int.from_bytes(BASE[:length], "little") ^ \
        int.from_bytes((key * ((length + 7) // 8))[:length], "little")
    f = bytearray(pattern.to_bytes(length, "little"))
    f[0:6] = dst
    f[6:12] = src
    f[12:14] = struct.pack(">H", GUEST_ETHERTYPE)
    f[14:26] = struct.pack(">III", GUEST_MAGIC, seq & 0xFFFFFFFF, length)
    return bytes(f)


def read_pcapng(data):
    """(direction, caplen, origlen, bytes): direction 'in', 'out' or None."""
    out = []
    off = 0
    order = "<"
    while off + 12 <= len(data):
        btype = struct.unpack_from(order + "I", data, off)[0]
        if btype == 0x0A0D0D0A:
            bom = data[off + 8:off + 12]
            order = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
        blen = struct.unpack_from(order + "I", data, off + 4)[0]
        if blen < 12 or off + blen > len(data):
            raise ValueError("truncated pcapng block at offset %d" % off)
        if btype == 6:  # enhanced packet block
            caplen, origlen = struct.unpack_from(order + "II", data, off + 20)
            pkt = data[off + 28:off + 28 + caplen]
            direction = None
            o = off + 28 + ((caplen + 3) & ~3)
            end = off + blen - 4
            while o + 4 <= end:
                code, olen = struct.unpack_from(order + "HH", data, o)
                if code == 0:
                    break
                if code == 2 and olen == 4:  # epb_flags
                    flags = struct.unpack_from(order + "I", data, o + 4)[0]
                    direction = {1: "in", 2: "out"}.get(flags & 3)
                o += 4 + ((olen + 3) & ~3)
            out.append((direction, caplen, origlen, pkt))
        off += blen
    return out


def read_pcap(data):
    magic = struct.unpack_from("<I", data, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        order = "<"
    else:
        order = ">"
    out = []
    off = 24
    while off + 16 <= len(data):
        caplen, origlen = struct.unpack_from(order + "II", data, off + 8)
        out.append((None, caplen, origlen, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def seq_summary(seqs):
    if not seqs:
        return "none"
    if seqs == list(range(len(seqs))):
        return "0-%d" % (len(seqs) - 1)
    return "disorder"


def main():
    args = sys.argv[1:]
    if len(args) < 5 or args[1] != "--sizes" or args[3] != "--src":
        sys.stderr.write(__doc__)
        return 1
    path, sizes, src = args[0], [int(s) for s in args[2].split(",")], args[4]
    dst = "ff:ff:ff:ff:ff:ff"
    if len(args) >= 7 and args[5] == "--dst":
        dst = args[6]
    src = bytes(int(b, 16) for b in src.split(":"))
    dst = bytes(int(b, 16) for b in dst.split(":"))
    try:
        with open(path, "rb") as fh:
            data = fh.read()
        if len(data) >= 4 and struct.unpack_from("<I", data, 0)[0] == 0x0A0D0D0A:
            pkts = read_pcapng(data)
        elif len(data) >= 24:
            pkts = read_pcap(data)
        else:
            raise ValueError("not a pcap or pcapng file (%d bytes)" % len(data))
    except (OSError, ValueError, struct.error) as e:
        sys.stderr.write("capture.py: %s: %s\n" % (path, e))
        return 1
    count = {"in": 0, "out": 0, None: 0}
    nbytes = {"in": 0, "out": 0, None: 0}
    seqs = {"in": [], "out": [], None: []}
    bad = truncated = 0

    def complain(why, i):
        if bad + truncated <= 5:
            sys.stderr.write("capture.py: %s: frame %d: %s\n" % (path, i, why))

    for i, (direction, caplen, origlen, pkt) in enumerate(pkts):
        count[direction] += 1
        nbytes[direction] += origlen
        if caplen != origlen or len(pkt) != origlen:
            truncated += 1
            complain("%d of %d bytes captured" % (len(pkt), origlen), i)
            continue
        if len(pkt) < 26 or struct.unpack_from(">HI", pkt, 12) != (GUEST_ETHERTYPE, GUEST_MAGIC):
            bad += 1
            complain("not a frame of xnb-guest (%d bytes)" % len(pkt), i)
            continue
        seq, length = struct.unpack_from(">II", pkt, 18)
        if length != len(pkt) or length != sizes[seq % len(sizes)]:
            bad += 1
            complain("frame %d: %d bytes, its header says %d, gen sends %d" %
                     (seq, len(pkt), length, sizes[seq % len(sizes)]), i)
            continue
        want = frame_build(seq, length, src, dst)
        if pkt != want:
            first = next(k for k in range(length) if pkt[k] != want[k])
            bad += 1
            complain("frame %d differs from what the guest sent at byte %d" % (seq, first), i)
            continue
        seqs[direction].append(seq)
    print("frames=%d in=%d out=%d nodir=%d in_bytes=%d out_bytes=%d nodir_bytes=%d "
          "bad=%d truncated=%d "
          "in_seq=%s out_seq=%s nodir_seq=%s" %
          (len(pkts), count["in"], count["out"], count[None], nbytes["in"], nbytes["out"],
           nbytes[None], bad, truncated, seq_summary(seqs["in"]), seq_summary(seqs["out"]),
           seq_summary(seqs[None])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
