#!/usr/bin/env python3
"""Flame graph from `perf script` output: folds the stacks and draws an SVG.

    perf record -F 999 --call-graph dwarf -p PID -- sleep 5
    perf script | bench/flamegraph.py --title "GET /v1/authz" > authz.svg

Each box is a function; its width is the share of samples in which it was on
the stack, its children sit on top of it. Only the standard library is used.
"""
import argparse
import hashlib
import html
import re
import sys
from collections import defaultdict

FRAME = re.compile(r"^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")


def clean(symbol: str) -> str:
    symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
    if symbol.startswith("[unknown]") or not symbol:
        return "[unknown]"
    # Templates and argument lists make names unreadable at flame-graph widths.
    out, depth = [], 0
    for ch in symbol:
        if ch in "<(":
            if depth == 0:
                out.append("<>" if ch == "<" else "()")
            depth += 1
        elif ch in ">)":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out).replace("<>()", "()")


def fold(lines):
    stacks = defaultdict(int)
    comm, frames = None, []
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            if comm is not None:
                stacks[";".join([comm] + [clean(f) for f in reversed(frames)])] += 1
            comm, frames = None, []
            continue
        if comm is None and not line.startswith((" ", "\t")):
            comm = line.split()[0]
            continue
        m = FRAME.match(line)
        if m:
            frames.append(m.group(1))
    if comm is not None:
        stacks[";".join([comm] + [clean(f) for f in reversed(frames)])] += 1
    return stacks


def color(name: str) -> str:
    h = int(hashlib.md5(name.encode()).hexdigest()[:6], 16)
    if "[k]" in name or name.startswith(("__x64_sys", "do_syscall", "entry_SYSCALL", "tcp_", "ip_", "sock_")):
        return f"rgb({200 + h % 55},{120 + h % 60},{60 + h % 40})"
    if name.startswith("keyward::"):
        return f"rgb({60 + h % 50},{150 + h % 60},{200 + h % 55})"
    return f"rgb({220 + h % 35},{150 + h % 80},{40 + h % 50})"


def svg(stacks, title, width=1200, row=16):
    root = {"n": 0, "kids": {}}
    for stack, count in stacks.items():
        node = root
        node["n"] += count
        for name in stack.split(";"):
            node = node["kids"].setdefault(name, {"n": 0, "kids": {}})
            node["n"] += count
    total = max(1, root["n"])

    def depth(node):
        return 1 + max((depth(k) for k in node["kids"].values()), default=0)

    rows = depth(root)
    height = (rows + 3) * row
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="monospace" font-size="11">',
           f'<rect width="100%" height="100%" fill="#fdfdf6"/>',
           f'<text x="{width / 2}" y="{row}" text-anchor="middle" font-size="14">{html.escape(title)}'
           f" ({total} samples)</text>"]
    scale = (width - 20) / total

    def draw(node, name, x, level):
        w = node["n"] * scale
        if w < 0.3:
            return
        y = height - (level + 1) * row
        pct = 100.0 * node["n"] / total
        label = html.escape(name)
        out.append(f'<g><title>{label} ({node["n"]} samples, {pct:.2f}%)</title>'
                   f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{row - 1}" fill="{color(name)}"/>')
        chars = int(w / 7)
        if chars >= 3:
            text = name if len(name) <= chars else name[: chars - 2] + ".."
            out.append(f'<text x="{x + 2:.1f}" y="{y + row - 4}">{html.escape(text)}</text>')
        out.append("</g>")
        cx = x
        for kid_name, kid in sorted(node["kids"].items()):
            draw(kid, kid_name, cx, level + 1)
            cx += kid["n"] * scale

    x = 10.0
    for name, kid in sorted(root["kids"].items()):
        draw(kid, name, x, 0)
        x += kid["n"] * scale
    out.append("</svg>")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--title", default="CPU flame graph")
    p.add_argument("--folded", action="store_true", help="print folded stacks instead of an SVG")
    a = p.parse_args()
    stacks = fold(sys.stdin)
    if a.folded:
        for stack, count in sorted(stacks.items()):
            print(stack, count)
    else:
        print(svg(stacks, a.title))


if __name__ == "__main__":
    main()
