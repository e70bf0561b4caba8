#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only OR MIT
"""dgmm-plot: VRAM and GTT occupancy over time, per device, from a trace.

    dgmm_plot.py TRACE OUT.png

TRACE is a trace-cmd trace.dat (read with `trace-cmd report`) or the text
of one (`trace-cmd report` output, or tracefs's `trace` file). It needs
dgmm's dgmm_bo_create, dgmm_bo_move and dgmm_bo_destroy events; each BO's
size is followed from placement to placement (a BO the trace never saw
placed counts from its first move). Evictions (dgmm_bo_move reason=evict)
and move_notify (dgmm_dmabuf_move_notify) are marked on each device's
plot. Prints one line per device: peak VRAM and GTT, moves by reason.
"""
import collections
import re
import subprocess
import sys

EVENT = re.compile(r"\s(\d+\.\d+): (dgmm_\w+):\s+(.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")
MiB = 1024 * 1024


def lines_of(path):
    with open(path, "rb") as f:
        head = f.read(10)
    if head.startswith(b"\x17\x08\x44tracing"):
        out = subprocess.run(["trace-cmd", "report", path], check=True,
                             capture_output=True, text=True).stdout
        return out.splitlines()
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


def parse(lines):
    """Yields (time, event, fields) for each dgmm event."""
    for line in lines:
        m = EVENT.search(line)
        if m:
            yield float(m.group(1)), m.group(2), dict(FIELD.findall(m.group(3)))


def follow(events):
    """Per device: occupancy samples per region, evictions, move_notifies."""
    devs = collections.defaultdict(lambda: {
        "where": {}, "size": {}, "used": collections.Counter(),
        "samples": {"vram": [], "gtt": []}, "evict": [], "notify": [],
        "reasons": collections.Counter(), "peak": collections.Counter()})
    start = None
    for t, name, f in events:
        start = t if start is None else start
        t -= start
        d = devs[f.get("dev", "?")]
        bo = f.get("bo")
        if name == "dgmm_bo_move":
            size = int(f["size"])
            old = d["where"].get(bo)
            if old in ("vram", "gtt"):
                d["used"][old] -= size
            d["where"][bo] = f["to"]
            d["size"][bo] = size
            if f["to"] in ("vram", "gtt"):
                d["used"][f["to"]] += size
            d["reasons"][f["reason"]] += 1
            if f["reason"] == "evict":
                d["evict"].append(t)
        elif name == "dgmm_bo_destroy":
            old = d["where"].pop(bo, None)
            if old in ("vram", "gtt"):
                d["used"][old] -= d["size"].pop(bo, int(f.get("size", 0)))
        elif name == "dgmm_dmabuf_move_notify":
            d["notify"].append(t)
        else:
            continue
        for r in ("vram", "gtt"):
            d["samples"][r].append((t, max(d["used"][r], 0) / MiB))
            d["peak"][r] = max(d["peak"][r], d["used"][r])
    return devs


def plot(devs, out):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted(devs)
    fig, axes = plt.subplots(len(names), 1, figsize=(11, 3.6 * len(names)),
                             squeeze=False, sharex=True)
    for ax, dev in zip(axes[:, 0], names):
        d = devs[dev]
        for r, colour in (("vram", "tab:red"), ("gtt", "tab:blue")):
            s = d["samples"][r]
            if s:
                ax.step([p[0] for p in s], [p[1] for p in s], where="post",
                        color=colour, label=f"{r.upper()} in use (MiB)")
        top = max([p[1] for r in ("vram", "gtt") for p in d["samples"][r]] or [1])
        if d["evict"]:
            ax.plot(d["evict"], [top * 1.04] * len(d["evict"]), "|", color="black",
                    markersize=9, label=f"eviction ({len(d['evict'])})")
        if d["notify"]:
            ax.plot(d["notify"], [top * 1.10] * len(d["notify"]), "|",
                    color="tab:green", markersize=9,
                    label=f"move_notify ({len(d['notify'])})")
        ax.set_title(f"dgmm device {dev}")
        ax.set_ylabel("MiB")
        ax.set_ylim(0, top * 1.18)
        ax.legend(loc="upper left", fontsize=8, framealpha=0.9)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel("seconds since the first traced event")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    devs = follow(parse(lines_of(sys.argv[1])))
    if not devs:
        sys.exit(f"dgmm-plot: no dgmm_bo_move events in {sys.argv[1]}")
    for dev in sorted(devs):
        d = devs[dev]
        reasons = ", ".join(f"{k} {v}" for k, v in sorted(d["reasons"].items()))
        print(f"{dev}: peak VRAM {d['peak']['vram'] / MiB:.1f} MiB, "
              f"peak GTT {d['peak']['gtt'] / MiB:.1f} MiB; moves: {reasons}; "
              f"move_notify {len(d['notify'])}")
    plot(devs, sys.argv[2])
    print(f"dgmm-plot: {sys.argv[2]}")


if __name__ == "__main__":
    main()
