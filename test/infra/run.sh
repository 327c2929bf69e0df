#!/usr/bin/env bash
echo "not yet written: test/infra/run.sh" >&2
exit 1
