#!/usr/bin/env python3
"""Write docs/CONFIGURATION.md from include/flywheel/config_keys.h (the one key table).

--check: exit 1 when the committed file differs from what the table gives,
so the documented keys and the keys the code accepts stay the same set.
"""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
table = (root / "include/flywheel/config_keys.h").read_text()
doc_path = root / "docs/CONFIGURATION.md"

row = re.compile(
    r'X\((\w+),\s*"([^"]*)",\s*"([^"]*)",\s*"([^"]*)",\s*(NULL|"[^"]*"),\s*([^,]+),\s*\\\s*\n\s*"((?:[^"\\]|\\.)*)"\)')
keys = row.findall(table)
if len(keys) != table.count("  X("):
    sys.exit("gen-config-doc: could not read every row of config_keys.h")

flag_names = {"CK_SECRET": "secret", "CK_LIST": "list", "CK_PATH": "path",
              "CK_BOOL": "bool", "CK_NUM": "number", "CK_NOREPO": "not in flywheel.ini"}

out = ["# Configuration reference", "",
       "Generated from `include/flywheel/config_keys.h` by `scripts/gen-config-doc.py`;",
       "a test fails when this file and the key table differ.", "",
       "Layers, lowest to highest precedence: built-in default < `flywheel.ini` (workspace root,",
       "committed, no secrets) < `$XDG_CONFIG_HOME/flywheel/config.ini` < `.env.flywheel.local`",
       "(workspace root; `KEY=VALUE` lines read as data, never by a shell) < environment <",
       "flywheel's own options (`--mode`). `flywheel explain` shows, for every effective value,",
       "the layer and file:line that set it.", "",
       "In `.ini` files a key is written `key = value` under `[section]`; in `.env.flywheel.local`",
       "and the environment it is the variable name. Relative paths in a file are relative to",
       "that file's directory. Free-form sections: `[trust]` (`name = name:base64-public-key` or",
       "a `.pub` path) and `[mirrors]` (upstream pattern = approved mirror URLs).", "",
       "| ini key | environment | default | kind | meaning |",
       "|---|---|---|---|---|"]
for ident, ini, env, env2, default, flags, doc in keys:
    envs = ", ".join(f"`{e}`" for e in (env, env2) if e) or "—"
    d = "—" if default == "NULL" else f"`{default.strip(chr(34))}`"
    kinds = [flag_names[f.strip()] for f in flags.split("|") if f.strip() in flag_names]
    out.append(f"| `{ini}` | {envs} | {d} | {', '.join(kinds) or 'text'} | {doc.replace('|', '/')} |")
out.append("")
text = "\n".join(out)

if "--check" in sys.argv:
    have = doc_path.read_text() if doc_path.exists() else ""
    if have != text:
        sys.exit("docs/CONFIGURATION.md differs from config_keys.h: run scripts/gen-config-doc.py")
    print(f"docs/CONFIGURATION.md matches the {len(keys)} keys in config_keys.h")
else:
    doc_path.parent.mkdir(exist_ok=True)
    doc_path.write_text(text)
    print(f"wrote {doc_path.relative_to(root)} ({len(keys)} keys)")
