#!/usr/bin/env bash
# The cost of sluice's domain set, for bench/RESULTS.md:
#   1. bench/blocklist_bench (the pure module alone): load time, compiled
#      size and lookup time of five-label names, for the real lists in
#      ../shared/blocklists and for 1,000,000 domains (real + synthetic,
#      bench/gen-domains.py, seed 1); median of --runs runs
#   2. the sluice binary: resident memory once ready, with no list and with
#      the million (VmRSS; the set's share is the difference)
#   3. bench/blocklist-peers.sh --sluice: requests per second through
#      sluice with no list and with the million, beside Squid, tinyproxy
#      and Privoxy loaded with the same lists (--no-peers: sluice alone)
#
#   bench/blocklist.sh [--runs 5] [--no-peers] [--skip-throughput]
# Every process started is ended by PID; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
runs=5
peers="squid tinyproxy privoxy"
throughput=1
while [ $# -gt 0 ]; do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--no-peers) peers=""; shift ;;
	--skip-throughput) throughput=0; shift ;;
	*) echo "usage: $0 [--runs N] [--no-peers] [--skip-throughput]" >&2; exit 2 ;;
	esac
done
real_dir="$root/../shared/blocklists"
real=("$real_dir/adaway.hosts" "$real_dir/anudeep-adservers.hosts"
	"$real_dir/blocklistproject-ads.domains" "$real_dir/blocklistproject-tracking.adguard")
for f in "${real[@]}"; do
	[ -r "$f" ] || { echo "blocklist.sh: missing $f" >&2; exit 2; }
done

make --no-print-directory -s build/sluice
mkdir -p build/bench
cc -std=c17 -O2 -g -D_GNU_SOURCE -Isrc -include src/base/banned.h \
	-o build/bench/blocklist_bench bench/blocklist_bench.c \
	src/policy/blocklist.c src/policy/blocklist_line.c -lidn2
million=build/bench/1m.domains
[ -s "$million" ] || /usr/bin/python3 bench/gen-domains.py --count 1000000 --seed 1 \
	--real-dir "$real_dir" --out "$million" >&2

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

micro() { # label files...
	local label=$1 out
	shift
	out=$(mktemp)
	for _ in $(seq "$runs"); do build/bench/blocklist_bench "$@" >> "$out"; done
	printf '| %s | %s | %s ms | %s MiB | %s ns | %s ns |\n' "$label" \
		"$(grep -m1 '^rules:' "$out" | awk '{print $2}')" \
		"$(grep '^load:' "$out" | awk '{print $2}' | median)" \
		"$(grep -m1 '^memory:' "$out" | awk '{print $2}')" \
		"$(grep '^lookup, not listed' "$out" | awk '{print $4}' | median)" \
		"$(grep '^lookup, listed' "$out" | awk '{print $4}' | median)"
	rm -f "$out"
}

echo "## blocklist_bench, median of $runs runs ($(date -u +%F), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
echo
echo "| lists | rules | load | compiled set | lookup, name on no list | lookup, listed parent |"
echo "|---|---|---|---|---|---|"
micro "real (4 files)" "${real[@]}"
micro "1,000,000" "$million"
echo

rss_ready() { # list -> VmRSS in MiB once sluice is ready
	local log pid kib=""
	log=$(mktemp)
	build/sluice --listen 127.0.0.1:0 --blocklist "$1" --access-log off 2> "$log" &
	pid=$!
	for _ in $(seq 300); do grep -q "sluice ready" "$log" && break; sleep 0.1; done
	grep -q "sluice ready" "$log" && kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
	kill "$pid" 2> /dev/null || true
	wait "$pid" 2> /dev/null || true
	rm -f "$log"
	[ -n "$kib" ] || { echo "blocklist.sh: sluice did not start with $1" >&2; exit 1; }
	awk -v k="$kib" 'BEGIN {printf "%.1f", k / 1024}'
}
none=$(rss_ready none)
full=$(rss_ready "$million")
echo "## sluice resident memory once ready"
echo
echo "| blocklist | VmRSS |"
echo "|---|---|"
echo "| none | $none MiB |"
echo "| 1,000,000 domains | $full MiB (the set: $(awk -v a="$full" -v b="$none" 'BEGIN {printf "%.1f", a - b}') MiB) |"
echo

if [ "$throughput" = 1 ]; then
	bench/blocklist-peers.sh --sluice build/sluice --peers "$peers" --sizes "0 real 1000000"
fi
