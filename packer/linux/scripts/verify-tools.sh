#!/usr/bin/env bash
# verify-tools.sh: runs every tool the image promises once and fails the build if any is missing or broken.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=helpers/install-helpers.sh
source "$HELPER_DIR/install-helpers.sh"
require_env RUNNER_USER

# The versions the install scripts resolved and recorded (record_tool): what runs must be them.
node_version=$(recorded_version node)
azd_version=$(recorded_version azd)
runner_version=$(recorded_version actions-runner)

failed=()
# check NAME COMMAND...: runs COMMAND, shows its first line of output, remembers a failure.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		printf 'ok    %-16s %s\n' "$name" "$(head -n1 <<<"$out")"
	else
		printf 'FAIL  %-16s %s\n' "$name" "$(head -n1 <<<"$out")"
		failed+=("$name")
	fi
}
expect() { # expect WANTED COMMAND...: COMMAND's output must contain WANTED
	local wanted=$1 out
	shift
	out=$("$@" 2>&1) && [[ $out == *"$wanted"* ]] && printf '%s\n' "$out"
}
not_installed() { # not_installed PACKAGE: succeeds when dpkg does not have PACKAGE installed
	if dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; then
		echo "$1 is still installed"
		return 1
	fi
	echo "$1 not installed"
}

check git git --version
check curl curl --version
check jq jq --version
check node expect "v${node_version:-(none recorded)}" node --version
check npm npm --version
check az az version --output tsv
check azd expect "${azd_version:-(none recorded)}" azd version
check gcc gcc --version
check g++ g++ --version
check make make --version
check python3 python3 --version
check pip python3 -m pip --version
check venv python3 -m venv --help
check zip zip -v
check unzip unzip -v
check runner expect "${runner_version:-(none recorded)}" runuser -u "$RUNNER_USER" -- /opt/actions-runner/bin/Runner.Listener --version
# Root owns what a registration runs; the runner user owns only its logs and the work folder.
check runner-owner expect "root:1775 root:755 root:755 $RUNNER_USER:755 " stat --printf '%U:%a ' /opt/actions-runner \
	/opt/actions-runner/config.sh /opt/actions-runner/bin /opt/actions-runner/_work
check bootstrap bash -n /usr/local/lib/github-runner/bootstrap.sh
check service expect enabled systemctl is-enabled github-runner.service
check ssh-no-pass expect "passwordauthentication no" sshd -T
read -r -a removed <<<"${APT_REMOVE:-}"
for package in "${removed[@]+"${removed[@]}"}"; do
	check "removed:$package" not_installed "$package"
done

if ((${#failed[@]})); then
	die "${#failed[@]} tool(s) missing or broken: ${failed[*]}"
fi
log "all tools present"
