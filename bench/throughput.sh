#!/usr/bin/env bash
# A quick probe, not the benchmark (that is `make bench`, still to come):
# 1 GiB downloaded from a loopback origin directly, through a CONNECT
# tunnel, and as a forwarded plain-HTTP request, N rounds interleaved.
# Prints MB/s for each and the CPU seconds sluice spent per GiB (from
# /proc/PID/stat, user + system), the figure noise disturbs least.
# The origin is Python's http.server, so MB/s is bounded by it.
#   bench/throughput.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
bin=build/sluice
[ -x "$bin" ] || make --no-print-directory all >/dev/null
work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

head -c $((1 << 30)) /dev/urandom > "$work/big.bin"
oport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$work" && exec /usr/bin/python3 -m http.server "$oport" --bind 127.0.0.1 >/dev/null 2>&1) &
pids+=($!)
"$bin" --listen 127.0.0.1:0 --connect-ports 1-65535 --access-log off 2> "$work/sluice.log" &
spid=$!
pids+=($spid)
for _ in $(seq 100); do grep -q 'listening on' "$work/sluice.log" 2>/dev/null && break; sleep 0.05; done
pport=$(grep -oP 'listening on 127.0.0.1:\K\d+' "$work/sluice.log")
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$oport/" && break; sleep 0.05; done

ticks=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' "/proc/$spid/stat"; }
mbs() { echo "$(( ${1%.*} / 1000000 ))"; }
url="http://127.0.0.1:$oport/big.bin"
echo "sluice $("$bin" --version | cut -d' ' -f2), $(nproc) cores, $rounds rounds of 1 GiB"
for r in $(seq "$rounds"); do
	d=$(curl -s -o /dev/null -w '%{speed_download}' "$url")
	c0=$(cpu)
	t=$(curl -s -p -x "http://127.0.0.1:$pport" -o /dev/null -w '%{speed_download}' "$url")
	c1=$(cpu)
	f=$(curl -s -x "http://127.0.0.1:$pport" -o /dev/null -w '%{speed_download}' "$url")
	c2=$(cpu)
	printf 'round %s: direct %s MB/s | tunnel %s MB/s, %s CPU-ms/GiB | forward %s MB/s, %s CPU-ms/GiB\n' \
		"$r" "$(mbs "$d")" "$(mbs "$t")" $(( (c1 - c0) * 1000 / ticks )) \
		"$(mbs "$f")" $(( (c2 - c1) * 1000 / ticks ))
done
echo "sluice peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$spid/status")"
