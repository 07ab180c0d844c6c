#!/usr/bin/env python3
"""Write a synthetic execution log of N spawns in both formats for bench/execlog.sh.

compact: varint length-delimited tools.protos.ExecLogEntry messages (field
numbers from proto/spawn_min.proto), uncompressed (the script pipes it through
zstd); json: the same spawns in Bazel 4.2.3's pretty-printed shape.
Usage: gen_execlog.py N OUT.compact.raw OUT.json
"""
import sys

RUNNERS = ["remote", "remote", "remote cache hit", "linux-sandbox"]


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def entry(eid, kind_num, payload):
    msg = (field_varint(1, eid) if eid else b"") + field_bytes(kind_num, payload)
    return varint(len(msg)) + msg


def main():
    n, compact_path, json_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    h = "87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7"
    with open(compact_path, "wb") as c, open(json_path, "w") as j:
        c.write(entry(0, 2, field_bytes(1, b"SHA-256") + field_bytes(2, b"_main")))
        next_id = 1
        for i in range(n):
            runner = RUNNERS[i % len(RUNNERS)]
            ids = []
            inputs = []
            for k in range(6):
                path = "bazel-out/k8-fastbuild/bin/pkg%d/src_%d_%d.o" % (i % 97, i, k)
                digest = field_bytes(1, h.encode()) + field_varint(2, 1000 + k)
                c.write(entry(next_id, 3, field_bytes(1, path.encode()) + field_bytes(2, digest)))
                ids.append(next_id)
                inputs.append(path)
                next_id += 1
            packed = b"".join(varint(x) for x in reversed(ids))
            set_id = next_id
            next_id += 1
            c.write(entry(set_id, 6, field_bytes(5, packed)))
            out_id = next_id
            next_id += 1
            out_path = "bazel-out/k8-fastbuild/bin/pkg%d/out_%d" % (i % 97, i)
            c.write(entry(out_id, 3, field_bytes(1, out_path.encode())))
            args = [b"/usr/bin/gcc", b"-c", b"-o", out_path.encode(), inputs[0].encode()]
            sp = b"".join(field_bytes(1, a) for a in args)
            sp += field_varint(4, set_id) + field_bytes(6, field_varint(5, out_id))
            sp += field_bytes(7, b"//pkg%d:t%d" % (i % 97, i)) + field_bytes(8, b"CppCompile")
            sp += field_bytes(11, runner.encode())
            if runner == "remote cache hit":
                sp += field_varint(12, 1)
            sp += field_varint(13, 1) + field_varint(14, 1)
            c.write(entry(0, 7, sp))
            j.write("{\n  \"commandArgs\": [%s],\n" % ", ".join('"%s"' % a.decode() for a in args))
            j.write("  \"environmentVariables\": [{\n    \"name\": \"PATH\",\n    \"value\": \"/usr/bin:/bin\"\n  }],\n")
            j.write("  \"platform\": {\n    \"properties\": []\n  },\n  \"inputs\": [")
            j.write(", ".join('{\n    "path": "%s",\n    "digest": {\n      "hash": "%s",\n      "sizeBytes": "%d",\n'
                              '      "hashFunctionName": "SHA-256"\n    }\n  }' % (p, h, 1000 + k)
                              for k, p in enumerate(inputs)))
            j.write("],\n  \"listedOutputs\": [\"%s\"],\n  \"remotable\": true,\n  \"cacheable\": true,\n" % out_path)
            j.write("  \"timeoutMillis\": \"0\",\n  \"mnemonic\": \"CppCompile\",\n")
            j.write("  \"runner\": \"%s\",\n  \"remoteCacheHit\": %s,\n  \"status\": \"\",\n  \"exitCode\": 0\n}"
                    % (runner, "true" if runner == "remote cache hit" else "false"))


if __name__ == "__main__":
    main()
