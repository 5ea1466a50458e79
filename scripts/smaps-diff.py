#!/usr/bin/env python3
"""Which mappings of one process grew between two `smaps` files (the desktop bench's
`KASSA_BENCH_SMAPS`): PSS by kind (a named file, [heap], [stack], anonymous), the anonymous
part split into private dirty and the rest, largest changes first.

    scripts/smaps-diff.py target/bench/smaps/10-WebKitWebProces.smaps target/bench/smaps/300-WebKitWebProces.smaps
"""
import collections
import re
import sys

HEADER = re.compile(r"^[0-9a-f]+-[0-9a-f]+ ")


def read(path):
    """PSS and private dirty (kB) by mapping name: a file's path, or `[anon]`."""
    by = collections.defaultdict(lambda: [0, 0, 0])
    name = None
    with open(path) as f:
        for line in f:
            if HEADER.match(line):
                parts = line.split(None, 5)
                name = parts[5].strip() if len(parts) > 5 and parts[5].strip() else "[anon]"
                by[name][2] += 1
            elif line.startswith("Pss:"):
                by[name][0] += int(line.split()[1])
            elif line.startswith("Private_Dirty:"):
                by[name][1] += int(line.split()[1])
    return by


def main():
    a, b = read(sys.argv[1]), read(sys.argv[2])
    rows = []
    for name in set(a) | set(b):
        pa, da, na = a.get(name, [0, 0, 0])
        pb, db, nb = b.get(name, [0, 0, 0])
        if pa != pb or da != db:
            rows.append((pb - pa, db - da, na, nb, name))
    rows.sort(key=lambda r: -abs(r[0]))
    total = sum(r[0] for r in rows)
    print(f"PSS {sum(v[0] for v in a.values())} -> {sum(v[0] for v in b.values())} kB ({total:+} kB)")
    print(f"{'PSS kB':>8} {'dirty kB':>9} {'maps':>9}  name")
    for dp, dd, na, nb, name in rows[:25]:
        print(f"{dp:+8} {dd:+9} {na:>4}->{nb:<4}  {name}")


if __name__ == "__main__":
    main()
