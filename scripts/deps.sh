#!/usr/bin/env bash
# Installs the Debian packages a make target needs, and only those missing.
#   scripts/deps.sh build   compile sluice
#   scripts/deps.sh check   build + unit, integration, sanitizer and fuzz-replay tests
#   scripts/deps.sh fuzz    libFuzzer targets (clang)
set -euo pipefail

build=(gcc make pkg-config libevent-dev libidn2-dev libcurl4-openssl-dev libcrypt-dev)
check=("${build[@]}" libcmocka-dev python3 python3-pytest curl openssl clang-format
	clang libclang-rt-14-dev chromium apache2-utils whois man-db groff-base systemd
	squid python3-prometheus-client haproxy)
fuzz=("${build[@]}" clang libclang-rt-14-dev)

case "${1:-build}" in
build) want=("${build[@]}") ;;
check) want=("${check[@]}") ;;
fuzz) want=("${fuzz[@]}") ;;
*) echo "usage: $0 build|check|fuzz" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
