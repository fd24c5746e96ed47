#!/usr/bin/env bash
# make install / make uninstall: puts sluice on a machine, or takes it off.
#   scripts/install.sh install BINARY
#   scripts/install.sh uninstall
# The Makefile passes the directories in the environment: DESTDIR, SBINDIR,
# SYSCONFDIR, MANDIR, UNITDIR, SYSUSERSDIR (README.md, "Install").
#
# What it writes, each from the binary and a template so nothing drifts:
#   SBINDIR/sluice                   the binary
#   SYSCONFDIR/sluice/sluice.conf    every directive commented out with its
#                                    default and help (--print-directives);
#                                    only if there is none: never overwritten
#   MANDIR/man8/sluice.8             docs/sluice.8.in
#   MANDIR/man5/sluice.conf.5        docs/sluice.conf.5.in + the directives
#   UNITDIR/sluice.service           dist/sluice.service.in; the capability
#                                    to bind a port below 1024 only when the
#                                    config's listen (or admin) asks for one
#   SYSUSERSDIR/sluice.conf          dist/sluice.sysusers: the sluice user
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd) # the templates' tree

: "${DESTDIR:=}" "${SBINDIR:?}" "${SYSCONFDIR:?}" "${MANDIR:?}" "${UNITDIR:?}" "${SYSUSERSDIR:?}"
conf_path=$SYSCONFDIR/sluice/sluice.conf
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# The @NAME@ placeholders of the templates.
subst() { # template -> stdout
	sed -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" \
		-e "s|@UNITDIR@|$UNITDIR|g" -e "s|@SYSUSERSDIR@|$SYSUSERSDIR|g" \
		-e "s|@VERSION@|$version|g" "$1"
}

# The template with its line MARKER replaced by the lines of file.
fill() { # template marker file -> stdout
	subst "$1" | awk -v m="$2" -v f="$3" '
		$0 == m { while ((getline l < f) > 0) print l; next }
		{ print }'
}

# The directive table (--print-directives: tab-separated NAME ARG DEFAULT
# once|repeatable HELP) as commented config lines or as man(7) paragraphs.
directives() { # binary conf|man -> stdout
	"$1" --print-directives | awk -F '\t' -v fmt="$2" '
		NF != 5 { print "install.sh: bad --print-directives line: " $0 > "/dev/stderr"; exit 1 }
		function wrap(text, lead,   out, line, n, i, w) {
			n = split(text, w, " "); line = lead
			for (i = 1; i <= n; i++) {
				if (line != lead && length(line) + 1 + length(w[i]) > 76) {
					out = out line "\n"; line = lead
				}
				line = line (line == lead ? "" : " ") w[i]
			}
			return out line
		}
		function roff(s) { gsub(/\\/, "\\e", s); return s }
		function literal(s) { s = roff(s); gsub(/-/, "\\-", s); return s }
		fmt == "conf" {
			print ""
			print wrap($1 " " $2 ($4 == "repeatable" ? " (repeatable)" : "") ": " $5, "# ")
			print "#" $1 " " $3
		}
		fmt == "man" {
			print ".TP"
			print "\\fB" literal($1) "\\fR \\fI" literal($2) "\\fR" ($4 == "repeatable" ? " (repeatable)" : "")
			print "\\&" roff($5) "."
			print ".br"
			print "Default: \\fB" literal($3) "\\fR"
		}'
}

# Does the config ask for a port below 1024? Reads uncommented listen and
# admin lines as the parser does: '#' at the start or after a blank starts
# a comment; each ADDR:PORT word ends in its port (port 0: the kernel picks).
wants_low_port() { # config file
	awk '
		{ sub(/(^|[ \t])#.*/, "") }
		$1 == "listen" || $1 == "admin" {
			for (i = 2; i <= NF; i++)
				if (match($i, /:[0-9]+$/)) {
					port = substr($i, RSTART + 1) + 0
					if (port > 0 && port < 1024) found = 1
				}
		}
		END { exit !found }' "$1"
}

capabilities() { # config file -> the unit's capability lines
	if [ -f "$1" ] && wants_low_port "$1"; then
		echo "# A port below 1024 in $conf_path when make install ran:"
		echo "CapabilityBoundingSet=CAP_NET_BIND_SERVICE"
		echo "AmbientCapabilities=CAP_NET_BIND_SERVICE"
	else
		echo "# No capability: no port below 1024 in $conf_path when make"
		echo "# install ran. For one, make install again or add a drop-in (sluice(8))."
		echo "CapabilityBoundingSet="
	fi
}

generate_config() { # binary -> $stage/sluice.conf
	directives "$1" conf > "$stage/conf.directives"
	fill "$src/dist/sluice.conf.in" @DIRECTIVES@ "$stage/conf.directives" > "$stage/sluice.conf"
}

do_install() {
	local bin=$1 dest_conf=$DESTDIR$conf_path
	version=$("$bin" --version | sed -n 's/^sluice //p')
	[ -n "$version" ] || { echo "install.sh: $bin --version says nothing" >&2; exit 1; }

	generate_config "$bin"
	directives "$bin" man > "$stage/man.directives"
	fill "$src/docs/sluice.conf.5.in" @DIRECTIVES@ "$stage/man.directives" > "$stage/sluice.conf.5"
	subst "$src/docs/sluice.8.in" > "$stage/sluice.8"

	install -d -m 0755 "$DESTDIR$SBINDIR" "$DESTDIR$SYSCONFDIR/sluice" \
		"$DESTDIR$MANDIR/man8" "$DESTDIR$MANDIR/man5" "$DESTDIR$UNITDIR" \
		"$DESTDIR$SYSUSERSDIR"
	install -m 0755 "$bin" "$DESTDIR$SBINDIR/sluice"
	if [ -e "$dest_conf" ] || [ -L "$dest_conf" ]; then
		echo "install: kept $dest_conf as it is (man sluice.conf lists" \
			"every directive and its default)"
	else
		install -m 0644 "$stage/sluice.conf" "$dest_conf"
	fi
	install -m 0644 "$stage/sluice.8" "$DESTDIR$MANDIR/man8/sluice.8"
	install -m 0644 "$stage/sluice.conf.5" "$DESTDIR$MANDIR/man5/sluice.conf.5"
	capabilities "$dest_conf" > "$stage/unit.capabilities"
	fill "$src/dist/sluice.service.in" @CAPABILITIES@ "$stage/unit.capabilities" \
		> "$stage/sluice.service"
	install -m 0644 "$stage/sluice.service" "$DESTDIR$UNITDIR/sluice.service"
	install -m 0644 "$src/dist/sluice.sysusers" "$DESTDIR$SYSUSERSDIR/sluice.conf"

	if [ -z "$DESTDIR" ]; then
		# what a package's postinst does: the unit's User= must exist
		if command -v systemd-sysusers >/dev/null; then
			systemd-sysusers "$SYSUSERSDIR/sluice.conf" ||
				echo "install: systemd-sysusers failed: create the user sluice" >&2
		fi
		echo "install: now: systemctl daemon-reload && systemctl enable --now sluice"
	fi
}

do_uninstall() {
	local dest_conf=$DESTDIR$conf_path bin=$DESTDIR$SBINDIR/sluice
	# The config goes only if it is still the one install wrote.
	if [ -f "$dest_conf" ]; then
		version=$("$bin" --version 2>/dev/null | sed -n 's/^sluice //p') || true
		if [ -n "$version" ] && generate_config "$bin" 2>/dev/null &&
			cmp -s "$stage/sluice.conf" "$dest_conf"; then
			rm -f "$dest_conf"
		else
			echo "uninstall: kept $dest_conf (not the one make install wrote)"
		fi
	fi
	rm -f "$bin" "$DESTDIR$MANDIR/man8/sluice.8" \
		"$DESTDIR$MANDIR/man5/sluice.conf.5" "$DESTDIR$UNITDIR/sluice.service" \
		"$DESTDIR$SYSUSERSDIR/sluice.conf"
	rmdir "$DESTDIR$SYSCONFDIR/sluice" 2>/dev/null || true
	if [ -z "$DESTDIR" ]; then
		echo "uninstall: the user sluice and /var/{lib,cache,log}/sluice stay;" \
			"systemctl daemon-reload"
	fi
}

case "${1:-}" in
install) do_install "${2:?usage: $0 install BINARY}" ;;
uninstall) do_uninstall ;;
*) echo "usage: $0 install BINARY | uninstall" >&2; exit 2 ;;
esac
