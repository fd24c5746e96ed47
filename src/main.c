/*
 * main.c - sluice's entry point: command line, config, then the server.
 * Wiring only; everything it calls lives in a module of its own.
 *
 * Exit status: 0 after a clean shutdown (or --help, --version, a good
 * --check-config), 1 when the server cannot start, 2 for a bad command line
 * or config.
 */
#include "base/addr.h"
#include "config/config.h"
#include "net/fetch.h"
#include "policy/access.h"
#include "policy/blocklist.h"
#include "proxy/lists.h"
#include "proxy/server.h"
#include "proxy/snapshot.h"
#include "report/access_log.h"
#include "report/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

#define EXIT_USAGE 2
/* Largest config file we read: a typo'd path to a huge file fails fast. */
#define CONFIG_FILE_MAX (1024 * 1024)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice [-c FILE] [--check-config | --explain NAME] "
		"[--DIRECTIVE VALUE]...\n"
		"\n"
		"An HTTP forward proxy: CONNECT tunnels to the allowed ports,\n"
		"plain http:// forwarded, ad and tracker domains blocked.\n"
		"\n"
		"  -c, --config FILE   read directives from FILE\n"
		"      --check-config  validate the config and the lists, "
		"and exit\n"
		"      --explain NAME  say whether NAME is blocked and by "
		"which\n"
		"                      list:line (exit 0 allowed, 1 "
		"blocked)\n"
		"  -h, --help          show this help and exit\n"
		"  -V, --version       show the version and exit\n"
		"\n"
		"Every directive may be given as --NAME VALUE (or "
		"--NAME=VALUE);\n"
		"flags override the config file. Directives:\n\n");
	for (size_t i = 0; i < config_directive_count(); i++) {
		const struct directive_info *d = config_directive_info(i);
		fprintf(out, "  %-20s %s%s\n  %-20s %s (default: %s)\n",
			d->name, d->arg, d->repeatable ? " (repeatable)" : "",
			"", d->help, d->def);
	}
}

/*
 * --print-directives (not in --help: for scripts/install.sh, which writes
 * the commented sluice.conf and the directive list of sluice.conf(5) from
 * it): one directive a line, NAME ARG DEFAULT once|repeatable HELP, the
 * fields separated by tabs (the table holds none).
 */
static void print_directives(void)
{
	for (size_t i = 0; i < config_directive_count(); i++) {
		const struct directive_info *d = config_directive_info(i);
		printf("%s\t%s\t%s\t%s\t%s\n", d->name, d->arg, d->def,
		       d->repeatable ? "repeatable" : "once", d->help);
	}
}

/* Descriptors are what a proxy spends: take all the hard limit allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the descriptor limit: %s",
			 strerror(errno));
}

static bool is_directive(const char *name)
{
	for (size_t i = 0; i < config_directive_count(); i++)
		if (strcmp(config_directive_info(i)->name, name) == 0)
			return true;
	return false;
}

struct options {
	const char *config_file;
	const char *explain;
	bool check_only;
};

/*
 * Applies the command line over cfg (already holding the file's values,
 * when there is a file). 0, or -1 with the reason in err[SNAPSHOT_ERR_MAX].
 */
static int apply_flags(int argc, char **argv, struct config *cfg, char *err)
{
	char why[CONFIG_ERR_MAX];

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		char name[64];
		const char *value;

		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0 ||
		    strcmp(arg, "--explain") == 0) {
			i++;
			continue;
		}
		if (strcmp(arg, "--check-config") == 0)
			continue;
		if (strncmp(arg, "--", 2) != 0) {
			snprintf(err, SNAPSHOT_ERR_MAX,
				 "unexpected argument '%s'; see --help", arg);
			return -1;
		}
		const char *eq = strchr(arg + 2, '=');
		size_t n =
			eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (n >= sizeof(name)) {
			snprintf(err, SNAPSHOT_ERR_MAX, "unknown option '%s'",
				 arg);
			return -1;
		}
		memcpy(name, arg + 2, n);
		name[n] = '\0';
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			snprintf(err, SNAPSHOT_ERR_MAX,
				 "option '%s' needs a value", arg);
			return -1;
		}
		if (!is_directive(name)) {
			snprintf(err, SNAPSHOT_ERR_MAX,
				 "unknown option '%s'; see --help", arg);
			return -1;
		}
		if (config_set(cfg, name, value, CONFIG_SOURCE_FLAG, why) < 0) {
			snprintf(err, SNAPSHOT_ERR_MAX, "--%s", why);
			return -1;
		}
	}
	return 0;
}

static struct options scan_options(int argc, char **argv)
{
	struct options o = {0};

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(arg, "-V") == 0 || strcmp(arg, "--version") == 0) {
			printf("sluice %s\n", SLUICE_VERSION);
			exit(0);
		}
		if (strcmp(arg, "--print-directives") == 0) {
			print_directives();
			exit(0);
		}
		if (strcmp(arg, "--check-config") == 0) {
			o.check_only = true;
		} else if (strcmp(arg, "--explain") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr,
					"sluice: --explain needs a name\n");
				exit(EXIT_USAGE);
			}
			o.explain = argv[++i];
		} else if (strcmp(arg, "-c") == 0 ||
			   strcmp(arg, "--config") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "sluice: %s needs a file\n",
					arg);
				exit(EXIT_USAGE);
			}
			o.config_file = argv[++i];
		}
	}
	return o;
}

/*
 * A listener others can reach, with allow rules that let everyone in
 * through a block like 0.0.0.0/0: refused, unless "allow all" says so.
 * An open proxy is abused within hours. 0, or -1 with the reason in err.
 */
static int check_open_proxy(const struct config *cfg, char *err)
{
	char text[ADDR_TEXT_MAX];

	if (!access_open_by_accident(&cfg->clients))
		return 0;
	for (size_t i = 0; i < cfg->n_listen; i++) {
		const struct sockaddr *sa =
			(const struct sockaddr *)&cfg->listen[i].addr;
		if (access_is_local(sa))
			continue;
		addr_format(sa, text, sizeof(text));
		snprintf(err, SNAPSHOT_ERR_MAX,
			 "listen %s can be reached from anywhere and an allow "
			 "rule covers every address: that is an open proxy. "
			 "Write 'allow all' if you mean it.",
			 text);
		return -1;
	}
	return 0;
}

/* What it takes to read the config again, on SIGHUP. */
struct command_line {
	int argc;
	char **argv;
	const char *config_file; /* NULL: the built-in defaults */
};

/*
 * The config: defaults, then the file, then the flags, then the checks
 * that span directives. 0, or -1 with the reason in err[SNAPSHOT_ERR_MAX].
 * At start and on every reload alike.
 */
static int load_config(void *arg, struct config *cfg, char *err)
{
	const struct command_line *cl = arg;

	config_init(cfg);
	if (cl->config_file != NULL) {
		size_t len;
		char *text =
			lists_read_file(cl->config_file, CONFIG_FILE_MAX, &len);
		if (text == NULL) {
			snprintf(err, SNAPSHOT_ERR_MAX, "cannot read %s: %s",
				 cl->config_file, strerror(errno));
			return -1;
		}
		int rc = config_parse(cfg, text, len, cl->config_file, err);
		free(text);
		if (rc < 0)
			return -1;
	}
	if (apply_flags(cl->argc, cl->argv, cfg, err) < 0 ||
	    check_open_proxy(cfg, err) < 0)
		return -1;
	return 0;
}

/* Load-summary lines for --check-config: to stdout. */
static void report_stdout(void *arg, bool warning, const char *line)
{
	(void)arg;
	printf("sluice: %s%s\n", warning ? "warning: " : "", line);
}

/* --explain NAME: the verdict and the rule behind it. */
static int explain(const struct config *cfg, const char *name)
{
	struct blocklist *bl;
	struct blocklist_verdict v;
	char err[LISTS_ERR_MAX], rule[256];

	if (lists_load(cfg, NULL, NULL, &bl, err) < 0) {
		fprintf(stderr, "sluice: %s\n", err);
		return EXIT_USAGE;
	}
	blocklist_match(bl, name, strlen(name), &v);
	if (bl == NULL) {
		printf("%s: allowed: blocking is off (blocklist none)\n", name);
	} else if (v.rule == BLOCKLIST_RULE_NONE) {
		printf("%s: allowed: on no list (%zu rules from %zu lists)\n",
		       name, blocklist_count(bl), blocklist_list_count(bl));
	} else {
		/* the listed name, as the list holds it: lowercase, no dot */
		char listed[BLOCKLIST_NAME_MAX + 1];
		size_t n = strlen(name + v.match_off);
		if (n > 0 && name[v.match_off + n - 1] == '.')
			n--;
		for (size_t i = 0; i < n && i < BLOCKLIST_NAME_MAX; i++)
			listed[i] = (char)tolower(
				(unsigned char)name[v.match_off + i]);
		listed[n < BLOCKLIST_NAME_MAX ? n : BLOCKLIST_NAME_MAX] = '\0';
		lists_rule_text(cfg, v.list, v.line, rule, sizeof(rule));
		printf("%s: %s by %s:%u (%s of %s): %s\n", name,
		       v.blocked ? "blocked" : "allowed", v.list, v.line,
		       blocklist_rule_text(v.rule), listed, rule);
	}
	blocklist_free(bl);
	return v.blocked ? 1 : 0;
}

int main(int argc, char **argv)
{
	static struct config cfg;
	struct options opt = scan_options(argc, argv);
	struct command_line cl = {argc, argv, opt.config_file};
	struct access_log *alog;
	struct snapshot *snap;
	char err[SNAPSHOT_ERR_MAX];
	int rc;

	_Static_assert(CONFIG_ERR_MAX <= SNAPSHOT_ERR_MAX, "room for reasons");
	if (load_config(&cl, &cfg, err) < 0) {
		fprintf(stderr, "sluice: %s\n", err);
		return EXIT_USAGE;
	}
	if (opt.explain != NULL)
		return explain(&cfg, opt.explain);
	if (opt.check_only) {
		snap = snapshot_load(&cfg, 1, report_stdout, NULL, err);
		if (snap == NULL) {
			fprintf(stderr, "sluice: %s\n", err);
			return EXIT_USAGE;
		}
		snapshot_release(snap);
		printf("sluice: config OK%s%s\n",
		       opt.config_file != NULL ? ": " : " (built-in defaults)",
		       opt.config_file != NULL ? opt.config_file : "");
		return 0;
	}

	log_set_level(cfg.log_level);
	rc = log_open(cfg.error_log);
	if (rc < 0) {
		fprintf(stderr, "sluice: error-log: cannot open %s: %s\n",
			cfg.error_log, strerror(-rc));
		return EXIT_USAGE;
	}
	raise_fd_limit();
	alog = access_log_open(cfg.access_log, cfg.access_log_format, &rc);
	if (alog == NULL) {
		fprintf(stderr, "sluice: access-log: cannot open %s: %s\n",
			cfg.access_log, strerror(-rc));
		return EXIT_USAGE;
	}
	log_info("sluice %s starting", SLUICE_VERSION);
	if (fetch_global_init() < 0) {
		fprintf(stderr, "sluice: cannot initialise libcurl\n");
		access_log_close(alog);
		return 1;
	}
	snap = snapshot_load(&cfg, 1, lists_report_to_log, NULL, err);
	if (snap == NULL) {
		fprintf(stderr, "sluice: %s\n", err);
		access_log_close(alog);
		return EXIT_USAGE;
	}
	rc = server_run(snap, alog, load_config, &cl); /* takes snap over */
	access_log_close(alog);
	return rc;
}
