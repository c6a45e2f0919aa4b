#!/usr/bin/env python3
"""Draws the ZK-Agent app icons (RGBA PNG) with the standard library only; no downloads.

    python3 icons/generate.py      # writes 32x32.png, 128x128.png, 128x128@2x.png and icon.png here

The mark: a rounded square in deep blue with a white "Z" stroke and a small amber node, the agent.
Each pixel is 4x4 supersampled, so edges are smooth at every size.
"""
import math
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZES = {"32x32.png": 32, "128x128.png": 128, "128x128@2x.png": 256, "icon.png": 512}
SAMPLES = 4

BACKGROUND_TOP = (29, 78, 216)  # blue 700
BACKGROUND_BOTTOM = (30, 58, 138)  # blue 900
WHITE = (255, 255, 255)
AMBER = (251, 191, 36)


def inside_rounded_square(x, y, margin=0.06, radius=0.2):
    lo, hi = margin, 1 - margin
    if not (lo <= x <= hi and lo <= y <= hi):
        return False
    cx = min(max(x, lo + radius), hi - radius)
    cy = min(max(y, lo + radius), hi - radius)
    return (x - cx) ** 2 + (y - cy) ** 2 <= radius**2


def distance_to_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


# The "Z": top bar, diagonal, bottom bar (unit square coordinates, y down).
Z_SEGMENTS = [(0.30, 0.30, 0.70, 0.30), (0.70, 0.30, 0.30, 0.70), (0.30, 0.70, 0.70, 0.70)]
Z_HALF_WIDTH = 0.055
NODE = (0.70, 0.70, 0.085)


def colour_at(x, y):
    """RGBA of one sample point."""
    if not inside_rounded_square(x, y):
        return (0, 0, 0, 0)
    nx, ny, nr = NODE
    if math.hypot(x - nx, y - ny) <= nr:
        return (*AMBER, 255)
    if any(distance_to_segment(x, y, *s) <= Z_HALF_WIDTH for s in Z_SEGMENTS):
        return (*WHITE, 255)
    t = y
    return tuple(round(a + (b - a) * t) for a, b in zip(BACKGROUND_TOP, BACKGROUND_BOTTOM)) + (255,)


def render(size):
    rows = []
    for j in range(size):
        row = bytearray([0])  # PNG filter type 0 (None)
        for i in range(size):
            acc = [0, 0, 0, 0]
            for sj in range(SAMPLES):
                for si in range(SAMPLES):
                    r, g, b, a = colour_at((i + (si + 0.5) / SAMPLES) / size, (j + (sj + 0.5) / SAMPLES) / size)
                    acc[0] += r * a
                    acc[1] += g * a
                    acc[2] += b * a
                    acc[3] += a
            alpha = acc[3]
            if alpha == 0:
                row += bytes(4)
            else:
                row += bytes([round(acc[0] / alpha), round(acc[1] / alpha), round(acc[2] / alpha),
                              round(alpha / SAMPLES**2)])
        rows.append(bytes(row))
    return b"".join(rows)


def png(size, pixels):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(pixels, 9)) + chunk(b"IEND", b"")


def main():
    for name, size in SIZES.items():
        (HERE / name).write_bytes(png(size, render(size)))
        print(f"icons/{name}: {size}x{size}")


if __name__ == "__main__":
    main()
