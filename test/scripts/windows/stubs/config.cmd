#!/bin/sh
# Stand-in for the Azure DevOps agent's config.cmd in the Pester tests (a POSIX shell script: the
# tests run on Linux). It records its arguments, one per line, in $STUB_RECORD_DIR/call-<n>.args,
# and the VSTS_AGENT_INPUT_TOKEN it was given (how the agent takes --token from the environment) in
# call-<n>.token,
# echoes them (so the tests can prove bootstrap-agent.ps1 masks whatever config.cmd prints), and
# acts like the agent on disk: configure writes .agent/.credentials and, with --runAsService,
# .service, "installing" the service as a file in $STUB_SERVICES_DIR holding its state (Running, or
# Stopped with --preventServiceStart); remove deletes them. STUB_CONFIG_EXIT forces an exit code
# for configure (the files are then not written, like a failed registration).
set -eu
root=$(cd "$(dirname "$0")" && pwd)
n=$(ls "$STUB_RECORD_DIR" 2>/dev/null | grep -c '\.args$' || true)
n=$((n + 1))
record="$STUB_RECORD_DIR/call-$(printf '%03d' "$n").args"
: > "$record"
for arg in "$@"; do printf '%s\n' "$arg" >> "$record"; done
if [ -n "${VSTS_AGENT_INPUT_TOKEN+x}" ]; then printf '%s\n' "$VSTS_AGENT_INPUT_TOKEN" > "${record%.args}.token"; fi
echo "stub config.cmd called with: $*"

if [ "${1:-}" = "remove" ]; then
  if [ -f "$root/.service" ]; then rm -f "$STUB_SERVICES_DIR/$(cat "$root/.service")"; fi
  rm -f "$root/.agent" "$root/.credentials" "$root/.credentials_rsaparams" "$root/.service"
  echo "Removed agent configuration"
  exit 0
fi

code="${STUB_CONFIG_EXIT:-0}"
if [ "$code" != "0" ]; then
  echo "stub config.cmd failing with $code" >&2
  exit "$code"
fi

url="" pool="" agent="" as_service="" service_state=Running
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="$2"; shift ;;
    --pool) pool="$2"; shift ;;
    --agent) agent="$2"; shift ;;
    --runAsService) as_service=1 ;;
    --preventServiceStart) service_state=Stopped ;;
  esac
  shift
done
printf '{"agentId": 7, "agentName": "%s", "poolId": 1, "poolName": "%s", "serverUrl": "%s", "workFolder": "_work"}\n' "$agent" "$pool" "$url" > "$root/.agent"
printf '{"scheme": "OAuth"}\n' > "$root/.credentials"
echo "Successfully added the agent"
if [ -n "$as_service" ]; then
  service="vstsagent.stub.$pool.$agent"
  printf '%s' "$service" > "$root/.service"
  mkdir -p "$STUB_SERVICES_DIR"
  echo "$service_state" > "$STUB_SERVICES_DIR/$service"
  echo "Service $service successfully installed"
fi
