"""chakra_bundle.py SET_DIR OUT [RANK ...] - packs a trace set written by
`plandag compile --emit chakra` into one fuzz_chakra input (see fuzz_chakra.c): the flags
byte, comm_groups.json, then each rank's .et file (all ranks, or the ones named)."""
import glob
import os
import re
import sys


def varint(n):
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7f) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def main():
    d, out = sys.argv[1], sys.argv[2]
    files = {}
    for p in glob.glob(os.path.join(d, "*.et")):
        files[int(re.match(r".*\.(\d+)\.et$", p).group(1))] = p
    ranks = [int(r) for r in sys.argv[3:]] or sorted(files)
    with open(os.path.join(d, "comm_groups.json"), "rb") as f:
        groups = f.read()
    blob = bytearray(b"\x01") + varint(len(groups)) + groups
    for r in ranks:
        with open(files[r], "rb") as f:
            b = f.read()
        blob += varint(len(b)) + b
    with open(out, "wb") as f:
        f.write(blob)


main()
