#!/usr/bin/env bash
# Holds the include rules of docs/HACKING.md:
#   base <- everything; http, policy, config use only base;
#   net uses base (and is where libevent lives); report uses base, config,
#   and http and net for the admin endpoint;
#   proxy uses all; nothing outside proxy/ includes a proxy/ header;
#   libevent headers appear in src/net/ only.
set -u
cd "$(dirname "$0")/.."
bad=0
allowed() { # layer -> allowed include prefixes
	case "$1" in
	base) echo "base" ;;
	http | policy | config) echo "base $1" ;;
	net) echo "base net" ;;
	report) echo "base config http net report" ;;
	proxy) echo "base http policy config net report proxy" ;;
	*) echo "base http policy config net report proxy" ;;
	esac
}
for f in src/*/*.[ch] src/*.c; do
	layer=$(basename "$(dirname "$f")")
	[ "$f" = src/main.c ] && layer=main
	ok=$(allowed "$layer")
	while IFS= read -r inc; do
		dir=${inc%%/*}
		case " $ok " in *" $dir "*) ;; *)
			echo "layers: $f includes \"$inc\" ($layer may use: $ok)"; bad=1 ;;
		esac
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f")
	if [ "$layer" != net ] && grep -q '^#include <event2/' "$f"; then
		echo "layers: $f includes libevent (only src/net/ may)"; bad=1
	fi
done
[ $bad -eq 0 ] && echo "layers: include rules hold"
exit $bad
