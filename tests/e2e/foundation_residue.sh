#!/usr/bin/env bash
# `--` residue reaches Bazel byte for byte: spaces, quotes, newlines, globs, shell
# syntax, empty strings, invalid UTF-8, a second `--` and `--remote_cache=x` after `--`
# are neither parsed, rewritten, dropped nor followed by injected options — in local
# and in cache mode.  A fake Bazel (BAZEL_REAL) records its argv NUL-separated.
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/nginx.sh"

fake=$TMPD/bin/fake-bazel
make_fake_bazel "$fake" 7.4.1
ws=$TMPD/ws
mkdir -p "$ws"
: >"$ws/WORKSPACE"
export BAZEL_REAL=$fake FAKE_BAZEL_ARGV=$TMPD/argv
cd "$ws"

residue=(
	'with space' '"double"' "'single'" "it's" $'line1\nline2' $'\ttab' ''
	'--remote_cache=x' '--' '-x' '*' '?' '$(touch /tmp/never)' '`id`' '${HOME}' '\back\slash'
	$'\xff\xfe not utf-8' 'ünïcödé' '--config=ci' '//:target' '--remote_upload_local_results=true'
)

check() { # label expected-command [option that must precede --]
	local label=$1 cmd=$2 want_opt=${3:-} i idx=-1
	[[ -s "$FAKE_BAZEL_ARGV" ]] || fail "$label: fake Bazel was not run"
	local got=()
	read_argv "$FAKE_BAZEL_ARGV" got
	for ((i = 0; i < ${#got[@]}; i++)); do
		if [[ "${got[i]}" == -- ]]; then idx=$i; break; fi
	done
	((idx >= 0)) || fail "$label: no -- in Bazel's argv"
	local tail=("${got[@]:idx+1}")
	assert_eq "${#tail[@]}" "${#residue[@]}" "$label: residue length"
	for ((i = 0; i < ${#residue[@]}; i++)); do
		[[ "${tail[i]}" == "${residue[i]}" ]] ||
			fail "$label: residue[$i] is $(printf '%q' "${tail[i]}"), want $(printf '%q' "${residue[i]}")"
	done
	# The command comes before the residue; injected options never go after --.
	local found=0
	for ((i = 0; i < idx; i++)); do
		[[ "${got[i]}" == "$cmd" ]] && found=1
	done
	((found)) || fail "$label: command '$cmd' not before --"
	if [[ -n "$want_opt" ]]; then
		found=0
		for ((i = 0; i < idx; i++)); do
			[[ "${got[i]}" == "$want_opt" ]] && found=1
		done
		((found)) || fail "$label: injected '$want_opt' not before --"
	fi
	rm -f "$FAKE_BAZEL_ARGV"
}

log "local mode, run"
run_rc rc "$FLYWHEEL" bazel run //:tool -- "${residue[@]}"
assert_eq "$rc" 0 "flywheel exit status (local)"
check local run

log "cache mode, test"
start_nginx_cache "$TMPD/cache"
export BAZEL_REMOTE_CACHE=$NGINX_URL FLYWHEEL_ALLOW_LOOPBACK=true FLYWHEEL_FALLBACK=fail
run_rc rc "$FLYWHEEL" bazel test --test_output=errors //:t -- "${residue[@]}"
assert_eq "$rc" 0 "flywheel exit status (cache)"
check cache test "--remote_cache=$NGINX_URL"

log "startup options before the command"
run_rc rc "$FLYWHEEL" bazel --max_idle_secs=5 build //:x -- "${residue[@]}"
assert_eq "$rc" 0 "flywheel exit status (startup options)"
check startup build

log "explain shows the residue without running Bazel"
run_rc rc "$FLYWHEEL" explain build //:x -- 'with space' >"$TMPD/explain.out" 2>&1
assert_eq "$rc" 0 "explain exit status"
[[ ! -e "$FAKE_BAZEL_ARGV" ]] || fail "explain ran Bazel"

pass
