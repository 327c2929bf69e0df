#!/usr/bin/env bash
echo "not yet written: test/scripts/linux/run.sh" >&2
exit 1
