#!/usr/bin/env bash
# Debian packages the tests use: Chromium (browser tests), PostgreSQL, Redis and nginx (real
# servers), openssl (a test certificate for nginx), ss from iproute2 (which worker holds a
# connection), systemd-analyze from systemd (checks deploy/pwpush.service).
# With --containers also what the container tests (the last part of `make test`) use: podman with
# runc, netavark, aardvark-dns and iptables, and mmdebstrap (the image is built from a Debian base made
# from apt's own mirror). Installs only what is missing; needs root (CI runs as root).
set -euo pipefail
need=()
command -v chromium >/dev/null || need+=(chromium)
[ -x /usr/lib/postgresql/15/bin/postgres ] || ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || need+=(nginx)
command -v openssl >/dev/null || need+=(openssl)
command -v ss >/dev/null || need+=(iproute2)
command -v systemd-analyze >/dev/null || need+=(systemd)
if [ "${1:-}" = --containers ]; then
  command -v podman >/dev/null || need+=(podman)
  command -v runc >/dev/null || need+=(runc)
  command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
  # netavark and aardvark-dns: compose's services find each other by name
  [ -x /usr/lib/podman/netavark ] || need+=(netavark)
  [ -x /usr/lib/podman/aardvark-dns ] || need+=(aardvark-dns)
  # netavark sets up the containers' networks with iptables (a plain machine may lack it)
  command -v iptables >/dev/null || [ -x /usr/sbin/iptables ] || need+=(iptables)
fi
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing system packages: ${need[*]}. Install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "Installing ${need[*]} from Debian's packages..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
