#!/usr/bin/env bash
# Placeholder until the infra work lands: installs nothing.
exit 0
