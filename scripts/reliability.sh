#!/usr/bin/env bash
# reliability.sh - the reliability and security battery (issue 7).
#
# Stages, each printing `reliability: <stage>: ok|FAILED ...`:
#   asan      ASan+UBSan build (gcc) and the unit and e2e suites in it
#   valgrind  memcheck over the unit suite of the normal build
#   fuzz      every libFuzzer target for FUZZ_SECONDS under ASan+UBSan (clang)
# Then the figures (hostile cases, allocation failures, fuzz executions, leaks)
# are printed and docs/RELIABILITY.md's figures block is rewritten with them.
# Exits non-zero when any stage failed.
#
# Environment:
#   BUILD_DIR        the normal build (default build), set up by scripts/setup.sh
#   REL_DIR          where the battery builds (default build-reliability)
#   FUZZ_SECONDS     per target (default 25)
#   REL_STAGES       space-separated subset of "asan valgrind fuzz" (default all)
#   REL_E2E          0: skip the e2e suite under ASan (default 1)
#   REL_NO_DOC       1: do not rewrite docs/RELIABILITY.md
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build_dir=${BUILD_DIR:-build}
rel_dir=${REL_DIR:-build-reliability}
fuzz_seconds=${FUZZ_SECONDS:-25}
stages=${REL_STAGES:-asan valgrind fuzz}
mkdir -p "$rel_dir"
logs=$rel_dir/logs
mkdir -p "$logs"
failed=0
declare -A fig

say() { printf 'reliability: %s\n' "$*"; }
stage_result() { # stage rc detail
	if (($2 == 0)); then
		say "$1: ok $3"
	else
		say "$1: FAILED $3"
		failed=1
	fi
}
want() { [[ " $stages " == *" $1 "* ]]; }

export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}

# ---- ASan + UBSan: unit and e2e suites ----------------------------------------
if want asan; then
	d=$rel_dir/asan
	rc=0
	if [[ ! -f $d/build.ninja ]]; then
		meson setup "$d" -Db_sanitize=address,undefined -Db_lundef=false \
			>"$logs/asan-setup.log" 2>&1 || rc=$?
	fi
	# every target but the static vendored launcher (-static and ASan do not mix)
	if ((rc == 0)); then
		mapfile -t asan_targets < <(meson introspect "$d" --targets | python3 -c '
import json, os, sys
for t in json.load(sys.stdin):
    # executables (but the static vendored launcher) and generated files (the man page)
    if t["type"] in ("executable", "custom") and not t["name"].startswith("flywheel-linux-"):
        print(os.path.relpath(os.path.join(os.path.dirname(t["filename"][0]), t["name"]), os.path.realpath(sys.argv[1])) + ":" + t["type"])
' "$d")
		meson compile -C "$d" "${asan_targets[@]}" >"$logs/asan-build.log" 2>&1 || rc=$?
	fi
	if ((rc != 0)); then
		stage_result asan 1 "(build failed: $logs/asan-*.log)"
	else
		suites=(--suite unit)
		[[ ${REL_E2E:-1} == 1 ]] && suites+=(--suite e2e)
		meson test -C "$d" --no-rebuild "${suites[@]}" --num-processes 2 >"$logs/asan-test.log" 2>&1 || rc=$?
		read -r p f < <(python3 - "$d/meson-logs/testlog.json" <<'EOF'
import json, sys
p = f = 0
try:
    for line in open(sys.argv[1]):
        r = json.loads(line).get("result")
        if r in ("OK", "EXPECTEDFAIL", "SKIP"): p += 1
        else: f += 1
except OSError:
    f = 1
print(p, f)
EOF
		)
		fig[asan_tests]=$p
		stage_result asan "$rc" "($p tests passed under ASan+UBSan, $f failed; ${suites[*]})"
		hostile=$(find "$d/meson-logs" -name testlog.txt -exec grep -ho 'hostile inputs: [0-9]* cases' {} + | head -1 | grep -o '[0-9]*')
		[[ -n "$hostile" ]] && fig[hostile]=$hostile
	fi
fi

# ---- valgrind memcheck over the unit suite ------------------------------------------
if want valgrind; then
	rc=0
	if ! command -v valgrind >/dev/null; then
		stage_result valgrind 1 "(valgrind not installed)"
	elif [[ ! -f $build_dir/build.ninja ]]; then
		stage_result valgrind 1 "(no normal build in $build_dir: run scripts/setup.sh)"
	else
		meson compile -C "$build_dir" >"$logs/valgrind-build.log" 2>&1 || rc=$?
		meson test -C "$build_dir" --suite unit --num-processes 2 --timeout-multiplier 8 \
			--wrap="valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect --suppressions=$root/scripts/valgrind.supp --quiet" \
			>"$logs/valgrind-test.log" 2>&1 || rc=$?
		n=$(grep -cE '^ *[0-9]+/[0-9]+ .* OK ' "$logs/valgrind-test.log" || true)
		bad=$(grep -cE '^ *[0-9]+/[0-9]+ .* (FAIL|TIMEOUT|ERROR)' "$logs/valgrind-test.log" || true)
		fig[valgrind_tests]=$n
		fig[valgrind_leaks]=$bad
		stage_result valgrind "$rc" "($n unit tests clean under memcheck, $bad with errors or leaks)"
		cp "$build_dir/meson-logs/testlog.txt" "$logs/valgrind-testlog.txt" 2>/dev/null || true
		a=$(grep -ho 'allocfail: [0-9]* parsers, [0-9]* runs, [0-9]* allocation failures injected, [0-9]* leaks' "$logs/valgrind-testlog.txt" 2>/dev/null | head -1)
		[[ -n "$a" ]] && fig[allocfail]=$a
		h=$(grep -ho 'hostile inputs: [0-9]* cases' "$logs/valgrind-testlog.txt" 2>/dev/null | head -1 | grep -o '[0-9]*')
		[[ -n "$h" ]] && fig[hostile]=$h
		c=$(grep -ho 'hostile inputs by class: .*' "$logs/valgrind-testlog.txt" 2>/dev/null | head -1)
		[[ -n "$c" ]] && fig[hostile_classes]=${c#hostile inputs by class: }
	fi
fi

# ---- libFuzzer targets under ASan + UBSan ---------------------------------------------
if want fuzz; then
	d=$rel_dir/fuzz
	rc=0
	if ! command -v clang >/dev/null; then
		stage_result fuzz 1 "(clang not installed)"
	else
		if [[ ! -f $d/build.ninja ]]; then
			CC=clang meson setup "$d" -Dfuzzers=true -Db_sanitize=address,undefined -Db_lundef=false \
				>"$logs/fuzz-setup.log" 2>&1 || rc=$?
		fi
		fuzz_exes=()
		for src in tests/fuzz/fuzz_*.c; do
			t=$(basename "$src" .c)
			fuzz_exes+=("tests/fuzz/$t")
		done
		# only the fuzzers: the static vendored launcher cannot link with sanitizers
		((rc == 0)) && { meson compile -C "$d" "${fuzz_exes[@]}" >"$logs/fuzz-build.log" 2>&1 || rc=$?; }
		if ((rc != 0)); then
			stage_result fuzz 1 "(build failed: $logs/fuzz-*.log)"
		else
			total=0 crashed=0 targets=0
			for src in tests/fuzz/fuzz_*.c; do
				t=$(basename "$src" .c)
				t=${t#fuzz_}
				[[ -x $d/tests/fuzz/fuzz_$t ]] || continue
				targets=$((targets + 1))
				work=$rel_dir/fuzz-corpus/$t
				mkdir -p "$work" "$rel_dir/fuzz-crashes"
				trc=0
				"$d/tests/fuzz/fuzz_$t" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=1536 \
					-print_final_stats=1 -artifact_prefix="$rel_dir/fuzz-crashes/$t-" \
					"$work" "tests/fuzz/corpus/$t" >"$logs/fuzz-$t.log" 2>&1 || trc=$?
				runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$logs/fuzz-$t.log" | grep -o '[0-9]*$' || echo 0)
				total=$((total + ${runs:-0}))
				if ((trc != 0)); then
					crashed=$((crashed + 1))
					say "fuzz: $t: FAILED after ${runs:-?} executions; input saved under $rel_dir/fuzz-crashes/ (copy it to tests/fuzz/regress/$t/ once fixed)"
				else
					say "fuzz: $t: ${runs:-0} executions, no crash"
				fi
			done
			fig[fuzz_targets]=$targets
			fig[fuzz_execs]=$total
			fig[fuzz_crashes]=$crashed
			stage_result fuzz $((crashed > 0)) "($targets targets, $total executions in ${fuzz_seconds}s each, $crashed crashed)"
		fi
	fi
fi

# ---- figures ----------------------------------------------------------------------------
say "figures: hostile cases ${fig[hostile]:-?}; ${fig[allocfail]:-allocfail not run}; fuzz ${fig[fuzz_execs]:-?} executions over ${fig[fuzz_targets]:-?} targets, ${fig[fuzz_crashes]:-?} crashes; ASan+UBSan ${fig[asan_tests]:-?} tests; valgrind ${fig[valgrind_tests]:-?} unit tests, ${fig[valgrind_leaks]:-?} with leaks or errors"

if [[ ${REL_NO_DOC:-0} != 1 && -f docs/RELIABILITY.md ]]; then
	block=$(
		printf '<!-- figures: generated by scripts/reliability.sh; do not edit -->\n'
		printf '| figure | value |\n|---|---|\n'
		printf '| run | %s on %s, %s cores |\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -sm)" "$(nproc)"
		printf '| hostile-input cases (test_hostile) | %s |\n' "${fig[hostile]:-not run}"
		printf '| hostile-input classes | %s |\n' "${fig[hostile_classes]:-not run}"
		printf '| allocation-failure torture (test_allocfail) | %s |\n' "${fig[allocfail]:-not run}"
		printf '| fuzz targets / executions / crashes | %s / %s / %s (%s s each) |\n' "${fig[fuzz_targets]:-not run}" "${fig[fuzz_execs]:-not run}" "${fig[fuzz_crashes]:-not run}" "$fuzz_seconds"
		printf '| tests passed under ASan+UBSan | %s |\n' "${fig[asan_tests]:-not run}"
		printf '| unit tests under valgrind memcheck / with leaks or errors | %s / %s |\n' "${fig[valgrind_tests]:-not run}" "${fig[valgrind_leaks]:-not run}"
		printf '| battery result | %s |\n' "$([[ $failed == 0 ]] && echo pass || echo FAIL)"
		printf '<!-- end figures -->\n'
	)
	python3 - docs/RELIABILITY.md "$block" <<'EOF'
import re, sys
p, block = sys.argv[1], sys.argv[2]
s = open(p).read()
s2 = re.sub(r"<!-- figures:.*?<!-- end figures -->\n?", block + "\n", s, flags=re.S)
open(p, "w").write(s2)
EOF
fi

if ((failed)); then
	say "result: FAILED"
	exit 1
fi
say "result: ok"
