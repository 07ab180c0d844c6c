# bash completion for flywheel(1)                              -*- shell-script -*-
# Installed by meson as share/bash-completion/completions/flywheel.

_flywheel() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local commands="bazel explain dev-attach doctor probe stage lock inputs keygen sign verify
		proof eligibility credential-helper vendor nix-check version"
	local global_opts="--mode --strict --report --json -v --verbose -q --quiet -h --help --version"
	local i cmd="" cmd_at=0
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--mode) ((i++)) ;;
		= | --mode=* | local | cache | executor) ;;
		-*) ;;
		*)
			cmd=${COMP_WORDS[i]}
			cmd_at=$i
			break
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $prev == --mode || ($prev == = && ${COMP_WORDS[COMP_CWORD - 2]} == --mode) ]]; then
			mapfile -t COMPREPLY < <(compgen -W "local cache executor" -- "$cur")
		elif [[ $cur == -* ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$global_opts" -- "$cur")
		else
			mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
		fi
		return
	fi

	local words="--help" files=0 dirs=0
	case $cmd in
	bazel | explain)
		# Bazel's own completion, when it is loaded, knows Bazel's commands
		if declare -F _bazel__complete >/dev/null; then
			COMP_WORDS=(bazel "${COMP_WORDS[@]:cmd_at+1}")
			COMP_CWORD=$((COMP_CWORD - cmd_at))
			_bazel__complete
			return
		fi
		words="build test run coverage query cquery aquery fetch sync info clean shutdown version help"
		((COMP_CWORD > cmd_at + 1)) && words="" files=1
		;;
	dev-attach) words="--json --write-env --help" ;;
	doctor) words="--json --help" ;;
	probe) words="--json --help" ;;
	stage) words="--offline --verify --help" ;;
	lock) words="--help" files=1 ;;
	inputs) ((COMP_CWORD == cmd_at + 1)) && words="audit coverage --help" || files=1 ;;
	keygen | sign | verify) words="--help" files=1 ;;
	proof) words="--class -- --help" ;;
	eligibility) ((COMP_CWORD == cmd_at + 1)) && words="check show --help" || files=1 ;;
	credential-helper) words="get --help" ;;
	vendor)
		case $prev in
		--binary) files=1 words="" ;;
		*) words="--binary --allow-dynamic --force --help" dirs=1 ;;
		esac
		;;
	nix-check)
		case $prev in
		--nix-conf) files=1 words="" ;;
		--narinfo | --timeout-ms) words="" ;;
		*) words="--nix-conf --narinfo --timeout-ms --json --help" ;;
		esac
		;;
	version) words="" ;;
	esac
	if [[ $cur == -* || ($files == 0 && $dirs == 0) ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
	elif ((dirs)); then
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
	else
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	fi
}
complete -F _flywheel -o filenames flywheel
