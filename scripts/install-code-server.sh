#!/usr/bin/env bash
# Installs code-server 4.99.4 (VS Code 1.99.3 on Node 20) into .cache/code-server, outside the
# extension's own dependencies. Offline-safe: ripgrep comes from Debian instead of GitHub.
# Needs: apt packages libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config ripgrep.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dest="$here/.cache/code-server"
bin="$dest/node_modules/.bin/code-server"
if [ -x "$bin" ]; then echo "code-server present: $bin"; exit 0; fi
mkdir -p "$dest"
tmp="$(mktemp -d)"
cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache" "$tmp/rg"
cp "$(command -v rg)" "$tmp/rg/rg"
tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rg" rg
cd "$dest"
[ -f package.json ] || echo '{"name":"code-server-cache","private":true}' > package.json
npm_config_unsafe_perm=true npm_config_yes=true npm install --no-save --no-audit --no-fund code-server@4.99.4
rm -rf "$tmp"
test -x "$bin"
echo "code-server installed: $bin"
