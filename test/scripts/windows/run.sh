#!/usr/bin/env bash
echo "not yet written: test/scripts/windows/run.sh" >&2
exit 1
