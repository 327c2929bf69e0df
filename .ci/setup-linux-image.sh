#!/usr/bin/env bash
# Placeholder until the linux-image work lands: installs nothing.
exit 0
