/*
 * main.c - sluice's entry point: command line, config, then the server.
 * Wiring only; everything it calls lives in a module of its own.
 *
 * Exit status: 0 after a clean shutdown (or --help, --version, a good
 * --check-config), 1 when the server cannot start, 2 for a bad command line
 * or config.
 */
#include "config/config.h"
#include "proxy/server.h"
#include "report/access_log.h"
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SLUICE_VERSION
#define SLUICE_VERSION "0.0.0"
#endif

#define EXIT_USAGE 2
/* Largest config file we read: a typo'd path to a huge file fails fast. */
#define CONFIG_FILE_MAX (1024 * 1024)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sluice [-c FILE] [--check-config] [--DIRECTIVE "
		"VALUE]...\n"
		"\n"
		"An HTTP forward proxy: CONNECT tunnels to the allowed ports.\n"
		"\n"
		"  -c, --config FILE   read directives from FILE\n"
		"      --check-config  validate the config and exit\n"
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

/* Reads a whole file into a new buffer. Returns NULL and sets errno. */
static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	size_t n = 0;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		errno = S_ISREG(st.st_mode) ? EFBIG : EINVAL;
		goto fail;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL)
		goto fail;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			goto fail;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:;
	int err = errno;
	free(buf);
	close(fd);
	errno = err;
	return NULL;
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
	bool check_only;
};

/*
 * Applies the command line over cfg (already holding the file's values,
 * when there is a file). Exits on --help, --version and errors.
 */
static void apply_flags(int argc, char **argv, struct config *cfg)
{
	char err[CONFIG_ERR_MAX];

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		char name[64];
		const char *value;

		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
			i++;
			continue;
		}
		if (strcmp(arg, "--check-config") == 0)
			continue;
		if (strncmp(arg, "--", 2) != 0) {
			fprintf(stderr,
				"sluice: unexpected argument '%s'; "
				"see --help\n",
				arg);
			exit(EXIT_USAGE);
		}
		const char *eq = strchr(arg + 2, '=');
		size_t n =
			eq != NULL ? (size_t)(eq - arg - 2) : strlen(arg + 2);
		if (n >= sizeof(name)) {
			fprintf(stderr, "sluice: unknown option '%s'\n", arg);
			exit(EXIT_USAGE);
		}
		memcpy(name, arg + 2, n);
		name[n] = '\0';
		if (eq != NULL) {
			value = eq + 1;
		} else if (i + 1 < argc) {
			value = argv[++i];
		} else {
			fprintf(stderr, "sluice: option '%s' needs a value\n",
				arg);
			exit(EXIT_USAGE);
		}
		if (!is_directive(name)) {
			fprintf(stderr,
				"sluice: unknown option '%s'; see --help\n",
				arg);
			exit(EXIT_USAGE);
		}
		if (config_set(cfg, name, value, CONFIG_SOURCE_FLAG, err) < 0) {
			fprintf(stderr, "sluice: --%s\n", err);
			exit(EXIT_USAGE);
		}
	}
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
		if (strcmp(arg, "--check-config") == 0) {
			o.check_only = true;
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

int main(int argc, char **argv)
{
	static struct config cfg;
	struct options opt = scan_options(argc, argv);
	struct access_log *alog;
	char err[CONFIG_ERR_MAX];
	int rc;

	config_init(&cfg);
	if (opt.config_file != NULL) {
		size_t len;
		char *text = read_file(opt.config_file, &len);
		if (text == NULL) {
			fprintf(stderr, "sluice: cannot read %s: %s\n",
				opt.config_file, strerror(errno));
			return EXIT_USAGE;
		}
		rc = config_parse(&cfg, text, len, opt.config_file, err);
		free(text);
		if (rc < 0) {
			fprintf(stderr, "sluice: %s\n", err);
			return EXIT_USAGE;
		}
	}
	apply_flags(argc, argv, &cfg);
	if (opt.check_only) {
		printf("sluice: config OK%s%s\n",
		       opt.config_file != NULL ? ": " : " (built-in defaults)",
		       opt.config_file != NULL ? opt.config_file : "");
		return 0;
	}

	log_set_level(cfg.log_level);
	raise_fd_limit();
	alog = access_log_open(cfg.access_log, &rc);
	if (alog == NULL) {
		fprintf(stderr, "sluice: access-log: cannot open %s: %s\n",
			cfg.access_log, strerror(-rc));
		return EXIT_USAGE;
	}
	log_info("sluice %s starting", SLUICE_VERSION);
	rc = server_run(&cfg, alog);
	access_log_close(alog);
	return rc;
}
