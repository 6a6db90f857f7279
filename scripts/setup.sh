#!/usr/bin/env bash
# Installs everything the product and its tests need on a fresh Debian machine: system packages
# (skipped when present), the npm dependencies, and code-server (a real VS Code) into .cache/.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for pkg in git ripgrep chromium libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config time strace; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# The sample's train.py needs python3 with numpy; numpy may come from elsewhere (pip, pyenv), so ask Python.
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import numpy' >/dev/null 2>&1 || need+=(python3-numpy)
# The request panel's curl and Python snippets are run by the tests.
command -v curl >/dev/null 2>&1 || need+=(curl)
python3 -c 'import requests' >/dev/null 2>&1 || need+=(python3-requests)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages: ${need[*]}"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # onnxruntime-node bundles its CPU binaries; its install script would only fetch optional GPU ones.
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
fi
# Real servers for the tests (PostgreSQL, Swift with s3api, docker-registry, skopeo); started per test on 127.0.0.1.
bash scripts/services/install.sh
bash scripts/install-code-server.sh
