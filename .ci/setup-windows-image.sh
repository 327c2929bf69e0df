#!/usr/bin/env bash
# Placeholder until the windows-image work lands: installs nothing.
exit 0
