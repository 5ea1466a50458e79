#!/usr/bin/env python3
"""What a process's own memory holds: reads every resident page of its writable anonymous
mappings (and `[heap]`) through /proc/<pid>/pagemap and /proc/<pid>/mem, and compares two such
readings by content. For the desktop bench's day (issue #25): which text is there once more
per sale, how much is pixels, how much was not resident before.

    scripts/web-memory.py dump <pid> <file>     # root, or the process's own user without Yama
    scripts/web-memory.py wait <dir> <sale> <file>
        # with KASSA_BENCH_SMAPS=<dir>: when the bench writes <sale>-WebKitWebProces.smaps,
        # reads the web process whose parent is Kassa's (not the blank window's)
    scripts/web-memory.py compare <before> <after>

A diagnosis, not a test: the readings hold the page's data (receipts, URLs), keep them local.
"""
import collections
import os
import pickle
import re
import struct
import sys
import time

PAGE = 4096


def dump(pid, out):
    """Every resident (or swapped) page of the writable anonymous mappings: (address, page)."""
    pages = []
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem, open(
        f"/proc/{pid}/pagemap", "rb", 0
    ) as pagemap:
        for line in maps:
            f = line.split()
            start, end = (int(x, 16) for x in f[0].split("-"))
            name = f[5] if len(f) > 5 else ""
            if "rw" not in f[1] or (name and not name.startswith(("[heap", "[anon"))):
                continue
            pagemap.seek(start // PAGE * 8)
            addr = start
            while addr < end:  # 512 entries at a time: JavaScriptCore reserves tens of GB
                n = min(512, (end - addr) // PAGE)
                entries = pagemap.read(n * 8)
                if entries.count(0) != len(entries):
                    for i, (e,) in enumerate(struct.iter_unpack("<Q", entries)):
                        if e >> 62:  # present or swapped
                            try:
                                mem.seek(addr + i * PAGE)
                                pages.append((addr + i * PAGE, mem.read(PAGE)))
                            except OSError:
                                pass
                addr += n * PAGE
    with open(out, "wb") as f:
        pickle.dump(pages, f)
    print(f"{pid}: {len(pages) * 4} kB resident -> {out}")


def kassa_web_process():
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{p}/comm").read().strip() != "WebKitWebProces":
                continue
            parent = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1]
            if open(f"/proc/{parent}/comm").read().startswith("kassa"):
                return int(p)
        except OSError:
            pass
    sys.exit("no web process of Kassa's found")


def kind(page):
    if page.count(0) == PAGE:
        return "zero"
    if page[3::4].count(255) > 900:
        return "pixels (opaque)"
    if page.count(0) > 3500:
        return "mostly zero"
    if sum(1 for c in page if 32 <= c < 127) > 2500:
        return "Latin-1 text"
    return "other"


TEXT8 = re.compile(rb"[\x20-\x7e]{10,}")
TEXT16 = re.compile(rb"(?:[\x20-\x7e\xa0-\xff]\x00){10,}")


def texts(pages):
    """Strings of 10 characters or more, Latin-1 and UTF-16 (WebKit keeps both), counted."""
    c = collections.Counter()
    for _, page in pages:
        for m in TEXT8.finditer(page):
            c[m.group()[:80].decode("latin-1")] += 1
        for m in TEXT16.finditer(page):
            c["UTF-16: " + m.group()[::2][:80].decode("latin-1")] += 1
    return c


def compare(a_path, b_path):
    a, b = (pickle.load(open(p, "rb")) for p in (a_path, b_path))
    for label, pages in (("before", a), ("after", b)):
        kinds = collections.Counter(kind(p) for _, p in pages)
        print(f"{label}: {len(pages) * 4} kB resident:", {k: v * 4 for k, v in kinds.most_common()})
    seen = {addr for addr, _ in a}
    new = [(addr, p) for addr, p in b if addr not in seen]
    kinds = collections.Counter(kind(p) for _, p in new)
    print(f"not resident before: {len(new) * 4} kB:", {k: v * 4 for k, v in kinds.most_common()})
    ta, tb = texts(a), texts(b)
    print("strings with the most more copies (more, before -> after):")
    for s, n in sorted(tb.items(), key=lambda kv: ta.get(kv[0], 0) - kv[1])[:40]:
        if n > ta.get(s, 0):
            print(f"{n - ta.get(s, 0):6} {ta.get(s, 0):6} -> {n:<6} {s!r}")


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["dump", pid, out]:
            dump(int(pid), out)
        case ["wait", directory, sale, out]:
            while not os.path.exists(f"{directory}/{sale}-WebKitWebProces.smaps"):
                time.sleep(0.05)
            dump(kassa_web_process(), out)
        case ["compare", a, b]:
            compare(a, b)
        case _:
            sys.exit(__doc__)
