#!/usr/bin/env bash
# Sourced by .ci/run: installs Debian's headless-capable chromium when it is missing, for the
# dashboard test (tests/testservers/test_dashboard.py fails under CI=true without it).
if ! command -v chromium >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi
