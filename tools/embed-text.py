#!/usr/bin/env python3
"""Write a C header holding a text file as one string constant.

usage: embed-text.py NAME INPUT OUTPUT
The header defines `static const char NAME[]` with INPUT's bytes (UTF-8 text).
"""
import sys


def main() -> int:
    if len(sys.argv) != 4:
        print("usage: embed-text.py NAME INPUT OUTPUT", file=sys.stderr)
        return 64
    name, src, dst = sys.argv[1:]
    data = open(src, "rb").read()
    out = ["/* generated from %s by tools/embed-text.py; do not edit */" % src.rsplit("/", 1)[-1],
           "static const char %s[] =" % name]
    for line in data.decode("utf-8").splitlines(keepends=True):
        esc = []
        for ch in line.encode("utf-8"):
            c = chr(ch)
            if c == "\\":
                esc.append("\\\\")
            elif c == '"':
                esc.append('\\"')
            elif c == "?":
                esc.append("\\?")  # no trigraphs under -std=c11
            elif c == "\n":
                esc.append("\\n")
            elif c == "\t":
                esc.append("\\t")
            elif 32 <= ch < 127:
                esc.append(c)
            else:
                esc.append("\\%03o" % ch)
        out.append('\t"%s"' % "".join(esc))
    out[-1] += ";"
    with open(dst, "w") as f:
        f.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
