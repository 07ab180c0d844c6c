#!/usr/bin/env python3
"""First draft of the golden argv files, written from BAZEL-VERSIONS.md alone.

This script does not read flywheel's C code or its version table: it encodes
the facts of /work/shared/BAZEL-VERSIONS.md ("Flags whose spelling depends on
the version") directly, so the unit test test_bazel_flags compares two
independent derivations.  Every generated file was then read against that
table by hand; edit the .argv files, not this script, when a fact changes
(re-running it overwrites them).

Usage: tests/golden/draft-goldens.py   (writes tests/golden/<version>/*.argv)
"""
import os

VERSIONS = ["4.2.3", "5.4.1", "6.2.0", "6.3.0", "7.0.0", "7.1.0", "7.4.1",
            "8.0.0", "8.2.0", "8.5.1", "9.1.0", "9.2.0", "no_version"]
COMMANDS = {"build": ["build", "//app:app"],
            "query": ["query", "deps(//app:app)"],
            "version": ["version"]}

CACHE = "grpcs://cache.example:443"
EXEC = "grpcs://exec.example:443"
HELPER = "/fw/libexec/flywheel-credential-helper"


def V(s):
    return None if s == "no_version" else tuple(int(x) for x in s.split("."))


def at_least(v, m):
    return v is not None and v >= m


def case_plan(case):
    p = dict(mode="local", distdir=["/fw/distdir"], repo_cache="/fw/repo-cache",
             cred=None, inject=[], dlcfg=None, disable=False, execlog=None, bep=None,
             force=False, rc=None, our=None)
    if case in ("cache", "cred", "rcfile"):
        p.update(mode="cache", instance="main", upload=False, timeout=60, maxconn=100,
                 fallback_local=True)
    if case in ("executor", "execlog"):
        p.update(mode="executor", instance="main", upload=False, timeout=60, maxconn=None,
                 fallback_local=False, platform="gloriousflywheel-rbe-linux-x86_64", jobs=50)
    if case == "cred":
        p["cred"] = "helper"
    if case == "rcfile":
        p.update(cred="rc", rc="/fw/private/bazelrc", our="/fw/private/root")
    if case == "inject":
        p.update(inject=["rules_cc=/fw/repos/rules_cc", "rules_java=/fw/repos/rules_java"],
                 dlcfg="/fw/downloader.cfg", disable=True)
    if case == "execlog":
        p.update(force=True, execlog="/fw/proof/exec.log", bep="/fw/proof/bep.json")
    return p


def argv(version, case, command):
    v = V(version)
    p = case_plan(case)
    build = command == "build"
    query = command == "query"
    startup = []
    if p["our"]:
        startup.append("--output_user_root=" + p["our"])
    if p["rc"]:
        startup.append("--bazelrc=" + p["rc"])
    cmd = []
    remote = p["mode"] != "local"
    # credential helper spelling: none < 5.4, experimental 5.4-6.x, plain 7.0+
    if p["cred"] == "helper" and (build or query):
        if not at_least(v, (5, 4, 0)):
            if build or at_least(v, (6, 3, 0)):
                return None  # error: no credential helper in this Bazel
        if v is not None and v >= (5, 4, 0):
            helper = ("--credential_helper=" if v >= (7, 0, 0)
                      else "--experimental_credential_helper=") + "cache.example=" + HELPER
        else:
            helper = None
    else:
        helper = None
    if build and remote:
        cmd.append("--remote_cache=" + CACHE)
        if p["mode"] == "executor":
            cmd.append("--remote_executor=" + EXEC)
        cmd.append("--remote_instance_name=main")
        cmd.append("--remote_upload_local_results=false")
        if p["force"]:
            cmd.append("--remote_accept_cached=false")
        cmd.append("--remote_timeout=60")
        if p.get("maxconn"):
            cmd.append("--remote_max_connections=%d" % p["maxconn"])
        if helper:
            cmd.append(helper)
        if p["mode"] == "executor":
            cmd.append("--remote_local_fallback=false")
        elif at_least(v, (8, 5, 1)) and p["fallback_local"]:
            # 8.5.1+: both flags for a cache fallback
            cmd.append("--remote_local_fallback")
            cmd.append("--incompatible_remote_local_fallback_for_remote_cache")
        if p["mode"] == "executor":
            cmd.append("--remote_default_exec_properties=gf.platform=" + p["platform"])
            # remote first; a target tagged no-remote-exec (or local) may still run here
            cmd.append("--spawn_strategy=remote,sandboxed,local")
            cmd.append("--jobs=50")
    if query and remote and helper and at_least(v, (6, 3, 0)):
        # the helper serves repository downloads from 6.3 (PR #18429)
        cmd.append(helper)
    if build or query:
        for d in p["distdir"]:
            cmd.append("--distdir=" + d)
        cmd.append("--repository_cache=" + p["repo_cache"])
        for r in p["inject"]:
            cmd.append(("--inject_repository=" if at_least(v, (8, 0, 0))
                        else "--override_repository=") + r)
        if p["dlcfg"]:
            cmd.append(("--downloader_config=" if at_least(v, (8, 2, 0))
                        else "--experimental_downloader_config=") + p["dlcfg"])
        if p["disable"]:
            if at_least(v, (7, 0, 0)):
                cmd.append("--repository_disable_download")
            elif at_least(v, (4, 2, 0)):
                cmd.append("--experimental_repository_disable_download")
    if build and p["execlog"]:
        if at_least(v, (7, 4, 0)):
            cmd.append("--execution_log_compact_file=" + p["execlog"])
        elif at_least(v, (7, 1, 0)):
            cmd.append("--experimental_execution_log_compact_file=" + p["execlog"])
        else:
            cmd.append("--execution_log_json_file=" + p["execlog"])
    if build and p["bep"]:
        cmd.append("--build_event_json_file=" + p["bep"])
    user = COMMANDS[command]
    return ["bazel"] + startup + [user[0]] + cmd + user[1:]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    for version in VERSIONS:
        d = os.path.join(here, version)
        os.makedirs(d, exist_ok=True)
        for case in ("local", "cache", "executor", "cred", "rcfile", "inject", "execlog"):
            for command in COMMANDS:
                a = argv(version, case, command)
                with open(os.path.join(d, "%s-%s.argv" % (case, command)), "w") as f:
                    if a is None:
                        f.write("error config 78\n")
                    else:
                        f.write("".join(x + "\n" for x in a))


main()
