#!/usr/bin/env bash
# README.md must document every directive the binary knows (from --help).
set -u
cd "$(dirname "$0")/.."
bin=${1:-build/sluice}
bad=0
for d in $("$bin" --help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
	grep -q "^| \`$d\` |" README.md || { echo "docs: README.md has no row for directive '$d'"; bad=1; }
done
[ $bad -eq 0 ] && echo "docs: README.md lists every directive"
exit $bad
