#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Seeds for the snapfile fuzzer from real snapshot files.

Usage: snapfile_seeds.py OUTDIR NAME=SNAPSHOT...

For each snapshot (written by `leaktop daemon`), OUTDIR/NAME.lts is the
file as is and OUTDIR/NAME.payload a 0 byte followed by its decompressed
payload: the form in which tests/fuzz/fuzz_snapfile.c compresses the rest
and adds a valid header (docs/snapshot-format.md).
"""

import sys
import zlib
from pathlib import Path

HDR_LEN = 44


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__.strip().splitlines()[2])
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for arg in argv[2:]:
        name, path = arg.split("=", 1)
        data = Path(path).read_bytes()
        (out / f"{name}.lts").write_bytes(data)
        (out / f"{name}.payload").write_bytes(b"\0" + zlib.decompress(data[HDR_LEN:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
