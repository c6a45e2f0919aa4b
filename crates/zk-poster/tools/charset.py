"""Prints the characters the bundled poster fonts keep: GB2312 (every code that decodes), CJK
punctuation, full-width forms, ASCII, Latin-1 and common typographic symbols. One line, for
pyftsubset --text-file."""
import sys

chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
ranges = [
    (0x20, 0x7E),      # ASCII
    (0xA0, 0xFF),      # Latin-1 supplement
    (0x2010, 0x2027),  # dashes, quotes, ellipsis, bullet
    (0x2030, 0x203B),  # per mille, primes, reference mark
    (0x20AC, 0x20AC),  # euro
    (0x2100, 0x2122),  # letterlike: ℃ № ™
    (0x2190, 0x2193),  # arrows
    (0x2460, 0x2473),  # circled numbers
    (0x25A0, 0x25CF),  # squares, triangles, circles
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3380, 0x33DF),  # squared units: ㎡ ㎏ ㎜ ㎝ ㎞
    (0xFF01, 0xFF5E),  # full-width forms
    (0xFFE0, 0xFFE6),  # full-width signs
]
for lo, hi in ranges:
    chars.update(chr(c) for c in range(lo, hi + 1))
sys.stdout.write("".join(sorted(chars)))
