/*
 * test_blocklist_lines.c - how each line of a list is read and counted,
 * one line (or two) at a time: every syntax, every way to be skipped.
 */
#include "blocklist_helpers.h"

/* One line at a time (no final newline unless given): what it counts in. */
static void reads_each_line_on_its_own(void **state)
{
	enum { A = BLOCKLIST_ALLOW, E = BLOCKLIST_EXACT };
	static const struct want_stats cases[] = {
		/* text, flags, lines, blank, loaded, dup, local, skipped */
		{"\n", 0, 1, 1, 0, 0, 0, 0, 0},
		{"   \t  ", 0, 1, 1, 0, 0, 0, 0, 0},
		{"\r", 0, 1, 1, 0, 0, 0, 0, 0},
		{" \t\r\n", 0, 1, 1, 0, 0, 0, 0, 0},
		{"! comment", 0, 1, 1, 0, 0, 0, 0, 0},
		{"!a.example", 0, 1, 1, 0, 0, 0, 0, 0},
		{"# comment", 0, 1, 1, 0, 0, 0, 0, 0},
		{"#a.example", 0, 1, 1, 0, 0, 0, 0, 0},
		{"#", 0, 1, 1, 0, 0, 0, 0, 0},
		{"##", 0, 1, 1, 0, 0, 0, 0, 0},
		{"## x", 0, 1, 1, 0, 0, 0, 0, 0},
		{"##\tx", 0, 1, 1, 0, 0, 0, 0, 0},
		{"###x", 0, 1, 1, 0, 0, 0, 0, 0},
		{"####", 0, 1, 1, 0, 0, 0, 0, 0},
		{"#@#", 0, 1, 1, 0, 0, 0, 0, 0},
		{"#@# x", 0, 1, 1, 0, 0, 0, 0, 0},
		{"#@x", 0, 1, 1, 0, 0, 0, 0, 0},
		{"#?##", 0, 1, 1, 0, 0, 0, 0, 0},
		{"##.ad", 0, 1, 0, 0, 0, 0, 1, 1},
		{"##div[id=x]", 0, 1, 0, 0, 0, 0, 1, 1},
		{"#@#.ad", 0, 1, 0, 0, 0, 0, 1, 1},
		{"#?#.ad:has(a)", 0, 1, 0, 0, 0, 0, 1, 1},
		{"#$#body { x: y }", 0, 1, 0, 0, 0, 0, 1, 1},
		{"#%#//scriptlet('x')", 0, 1, 0, 0, 0, 0, 1, 1},
		{"  ##.ad\r", 0, 1, 0, 0, 0, 0, 1, 1},
		/* plain names */
		{"a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example\n", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example\r\n", 0, 1, 0, 1, 0, 0, 0, 0},
		{" \ta.example \t\r", 0, 1, 0, 1, 0, 0, 0, 0},
		{"A.EXAMPLE", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example.", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a", 0, 1, 0, 1, 0, 0, 0, 0},
		{"localhost", 0, 1, 0, 1, 0, 0, 0, 0},
		{"1a", 0, 1, 0, 1, 0, 0, 0, 0},
		{"123.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"_dmarc.a-b.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example # c", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example\t#c", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example ##c", 0, 1, 0, 1, 0, 0, 0, 0},
		{"a.example#c", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example\r\r", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example\rb.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example\v", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example\f", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example..", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a..example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example.123", 0, 1, 0, 0, 0, 0, 1, 1},
		{"123", 0, 1, 0, 0, 0, 0, 1, 1},
		{"1.2.3", 0, 1, 0, 0, 0, 0, 1, 1},
		{"1.2.3.4", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a!.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a:b.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a@b.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example b.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example\tb.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example$third-party", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example/ads", 0, 1, 0, 0, 0, 0, 1, 1},
		{"ads*.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a.example^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"a##b", 0, 1, 0, 0, 0, 0, 1, 1},
		{"/ads/", 0, 1, 0, 0, 0, 0, 1, 1},
		{"/", 0, 1, 0, 0, 0, 0, 1, 1},
		{"/a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		/* *.name and .name */
		{"*.a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"*.a.example", E, 1, 0, 1, 0, 0, 0, 0},
		{"*.a.example", A, 1, 0, 0, 0, 0, 1, 1},
		{"*.", 0, 1, 0, 0, 0, 0, 1, 1},
		{"*", 0, 1, 0, 0, 0, 0, 1, 1},
		{"*a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"*.*.a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"*.a*.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{".a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{".a.example", A, 1, 0, 1, 0, 0, 0, 0},
		{".a.example", A | E, 1, 0, 1, 0, 0, 0, 0},
		{".", 0, 1, 0, 0, 0, 0, 1, 1},
		{"..", 0, 1, 0, 0, 0, 0, 1, 1},
		{"..a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		/* Adblock/AdGuard */
		{"||a.example^", 0, 1, 0, 1, 0, 0, 0, 0},
		{"||a.example^|", 0, 1, 0, 1, 0, 0, 0, 0},
		{"||a.example^", A, 1, 0, 1, 0, 0, 0, 0},
		{"||A.Example.^", 0, 1, 0, 1, 0, 0, 0, 0},
		{"||a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"||a.example^*", 0, 1, 0, 0, 0, 0, 1, 1},
		{"||a.example^$important", 0, 1, 0, 0, 0, 0, 1, 1},
		{"||a.example/ads^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"||*.a.example^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"||^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"|http://a.example|", 0, 1, 0, 0, 0, 0, 1, 1},
		{"|a.example^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"@@||a.example^", 0, 1, 0, 1, 0, 0, 0, 0},
		{"@@||a.example^|", 0, 1, 0, 1, 0, 0, 0, 0},
		{"@@||a.example^", A, 1, 0, 1, 0, 0, 0, 0},
		{"@@||a.example^", E, 1, 0, 1, 0, 0, 0, 0},
		{"@@a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"@@|a.example^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"@@||a.example^$important", 0, 1, 0, 0, 0, 0, 1, 1},
		{"@@||a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"@@||a.example^ # why", 0, 1, 0, 1, 0, 0, 0, 0},
		/* hosts lines */
		{"0.0.0.0 a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"0.0.0.0 a.example", A | E, 1, 0, 1, 0, 0, 0, 0},
		{"127.0.0.1\ta.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"255.255.255.255 a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"::1 a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"::ffff:1.2.3.4 a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"fe80::1%eth0 a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"0.0.0.0 a.example b.example c.example", 0, 1, 0, 3, 0, 0, 0,
		 0},
		{"0.0.0.0 a.example a.example", 0, 1, 0, 1, 1, 0, 0, 0},
		{"0.0.0.0 a.example # b.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"0.0.0.0 a.example#b", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 bad!name a.example", 0, 1, 0, 1, 0, 0, 1, 1},
		{"0.0.0.0 1.2.3.4", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 *.a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 .a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 a.example\r", 0, 1, 0, 1, 0, 0, 0, 0},
		{"FE80::1 a.example", 0, 1, 0, 1, 0, 0, 0, 0},
		{"::", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 ||a.example^", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0", 0, 1, 0, 0, 0, 0, 1, 1},
		{"::1", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 # a comment", 0, 1, 0, 0, 0, 0, 1, 1},
		{"1.2.3 a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"01.2.3.4 a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"256.1.1.1 a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"1.2.3.4.5 a.example", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 localhost", 0, 1, 0, 0, 0, 1, 0, 0},
		{"0.0.0.0 localhost", A, 1, 0, 0, 0, 1, 0, 0},
		{"0.0.0.0 LocalHost.", 0, 1, 0, 0, 0, 1, 0, 0},
		{"0.0.0.0 localhost..", 0, 1, 0, 0, 0, 0, 1, 1},
		{"0.0.0.0 localhost.localdomain local broadcasthost", 0, 1, 0,
		 0, 0, 3, 0, 0},
		{"::1 ip6-localhost ip6-loopback ip6-localnet ip6-mcastprefix",
		 0, 1, 0, 0, 0, 4, 0, 0},
		{"::1 ip6-allnodes ip6-allrouters ip6-allhosts 0.0.0.0", 0, 1,
		 0, 0, 0, 4, 0, 0},
		{"0.0.0.0 localhost a.example", 0, 1, 0, 1, 0, 1, 0, 0},
		/* rules differ: not duplicates */
		{"a.example\n||a.example^", 0, 2, 0, 1, 1, 0, 0, 0},
		{"a.example\na.example.\nA.example", 0, 3, 0, 1, 2, 0, 0, 0},
		{"a.example\n*.a.example", 0, 2, 0, 2, 0, 0, 0, 0},
		{"a.example\n@@||a.example^", 0, 2, 0, 2, 0, 0, 0, 0},
		{"a.example\n.a.example", E, 2, 0, 2, 0, 0, 0, 0},
		{"a.example\n0.0.0.0 a.example", E, 2, 0, 1, 1, 0, 0, 0},
		{"||a.example^\n.a.example", E, 2, 0, 1, 1, 0, 0, 0},
		{"a.example\n@@||a.example^", A, 2, 0, 1, 1, 0, 0, 0},
		{"a.example\n@@||a.example^", A | E, 2, 0, 2, 0, 0, 0, 0},
		{"b\xc3\xbc"
		 "cher.example\nxn--bcher-kva.example",
		 0, 2, 0, 1, 1, 0, 0, 0},
		/* lines are counted, and the first skipped one is named */
		{"", 0, 0, 0, 0, 0, 0, 0, 0},
		{"\n\n", 0, 2, 2, 0, 0, 0, 0, 0},
		{"a.example\nb.example", 0, 2, 0, 2, 0, 0, 0, 0},
		{"a.example\r\nb.example\r\n", 0, 2, 0, 2, 0, 0, 0, 0},
		{"#\n\nx y\n/r/\na.example", 0, 5, 2, 1, 0, 0, 2, 3},
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct blocklist_builder *b = blocklist_builder_new();
		struct blocklist_stats st;

		assert_non_null(b);
		assert_int_equal(add_list(b, "line", cases[i].text,
					  strlen(cases[i].text), cases[i].flags,
					  &st),
				 0);
		check_stats(cases[i].text, &st, &cases[i]);
		blocklist_builder_free(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reads_each_line_on_its_own),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
