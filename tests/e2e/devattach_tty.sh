#!/usr/bin/env bash
# devattach_tty.sh - the checklist as a person sees it: run dev-attach inside a real
# terminal (tmux), read the screen with its escape codes, and check that colour
# appears only on a terminal, never in a pipe, and not at all under NO_COLOR.
. "$(dirname "$0")/lib/common.sh"

WS=$TMPD/ws
make_workspace "$WS"
DEAD=http://127.0.0.1:$(free_port)/cache
TMUX_RUNS=0

# run_in_tmux NO_COLOR-VALUE OUT: start dev-attach in a fresh tmux pane and save the
# screen, escape codes included, once the verdict line is there
run_in_tmux() {
	local nc=$1 out=$2 done=$TMPD/done.$RANDOM
	# a server of its own for every run: no race with the previous one's shutdown
	TMUX_RUNS=$((TMUX_RUNS + 1))
	local sock=$TMPD/tmux.$TMUX_RUNS.sock
	on_exit "tmux -S '$sock' kill-server 2>/dev/null || true"
	tmux -S "$sock" -f /dev/null new-session -d -x 200 -y 50 \
		"cd '$WS' && env -u NO_COLOR ${nc:+NO_COLOR=$nc} TERM=xterm-256color BAZEL_REAL=/bin/false \
		 FLYWHEEL_BAZEL_VERSION=4.2.3 GF_BAZEL_LOCAL_PROOF=port-forward BAZEL_REMOTE_CACHE='$DEAD' \
		 '$FLYWHEEL' dev-attach --no-round-trip; touch '$done'; sleep 30"
	for _ in $(seq 1 100); do
		[[ -e "$done" ]] && break
		sleep 0.1
	done
	[[ -e "$done" ]] || fail "dev-attach did not finish in the terminal"
	tmux -S "$sock" capture-pane -p -e -t 0 >"$out"
}

log "on a terminal: ✓/✗ marks in colour, the verdict line in colour"
run_in_tmux "" "$TMPD/tty.screen"
cat "$TMPD/tty.screen" >&2
assert_contains "$TMPD/tty.screen" "✗" "a ✗ mark on screen"
grep -q $'\e\\[31m✗' "$TMPD/tty.screen" || grep -q $'\e\\[31m' "$TMPD/tty.screen" || fail "no red on the terminal"
assert_contains "$TMPD/tty.screen" "not attached: cache $DEAD" "verdict on screen"

log "NO_COLOR on a terminal: the same text, no escape codes"
run_in_tmux 1 "$TMPD/nocolor.screen"
assert_contains "$TMPD/nocolor.screen" "✗" "a ✗ mark without colour"
if grep -q $'\e\\[3[0-9]m' "$TMPD/nocolor.screen"; then fail "colour despite NO_COLOR"; fi

log "in a pipe: no escape codes"
(cd "$WS" && env -u NO_COLOR BAZEL_REAL=/bin/false FLYWHEEL_BAZEL_VERSION=4.2.3 GF_BAZEL_LOCAL_PROOF=port-forward \
	BAZEL_REMOTE_CACHE="$DEAD" "$FLYWHEEL" dev-attach --no-round-trip) >"$TMPD/pipe.out" 2>&1 || true
assert_contains "$TMPD/pipe.out" "✗ cache $DEAD" "✗ line in the pipe"
if grep -q $'\e\\[' "$TMPD/pipe.out"; then fail "escape codes in a pipe"; fi
pass
