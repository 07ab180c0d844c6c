#!/usr/bin/env bash
# The commands offered by the bash, zsh and fish completions and listed in
# flywheel(1) are exactly the commands `flywheel --help` lists.
. "$(dirname "$0")/lib/common.sh"

# `flywheel --help`: "  name ..." lines; "  keygen | sign | verify ..." names three
"$FLYWHEEL" --help >"$TMPD/help.out"
sed -nE 's/^  ([a-z][a-z-]*( \| [a-z][a-z-]*)*)( .*)?$/\1/p' "$TMPD/help.out" | tr '|' '\n' | tr -d ' ' |
	sort -u >"$TMPD/help.cmds"
(($(wc -l <"$TMPD/help.cmds") >= 10)) || { cat "$TMPD/help.out" >&2; fail "could not read the commands from flywheel --help"; }

# bash: ask the completion function itself
bash -c '
	. "$1/completions/flywheel.bash"
	COMP_WORDS=(flywheel "") COMP_CWORD=1 COMP_LINE="flywheel " COMP_POINT=9
	_flywheel
	printf "%s\n" "${COMPREPLY[@]}"
' _ "$SRCDIR" | sort -u >"$TMPD/bash.cmds"
# bash: the global options after "flywheel -"
bash -c '
	. "$1/completions/flywheel.bash"
	COMP_WORDS=(flywheel --) COMP_CWORD=1
	_flywheel
	printf "%s\n" "${COMPREPLY[@]}"
' _ "$SRCDIR" >"$TMPD/bash.opts"
for o in --mode --json --strict --report --help --version --quiet --verbose; do
	grep -qx -- "$o" "$TMPD/bash.opts" || fail "bash completion does not offer $o"
done
# bash: a command's own options
bash -c '
	. "$1/completions/flywheel.bash"
	COMP_WORDS=(flywheel vendor --) COMP_CWORD=2
	_flywheel
	printf "%s\n" "${COMPREPLY[@]}"
' _ "$SRCDIR" >"$TMPD/bash.vendor"
grep -qx -- --allow-dynamic "$TMPD/bash.vendor" || fail "bash completion lacks vendor --allow-dynamic"

# zsh: the commands=( 'name:description' ... ) array
sed -nE "/^\tcommands=\(/,/^\t\)/s/^\t\t'([a-z][a-z-]*):.*/\1/p" "$SRCDIR/completions/_flywheel" | sort -u >"$TMPD/zsh.cmds"
# fish: completions offered while no subcommand is given
sed -nE 's/^complete -c flywheel -n __fish_use_subcommand -a ([a-z][a-z-]*) .*/\1/p' "$SRCDIR/completions/flywheel.fish" |
	sort -u >"$TMPD/fish.cmds"
# flywheel(1): the COMMANDS section's entries
sed -n '/^# COMMANDS/,/^# CONFIGURATION/p' "$SRCDIR/doc/flywheel.1.scd" | grep -E '^\*[a-z]' |
	grep -oE '^\*[a-z][a-z-]*\*( \| \*[a-z][a-z-]*\*)*' | tr '|' '\n' | tr -d ' *' | sort -u >"$TMPD/man.cmds"
# `help` is a synonym of --help that the summary does not list
sed -i '/^help$/d' "$TMPD/man.cmds"

command -v zsh >/dev/null 2>&1 && { zsh -n "$SRCDIR/completions/_flywheel" || fail "_flywheel: zsh syntax error"; }
command -v fish >/dev/null 2>&1 && { fish -n "$SRCDIR/completions/flywheel.fish" || fail "flywheel.fish: fish syntax error"; }

bad=0
for src in bash zsh fish man; do
	if ! diff -u "$TMPD/help.cmds" "$TMPD/$src.cmds" >"$TMPD/$src.diff"; then
		log "$src commands differ from flywheel --help (- only in --help, + only in $src):"
		sed -n '4,$p' "$TMPD/$src.diff" | grep -E '^[-+]' >&2 || true
		bad=1
	fi
done
((bad == 0)) || fail "completions or man page disagree with flywheel --help"
pass
