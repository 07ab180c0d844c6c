#!/usr/bin/env bash
# flywheel(1) is built, documents every exit code of enum fw_exit (error.h) and
# every global option, and `flywheel <command> --help` exits 0 with some output
# for every command the man page lists.
. "$(dirname "$0")/lib/common.sh"
scd=$SRCDIR/doc/flywheel.1.scd

if command -v scdoc >/dev/null 2>&1; then
	man1=${FLYWHEEL_BUILDDIR:-$SRCDIR/build}/doc/flywheel.1
	[[ -s "$man1" ]] || fail "scdoc is installed but meson did not build $man1"
	grep -q '^\.TH "flywheel" "1"' "$man1" || fail "$man1 is not a man page"
	scdoc <"$scd" >/dev/null || fail "scdoc rejects $scd"
fi

log "exit status table == enum fw_exit"
sed -nE 's/^\s*FW_EX_[A-Z_]+ = ([0-9]+),.*/\1/p' "$SRCDIR/include/flywheel/error.h" | sort -n >"$TMPD/enum.codes"
sed -n '/^# EXIT STATUS/,/^# FILES/p' "$scd" | sed -nE 's/^\|  ([0-9]+)$/\1/p' | sort -n >"$TMPD/man.codes"
(($(wc -l <"$TMPD/enum.codes") >= 10)) || fail "could not read enum fw_exit"
diff -u "$TMPD/enum.codes" "$TMPD/man.codes" >&2 || fail "the man page's exit codes differ from enum fw_exit"

log "global options in flywheel --help are documented"
"$FLYWHEEL" --help | head -1 | grep -oE '\-\-?[a-z][a-z-]*' | sort -u >"$TMPD/opts"
while read -r o; do
	grep -qE "^\*${o}\*|^\*${o}\*=|^\*${o}\*\[|, \*${o}\*" "$scd" || fail "option $o is not in the man page"
done <"$TMPD/opts"
grep -q 'docs/CONFIGURATION.md' "$scd" || fail "the man page does not point at docs/CONFIGURATION.md"

log "flywheel <command> --help for every command in the man page"
sed -n '/^# COMMANDS/,/^# CONFIGURATION/p' "$scd" | grep -E '^\*[a-z]' |
	grep -oE '^\*[a-z][a-z-]*\*( \| \*[a-z][a-z-]*\*)*' | tr '|' '\n' | tr -d ' *' >"$TMPD/cmds"
make_fake_bazel "$TMPD/bin/bazel" 7.4.1
export BAZEL_REAL=$TMPD/bin/bazel FAKE_BAZEL_ARGV=$TMPD/argv
ws=$TMPD/ws
make_workspace "$ws"
cd "$ws"
failed=()
while read -r c; do
	rm -f "$TMPD/argv"
	run_rc rc timeout 30 "$FLYWHEEL" "$c" --help >"$TMPD/h.out" 2>"$TMPD/h.err"
	if [[ "$c" == bazel ]]; then
		# --help belongs to Bazel here: flywheel passes it through
		[[ $rc -eq 0 && -s "$TMPD/argv" ]] && grep -qz -- '--help' "$TMPD/argv" && continue
	elif [[ $rc -eq 0 && -s "$TMPD/h.out" ]]; then
		continue
	fi
	failed+=("$c (exit $rc, $(wc -c <"$TMPD/h.out") bytes: $(head -c 120 "$TMPD/h.err" | tr '\n' ' '))")
done <"$TMPD/cmds"
if ((${#failed[@]})); then
	printf '  no --help: %s\n' "${failed[@]}" >&2
	fail "${#failed[@]} command(s) without a working --help"
fi
pass
