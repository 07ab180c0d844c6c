#!/usr/bin/env python3
"""Replace (or append) one `## HEADING` section of docs/PERFORMANCE.md.

usage: write-section.py PERFORMANCE.md "HEADING" BODY-FILE
Every benchmark owns one section; the rest of the file is left as it is.
"""
import os
import re
import sys

path, heading, body_file = sys.argv[1], sys.argv[2], sys.argv[3]
body = open(body_file, encoding="utf-8").read().strip("\n")
section = f"## {heading}\n\n{body}\n"
if os.path.exists(path):
    text = open(path, encoding="utf-8").read()
else:
    text = ("# Performance\n\nflywheel runs before every Bazel command, so its start-up is the "
            "product's hot path. Each section below is written by the benchmark named in it; "
            "rerun the benchmark to refresh its figures.\n")
pat = re.compile(r"^## " + re.escape(heading) + r"\n.*?(?=^## |\Z)", re.S | re.M)
if pat.search(text):
    text = pat.sub(lambda m: section + "\n", text, count=1)
else:
    text = text.rstrip("\n") + "\n\n" + section
text = text.rstrip("\n") + "\n"
tmp = path + ".tmp"
with open(tmp, "w", encoding="utf-8") as fh:
    fh.write(text)
os.replace(tmp, path)
