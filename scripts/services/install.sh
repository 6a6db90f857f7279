#!/usr/bin/env bash
# Installs the Debian packages behind the test services in test/services/services.ts:
# PostgreSQL 15, OpenStack Swift (for its S3 API), the CNCF distribution registry and skopeo.
# Packages already present are skipped. The tests start their own instances on random loopback
# ports, so any system service these packages start (or enable for boot) is stopped and disabled.
set -euo pipefail
cd "$(dirname "$0")/../.."

pkgs=(postgresql python3-swift swift-proxy swift-account swift-container swift-object docker-registry skopeo)
need=()
for pkg in "${pkgs[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"

# Services the packages may start or enable: postgresql (cluster 15/main on 5432), the Swift
# daemons (they need /etc/swift configs and rings, so they normally fail, but keep them off) and
# docker-registry (:5000).
services=(postgresql postgresql@15-main docker-registry
  swift-proxy swift-account swift-account-auditor swift-account-reaper swift-account-replicator
  swift-container swift-container-auditor swift-container-replicator swift-container-sync
  swift-container-updater swift-container-sharder swift-container-reconciler
  swift-object swift-object-auditor swift-object-replicator swift-object-updater
  swift-object-reconstructor swift-object-expirer)

if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages: ${need[*]}"
  # Keep maintainer scripts from starting daemons during the install: a policy-rc.d that says
  # "not allowed" (exit 101), unless the machine already has one (containers usually do).
  added_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee /usr/sbin/policy-rc.d >/dev/null
    $sudo_cmd chmod 755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  cleanup() { if [ -n "$added_policy" ]; then $sudo_cmd rm -f /usr/sbin/policy-rc.d; fi; }
  trap cleanup EXIT
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need[@]}" >/dev/null
  cleanup; trap - EXIT
fi

# Whatever started anyway (or is enabled at boot): stop and disable it.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  for s in "${services[@]}"; do
    # Units that do not exist just fail here; that is fine.
    $sudo_cmd systemctl disable --now "$s.service" >/dev/null 2>&1 || true
  done
else
  for s in postgresql docker-registry; do
    if [ -x "/etc/init.d/$s" ]; then
      $sudo_cmd "/etc/init.d/$s" stop >/dev/null 2>&1 || true
      command -v update-rc.d >/dev/null 2>&1 && $sudo_cmd update-rc.d "$s" disable >/dev/null 2>&1 || true
    fi
  done
  # Any PostgreSQL cluster the package created and something started anyway.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters -h 2>/dev/null | while read -r ver cluster _port status _; do
      if [ "$status" = online ]; then $sudo_cmd pg_ctlcluster "$ver" "$cluster" stop || true; fi
    done
  fi
fi

# Report what the tests will use.
echo "postgres:  $(/usr/lib/postgresql/15/bin/postgres --version 2>/dev/null || echo missing)"
echo "swift:     $(/usr/bin/python3 -c 'import swift; print(swift.__version__)' 2>/dev/null || echo missing)"
echo "registry:  $(docker-registry --version 2>/dev/null || echo missing)"
echo "skopeo:    $(skopeo --version 2>/dev/null || echo missing)"
