#!/usr/bin/env bash
# Debian packages the integration tests' real servers need: Swift all-in-one, memcached,
# sshd and nftables for the namespace test hosts, Chromium for the report page. Installs
# only what is missing (apt-get update first).
set -euo pipefail
packages=(swift swift-proxy swift-account swift-container swift-object memcached
    openssh-server openssh-client iproute2 nftables chromium)
missing=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$pkg")
done
((${#missing[@]})) || exit 0
if [[ $(id -u) != 0 ]]; then
    echo "system_packages: missing ${missing[*]}; run as root or: apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "system_packages: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/dev/null
