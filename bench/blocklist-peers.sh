#!/usr/bin/env bash
# Blocklist benchmark: Squid, tinyproxy and Privoxy (and sluice, with
# --sluice BIN) each loaded with a domain blocklist of 0 names, the ~297k
# real ones from ../shared/blocklists, and 1,000,000 (real + synthetic,
# bench/gen-domains.py). For each proxy and size it measures
#   ready   time from exec until a request through it is answered (200),
#           polled with curl; given up after --load-timeout (120 s)
#   RSS     sum of VmRSS of the proxy's processes (it and its descendants:
#           Squid's master and kid) once ready, and again after the load
#   req/s   plain-HTTP GET of a 1 KiB object from a loopback origin
#           (bench/origin.c) through the proxy, wrk with keep-alive and an
#           absolute-form request line; median of --runs runs of
#           --duration s each
#   blocked HTTP status for the last name of the list and for a subdomain
#           of it (403 = refused, so the whole list took effect)
# Every proxy runs in the foreground as a child of this script, on a free
# loopback port, with its own config, pid file and logs in a mktemp
# directory; no system service is touched. Everything started is ended by
# PID on exit. Only loopback is used.
#
#   bench/blocklist-peers.sh [--sluice BIN] [--sluice-format FMT]
#       [--peers "squid tinyproxy privoxy"] [--sizes "0 real 1000000"]
#       [--runs 3] [--duration 3] [--connections 16] [--load-timeout 120]
#       [--seed 1] [--real-dir DIR] [--no-install] [--keep]
#
# sluice runs as `BIN --listen 127.0.0.1:PORT --admin off --blocklist FILE --access-log
# off $SLUICE_ARGS` (list size 0: `--blocklist none`); FILE is in
# --sluice-format (domains, hosts or adguard; default domains). Squid runs
# as `squid --foreground` (master + one kid, as Debian's unit does),
# tinyproxy as `tinyproxy -d`, Privoxy as `privoxy --no-daemon`.
#
# Prints the raw numbers as it goes (stderr) and a markdown table at the
# end (stdout). Needs root only to install missing Debian packages
# (squid tinyproxy privoxy wrk gcc curl).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

sluice=""
sluice_fmt=domains
peers="squid tinyproxy privoxy"
sizes="0 real 1000000"
runs=3
duration=3
conns=16
load_timeout=120
seed=1
real_dir="$root/../shared/blocklists"
install=1
keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--sluice) sluice=$(readlink -f "$2"); shift 2 ;;
	--sluice-format) sluice_fmt=$2; shift 2 ;;
	--peers) peers=$2; shift 2 ;;
	--sizes) sizes=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--connections) conns=$2; shift 2 ;;
	--load-timeout) load_timeout=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--real-dir) real_dir=$2; shift 2 ;;
	--no-install) install=0; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "blocklist-peers: unknown argument: $1" >&2; exit 2 ;;
	esac
done
if [ -n "$sluice" ]; then
	[ -x "$sluice" ] || { echo "blocklist-peers: not executable: $sluice" >&2; exit 2; }
	peers="$peers sluice"
fi

log() { printf '%s\n' "$*" >&2; }

# --- packages -------------------------------------------------------------
need_pkgs=()
for p in squid tinyproxy privoxy wrk curl gcc; do
	case $p in
	squid | tinyproxy | privoxy) [[ " $peers " == *" $p "* ]] || continue ;;
	esac
	command -v "$p" >/dev/null 2>&1 || need_pkgs+=("$p")
done
if [ ${#need_pkgs[@]} -gt 0 ]; then
	[ "$install" = 1 ] || { log "missing: ${need_pkgs[*]} (and --no-install)"; exit 1; }
	log "installing: ${need_pkgs[*]}"
	# Debian's packages start their service on install unless policy-rc.d
	# says no; none is needed, so say no for the length of this install
	# (only when there is no policy-rc.d already).
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt_get() { DEBIAN_FRONTEND=noninteractive timeout 900 apt-get -o DPkg::Lock::Timeout=300 "$@"; }
	if ! apt_get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2; then
		apt_get update -qq >&2
		apt_get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2
	fi
	[ "$made_policy" = 0 ] || rm -f /usr/sbin/policy-rc.d
fi

# --- work dir, cleanup ----------------------------------------------------
work=$(mktemp -d /tmp/sluice-blocklist.XXXXXX)
chmod 755 "$work" # Squid's kid runs as user proxy and reads from here
pids=()
cur_pid=""
descendants() { # PID: it and every descendant
	ps -e -o pid=,ppid= | awk -v root="$1" '{ kids[$2] = kids[$2] " " $1 }
		END { q[1] = root; n = 1; for (i = 1; i <= n; i++) { print q[i];
			m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}
stop_tree() { # PID: TERM it, wait up to 10 s, then KILL it and its descendants
	local pid=$1 tree i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	tree=$(descendants "$pid")
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# shellcheck disable=SC2086
	kill -KILL $tree 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
cleanup() {
	local p
	[ -z "$cur_pid" ] || stop_tree "$cur_pid"
	for p in "${pids[@]}"; do stop_tree "$p"; done
	if [ "$keep" = 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { echo "${EPOCHREALTIME/./}"; } # microseconds

# --- origin -----------------------------------------------------------------
gcc -O2 -o "$work/origin" bench/origin.c
"$work/origin" 0 1024 > "$work/origin.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening on' "$work/origin.log" && break; sleep 0.05; done
oport=$(grep -oP 'listening on 127.0.0.1:\K\d+' "$work/origin.log")
target="http://localhost:$oport/" # a name (from /etc/hosts), so every proxy checks its list
curl -sf -o /dev/null --max-time 5 "$target" || { log "origin does not answer"; exit 1; }
cat > "$work/proxy.lua" <<EOF
wrk.method = "GET"
wrk.path = "$target"
wrk.headers["Host"] = "localhost:$oport"
EOF

# --- versions ---------------------------------------------------------------
declare -A version
version[squid]=$(command -v squid >/dev/null && squid -v | sed -n 's/^Squid Cache: Version /Squid /p' || true)
version[tinyproxy]=$(command -v tinyproxy >/dev/null && tinyproxy -v 2>&1 | head -1 || true)
version[privoxy]=$(command -v privoxy >/dev/null && privoxy --version | sed 's/ (.*//; s/ version / /' || true)
[ -z "$sluice" ] || version[sluice]=$("$sluice" --version 2>&1 | head -1 || true)
wrk_version=$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}' || true)

# --- lists ------------------------------------------------------------------
mkdir -p "$work/lists"
declare -A entries lastname
for size in $sizes; do
	[ "$size" = 0 ] && continue
	d="$work/lists/$size"
	/usr/bin/python3 bench/gen-domains.py --count "$size" --seed "$seed" \
		--real-dir "$real_dir" --out "$d.domains" 2>> "$work/gen.log"
	for f in squid privoxy tinyproxy; do
		/usr/bin/python3 bench/gen-domains.py --from "$d.domains" --format $f --out "$d.$f" 2>> "$work/gen.log"
	done
	if [ -n "$sluice" ] && [ "$sluice_fmt" != domains ]; then
		/usr/bin/python3 bench/gen-domains.py --from "$d.domains" --format "$sluice_fmt" \
			--out "$d.$sluice_fmt" 2>> "$work/gen.log"
	fi
	entries[$size]=$(wc -l < "$d.domains")
	entries[$size.squid]=$(wc -l < "$d.squid")
	lastname[$size]=$(tail -n 1 "$d.domains")
done
chmod -R a+rX "$work/lists"
[ ! -f "$work/gen.log" ] || cat "$work/gen.log" >&2

label_of() { case $1 in 0) echo 0 ;; real) echo "${entries[real]} (real)" ;; *) echo "${entries[$1]}" ;; esac; }

# --- peers --------------------------------------------------------------------
# start_PEER DIR PORT SIZE: write a config in DIR, start the proxy in the
# background (foreground mode), set cur_pid.
start_squid() {
	local dir=$1 port=$2 size=$3 acl=""
	if [ "$size" != 0 ]; then
		acl="acl ads dstdomain \"$work/lists/$size.squid\"
http_access deny ads"
	fi
	cat > "$dir/squid.conf" <<EOF
http_port 127.0.0.1:$port
workers 1
pid_filename $dir/squid.pid
cache_log $dir/cache.log
access_log none
cache_store_log none
coredump_dir $dir
netdb_filename none
cache deny all
cache_mem 0 MB
visible_hostname sluice-bench
pinger_enable off
dns_nameservers 127.0.0.1
shutdown_lifetime 1 seconds
$acl
http_access allow localhost
http_access deny all
EOF
	chown -R proxy: "$dir" 2>/dev/null || chmod 777 "$dir"
	squid --foreground -f "$dir/squid.conf" > "$dir/stderr" 2>&1 &
	cur_pid=$!
}
start_tinyproxy() {
	local dir=$1 port=$2 size=$3 filter=""
	if [ "$size" != 0 ]; then
		filter="Filter \"$work/lists/$size.tinyproxy\"
FilterType fnmatch
FilterURLs Off
FilterDefaultDeny No"
	fi
	cat > "$dir/tinyproxy.conf" <<EOF
Port $port
Listen 127.0.0.1
Timeout 60
MaxClients 256
PidFile "$dir/tinyproxy.pid"
LogFile "$dir/tinyproxy.log"
LogLevel Error
Allow 127.0.0.1
$filter
EOF
	tinyproxy -d -c "$dir/tinyproxy.conf" > "$dir/stderr" 2>&1 &
	cur_pid=$!
}
start_privoxy() {
	local dir=$1 port=$2 size=$3 actions=""
	[ "$size" = 0 ] || actions="actionsfile $work/lists/$size.privoxy"
	cat > "$dir/config" <<EOF
confdir /etc/privoxy
templdir /etc/privoxy/templates
logdir $dir
logfile privoxy.log
$actions
listen-address 127.0.0.1:$port
toggle 1
enable-remote-toggle 0
enable-remote-http-toggle 0
enable-edit-actions 0
enforce-blocks 0
buffer-limit 4096
keep-alive-timeout 60
connection-sharing 1
socket-timeout 60
max-client-connections 512
EOF
	privoxy --no-daemon --pidfile "$dir/privoxy.pid" "$dir/config" > "$dir/stderr" 2>&1 &
	cur_pid=$!
}
start_sluice() {
	local dir=$1 port=$2 size=$3 list=none
	[ "$size" = 0 ] || list="$work/lists/$size.$sluice_fmt"
	# shellcheck disable=SC2086
	"$sluice" --listen "127.0.0.1:$port" --admin off --blocklist "$list" --access-log off \
		${SLUICE_ARGS:-} > "$dir/stderr" 2>&1 &
	cur_pid=$!
}

rss_kb() { # PID: sum of VmRSS (kB) over it and its descendants
	local p sum=0 v
	for p in $(descendants "$1"); do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
pss_kb() { # PID: sum of Pss (kB), which counts pages shared between them once
	local p sum=0 v
	for p in $(descendants "$1"); do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null || true)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
nprocs() { descendants "$1" | wc -l; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.0f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
status_via() { # PORT URL: HTTP status through the proxy (000 on failure)
	curl -s -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 10 \
		-x "http://127.0.0.1:$1" "$2" 2>/dev/null || true
}

declare -A res
run_one() { # PEER SIZE
	local peer=$1 size=$2 dir port t0 t1 code="" ready="" deadline left i
	dir="$work/$peer-$size"
	mkdir -p "$dir"
	port=$(free_port)
	t0=$(now)
	"start_$peer" "$dir" "$port" "$size"
	deadline=$((t0 + load_timeout * 1000000))
	for i in $(seq $((load_timeout * 20 + 100))); do
		if ! kill -0 "$cur_pid" 2>/dev/null; then
			ready="exited"
			break
		fi
		left=$(((deadline - $(now)) / 1000000))
		[ "$left" -ge 1 ] || { ready="timeout"; break; }
		code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 1 --max-time "$left" \
			-x "http://127.0.0.1:$port" "$target" 2>/dev/null || true)
		if [ "$code" = 200 ]; then
			t1=$(now)
			ready=$(awk -v us=$((t1 - t0)) 'BEGIN { printf "%.2f", us / 1e6 }')
			break
		fi
		sleep 0.05
	done
	res[$peer.$size.ready]=$ready
	res[$peer.$size.rss0]=$(rss_kb "$cur_pid")
	res[$peer.$size.pss0]=$(pss_kb "$cur_pid")
	res[$peer.$size.load]=$(cut -d' ' -f1 /proc/loadavg)
	res[$peer.$size.procs]=$(nprocs "$cur_pid")
	log "$peer, list $(label_of "$size"): ready=$ready s, RSS=$(mb "${res[$peer.$size.rss0]}") MB in ${res[$peer.$size.procs]} process(es)"
	case $ready in
	exited | timeout)
		log "  $peer $ready (last status $code); stderr/log tail:"
		tail -n 5 "$dir"/stderr "$dir"/*.log 2>/dev/null | sed 's/^/  | /' >&2 || true
		res[$peer.$size.rps]="–"
		res[$peer.$size.rss1]=""
		res[$peer.$size.blocked]="–"
		stop_tree "$cur_pid"
		cur_pid=""
		return 0
		;;
	esac

	if [ "$size" = 0 ]; then
		res[$peer.$size.blocked]="– (no list)"
	else
		local name=${lastname[$size]} a b
		a=$(status_via "$port" "http://$name/")
		b=$(status_via "$port" "http://sluice-bench-sub.$name/")
		res[$peer.$size.blocked]="$a / $b"
		log "  blocked? $name -> $a, sluice-bench-sub.$name -> $b"
	fi

	local out rps all="" non2xx errs
	for i in $(seq "$runs"); do
		out=$(timeout $((duration + 30)) wrk -t1 -c"$conns" -d"${duration}s" --timeout 5s \
			-s "$work/proxy.lua" "http://127.0.0.1:$port/" 2>&1 || true)
		rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' <<< "$out")
		non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<< "$out")
		errs=$(grep -o 'Socket errors:.*' <<< "$out" || true)
		log "  run $i: ${rps:-?} req/s${non2xx:+, non-2xx $non2xx}${errs:+, $errs}"
		[ -z "$non2xx" ] || res[$peer.$size.note]+="non-2xx responses in run $i; "
		all="$all ${rps:-}"
	done
	res[$peer.$size.rps]=$(median <<< "$all")
	res[$peer.$size.runs]=$all
	res[$peer.$size.rss1]=$(rss_kb "$cur_pid")
	log "  median ${res[$peer.$size.rps]} req/s; RSS after load $(mb "${res[$peer.$size.rss1]}") MB"
	if ! kill -0 "$cur_pid" 2>/dev/null; then res[$peer.$size.note]+="died during the load; "; fi
	stop_tree "$cur_pid"
	cur_pid=""
}

start_all=$(now)
log "origin 127.0.0.1:$oport, $wrk_version -t1 -c$conns -d${duration}s x $runs, $(nproc) cores"
for size in $sizes; do
	for peer in $peers; do
		run_one "$peer" "$size"
	done
done
elapsed=$((($(now) - start_all) / 1000000))

# --- report -------------------------------------------------------------------
echo "Versions: $(for p in $peers; do printf '%s; ' "${version[$p]}"; done)$wrk_version; curl $(curl -V | awk 'NR==1 {print $2}'); $(uname -sr); $(nproc) cores."
printf 'Load: wrk -t1 -c%s -d%ss, keep-alive, GET %s (1 KiB) through the proxy, median of %s runs. Lists: gen-domains.py seed %s.' \
	"$conns" "$duration" "$target" "$runs" "$seed"
if [[ " $peers " == *" squid "* ]] && [ -n "${entries[*]:-}" ]; then
	printf ' Squid gets the list minus the names covered by a listed parent (%s), as it refuses overlaps.' \
		"$(for s in $sizes; do [ "$s" = 0 ] || printf '%s → %s; ' "${entries[$s]}" "${entries[$s.squid]}"; done | sed 's/; $//')"
fi
[[ " $peers " != *" tinyproxy "* ]] || printf ' tinyproxy: FilterType fnmatch, two patterns a domain (name, *.name).'
[ -z "$sluice" ] || printf ' sluice: --blocklist FILE (%s format)%s.' "$sluice_fmt" "${SLUICE_ARGS:+, $SLUICE_ARGS}"
echo " Blocked: HTTP status for the list's last name / a subdomain of it (403 = refused)."
echo
echo "| proxy | list (domains) | ready (s) | RSS ready (MB) | RSS after load (MB) | req/s (median) | blocked: name / subdomain |"
echo "|---|---|---|---|---|---|---|"
for size in $sizes; do
	for peer in $peers; do
		r=${res[$peer.$size.ready]}
		case $r in exited) r="exited before ready" ;; timeout) r="> $load_timeout (gave up)" ;; esac
		rss1=${res[$peer.$size.rss1]:-}
		printf '| %s | %s | %s | %s | %s | %s | %s |\n' "${version[$peer]:-$peer}" "$(label_of "$size")" "$r" \
			"$(mb "${res[$peer.$size.rss0]}")" "${rss1:+$(mb "$rss1")}" "${res[$peer.$size.rps]}" \
			"${res[$peer.$size.blocked]}"
	done
done
echo
echo "Raw: (peer, list, ready s, processes, RSS and PSS kB when ready, RSS kB after the load, req/s per run, 1-min load average when ready, notes)"
echo '```'
for size in $sizes; do
	for peer in $peers; do
		printf '%s %s ready=%s procs=%s rss_ready_kB=%s pss_ready_kB=%s rss_after_kB=%s rps_runs=%s loadavg=%s %s\n' "$peer" "$size" \
			"${res[$peer.$size.ready]}" "${res[$peer.$size.procs]}" "${res[$peer.$size.rss0]}" "${res[$peer.$size.pss0]}" \
			"${res[$peer.$size.rss1]:-}" "$(tr ' ' , <<< "${res[$peer.$size.runs]:-}" | sed 's/^,//')" "${res[$peer.$size.load]}" "${res[$peer.$size.note]:-}"
	done
done
echo '```'
echo "Total run time: ${elapsed} s."
