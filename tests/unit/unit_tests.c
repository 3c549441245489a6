// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the userspace stages that need no BPF: probe placement,
 * ELF lookups, allocator resolution, symbolization of this very process,
 * option parsing and the renderers. Prints "ok NAME" or "FAIL NAME: why"
 * per check; tests/run.py counts them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "probes/providers.h"
#include "probes/elfsym.h"
#include "lib/idmap.h"
#include "cli/options.h"
#include "probes/probes.h"
#include "target/procmaps.h"
#include "output/render.h"
#include "symbols/symbolize.h"
#include "serve/http.h"
#include <arpa/inet.h>

#include "check.h"

int gobin_tests(const char *go_plain, const char *go_stripped);
int render_tests(const char *tmpdir);
int snapfile_tests(const char *tmpdir);

/* A fresh private directory for a test module; NULL (and a FAIL) if not. */
static char *tmpdir(const char *name)
{
	static char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/leaktop-%s-XXXXXX", name);
	if (mkdtemp(dir))
		return dir;
	unit_check(0, "tmpdir", "%s: %s", name, strerror(errno));
	return NULL;
}

static void check(int cond, const char *name, const char *why)
{
	unit_check(cond, name, "%s", why);
}

static void test_probe_offset(void)
{
	/* glibc free: test %rdi,%rdi; je +0x..; push %rbp */
	static const uint8_t free_glibc[] = { 0x48, 0x85, 0xff, 0x74, 0x10, 0x55, 0xc3 };
	/* glibc malloc: push %r12 first */
	static const uint8_t malloc_glibc[] = { 0x41, 0x54, 0x55, 0x53, 0xc3 };
	/* jemalloc malloc: cmp $0x1000,%rdi; ja */
	static const uint8_t malloc_je[] = { 0x48, 0x81, 0xff, 0x00, 0x10, 0x00, 0x00,
					     0x77, 0x05, 0xc3 };
	/* mov %rax,%rdi (clobbers the argument) before the push */
	static const uint8_t clobber[] = { 0x48, 0x89, 0xc7, 0x55, 0xc3 };
	/* mov %rdi,%rsi writes rsi: fine for a 1-arg function, not a 2-arg one */
	static const uint8_t rsi[] = { 0x48, 0x89, 0xfe, 0x55, 0xc3 };
	/* mov $9,%eax; syscall: nothing emulated before control flow */
	static const uint8_t sys[] = { 0xb8, 0x09, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3 };
	/* test; je; ...; jmp back to +3: the je is a jump target */
	static const uint8_t loop[] = { 0x48, 0x85, 0xff, 0x74, 0x02, 0x90, 0x90,
					0xeb, 0xfa, 0xc3 };
	/* sub $8,%rsp moves the stack pointer */
	static const uint8_t sub[] = { 0x48, 0x83, 0xec, 0x08, 0x55, 0xc3 };

	check(probe_offset(free_glibc, sizeof(free_glibc), 1) == 3, "probe_offset_free_je",
	      "expected +3");
	check(probe_offset(malloc_glibc, sizeof(malloc_glibc), 1) == 0, "probe_offset_push",
	      "expected +0");
	check(probe_offset(malloc_je, sizeof(malloc_je), 1) == 7, "probe_offset_jemalloc_ja",
	      "expected +7");
	check(probe_offset(clobber, sizeof(clobber), 1) == 0, "probe_offset_arg_clobbered",
	      "expected +0");
	check(probe_offset(rsi, sizeof(rsi), 1) == 3 && probe_offset(rsi, sizeof(rsi), 2) == 0,
	      "probe_offset_nargs", "expected +3 for 1 arg, +0 for 2");
	check(probe_offset(sys, sizeof(sys), 1) == 0, "probe_offset_syscall", "expected +0");
	check(probe_offset(loop, sizeof(loop), 1) == 0, "probe_offset_jump_target",
	      "expected +0");
	check(probe_offset(sub, sizeof(sub), 1) == 0, "probe_offset_rsp_moved", "expected +0");
}

static void test_elf(void)
{
	struct elf_file ef;
	struct elf_func fn;
	int err = elf_file_open("/lib/x86_64-linux-gnu/libc.so.6", &ef);

	check(!err, "elf_open_libc", strerror(-err));
	if (err)
		return;
	check(elf_find_func(&ef, "malloc", true, &fn) == 0 && fn.size > 0 && fn.offset > 0,
	      "elf_find_malloc", "malloc not found in libc's .dynsym");
	check(elf_find_func(&ef, "no_such_function_xyz", false, &fn) == -ENOENT,
	      "elf_find_missing", "found a function that does not exist");
	elf_file_close(&ef);
	check(elf_check("/etc/hostname") == -ENOEXEC, "elf_check_text", "text taken as ELF");
	check(elf_check("/bin/true") == 0, "elf_check_true", "/bin/true not ELF");
}

static void test_allocator(void)
{
	struct providers a = { 0 };
	int err;

	unsetenv("LD_PRELOAD");
	err = providers_find(0, "/bin/true", &a);
	check(!err && strstr(a.malloc_obj, "libc.so.6") && strstr(a.mmap_obj, "libc.so.6"),
	      "allocator_glibc", err ? strerror(-err) : a.malloc_obj);
	providers_free(&a);
	setenv("LD_PRELOAD", "libjemalloc.so.2", 1);
	err = providers_find(0, "/bin/true", &a);
	check(!err && strstr(a.malloc_obj, "jemalloc") && strstr(a.mmap_obj, "libc.so.6"),
	      "allocator_preload_jemalloc", err ? strerror(-err) : a.malloc_obj);
	providers_free(&a);
	unsetenv("LD_PRELOAD");
	err = providers_find(getpid(), "/proc/self/exe", &a);
	check(err == 0 || err == -ENOENT, "allocator_running_self", "unexpected error");
	providers_free(&a);
}

__attribute__((noinline)) int unit_marker_function(int x)
{
	asm volatile("");
	return x * 3 + 1;
}

static void test_symbolize(void)
{
	struct symbolizer *s = symbolizer_new(getpid());
	uint64_t addr = (uint64_t)(uintptr_t)&unit_marker_function;
	struct lt_frame f;

	check(s && symbolizer_refresh(s) == 0, "symbolizer_refresh", "cannot read own maps");
	if (!s)
		return;
	symbolize(s, addr + 2, false, &f);
	check(f.function && strcmp(f.function, "unit_marker_function") == 0,
	      "symbolize_own_function", f.function ? f.function : "(null)");
	check(f.file && strstr(f.file, "unit_tests.c") && f.line > 0, "symbolize_file_line",
	      f.file ? f.file : "(no file)");
	check(f.module && f.offset != f.address, "symbolize_pie_offset", "offset not relative");
	free(f.function);
	free(f.module);
	free(f.file);
	check(symbolizer_is_code(s, addr) && !symbolizer_is_code(s, 0x10),
	      "symbolizer_is_code", "code ranges wrong");
	symbolizer_free(s);
	{
		char *d = demangle("_ZN5Cache8rememberEi");
		check(strcmp(d, "Cache::remember(int)") == 0, "demangle_cxx", d);
		free(d);
		d = demangle("plain_c");
		check(strcmp(d, "plain_c") == 0, "demangle_plain", d);
		free(d);
	}
}

static int parse(const char *line, struct options *o)
{
	/* static: o->cmd points into argv after the call */
	static char buf[256], *argv[16];
	int argc = 0;

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t && argc < 15; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	optind = 1;
	return options_parse(argc, argv, o);
}

static void test_listen(void)
{
	static const struct {
		const char *arg;
		int family, port;
	} cases[] = {
		{ "9187", AF_INET, 9187 }, { ":80", AF_INET, 80 }, { "0.0.0.0:1", AF_INET, 1 },
		{ "[::1]:9000", AF_INET6, 9000 }, { "::1:9000", AF_INET6, 9000 },
		{ "0", 0, 0 }, { "65536", 0, 0 }, { "host:80", 0, 0 }, { "1.2.3.4:", 0, 0 },
		{ "", 0, 0 }, { "[::1]", 0, 0 }, { "80x", 0, 0 },
	};
	struct sockaddr_storage ss;
	struct options o_listen;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err = http_parse_listen(cases[i].arg, &ss);
		int port = ntohs(ss.ss_family == AF_INET6 ?
				 ((struct sockaddr_in6 *)&ss)->sin6_port :
				 ((struct sockaddr_in *)&ss)->sin_port);

		unit_check(cases[i].family ? !err && ss.ss_family == cases[i].family &&
					     port == cases[i].port : err == -EINVAL,
			   "options_listen", "'%s': %d, family %d port %d", cases[i].arg, err,
			   ss.ss_family, port);
	}
	check(parse("leaktop --listen 9 -p 1", &o_listen) == 0 && o_listen.listen &&
		      !strcmp(o_listen.listen, "9"), "options_listen_parsed", "not kept");
}

static void test_options(void)
{
	struct options o;
	FILE *saved = stderr;

	stderr = fopen("/dev/null", "w");
	check(parse("leaktop -p 12 -d 3 -i 1 -n 5 --min-age 0.5", &o) == 0 && o.pid == 12 &&
		      o.duration_s == 3 && o.interval_s == 1 && o.top == 5 && o.min_age_s == 0.5,
	      "options_full", "parsed wrong");
	check(parse("leaktop -d 2 -- ls -l", &o) == 0 && o.cmd && strcmp(o.cmd[1], "-l") == 0,
	      "options_command", "command args wrong");
	check(parse("leaktop -n abc -p 1", &o) == -EINVAL, "options_bad_top", "accepted");
	check(parse("leaktop -d -1 -p 1", &o) == -EINVAL, "options_bad_duration", "accepted");
	check(parse("leaktop", &o) == -EINVAL, "options_no_target", "accepted");
	check(parse("leaktop -p 1 -- ls", &o) == -EINVAL, "options_both_targets", "accepted");
	check(parse("leaktop --bogus -p 1", &o) == -EINVAL, "options_unknown", "accepted");
	test_listen();
	fclose(stderr);
	stderr = saved;
}

static void test_render(void)
{
	struct lt_frame fr[2] = {
		{ .function = "malloc", .module = "/lib/libc.so.6", .address = 0x10 },
		{ .function = "we\"ird\\name\n", .module = "/x", .address = 0x20, .file = "a.c",
		  .line = 7 },
	};
	struct lt_stack st = { 2, fr };
	struct lt_group g = { .bytes = 2048, .count = 2, .oldest_age_s = 1.5, .stack = &st };
	struct lt_snapshot s = { .pid = 1, .comm = "x", .ngroups = 1, .groups = &g,
				 .bytes = 2048, .count = 2 };
	char *buf = NULL, hb[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	render_json(f, &s);
	fclose(f);
	check(strstr(buf, "\"we\\\"ird\\\\name\\u000a\"") != NULL, "json_escape", buf);
	check(strstr(buf, "\"line\": 7") && strstr(buf, "\"lost_events\": 0"), "json_fields",
	      "missing fields");
	free(buf);
	check(strcmp(human_bytes(1536, hb, sizeof(hb)), "1.5 KiB") == 0, "human_bytes", hb);
	f = open_memstream(&buf, &len);
	render_table(f, &s, 10);
	fclose(f);
	check(strstr(buf, "2.0 KiB") && strstr(buf, "malloc") && strstr(buf, "(a.c:7)"),
	      "table_content", buf);
	{
		int wide = 0;

		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			wide |= strlen(l) > 80;
		check(!wide, "table_80_columns", "a line is wider than 80 columns");
	}
	free(buf);
}

static void test_idmap(void)
{
	struct idmap m = { 0 };
	int ok = 1;

	for (uint64_t i = 1; i <= 10000; i++)
		idmap_put(&m, i * 7919, (void *)(uintptr_t)i);
	for (uint64_t i = 1; i <= 10000; i++)
		ok &= idmap_get(&m, i * 7919) == (void *)(uintptr_t)i;
	check(ok && idmap_get(&m, 3) == NULL && m.n == 10000, "idmap", "lookups wrong");
	idmap_free(&m);
}

int main(void)
{
	char *dir;

	test_probe_offset();
	test_elf();
	test_allocator();
	test_symbolize();
	test_options();
	test_render();
	test_idmap();
	gobin_tests("tests/unit/go/build/hello", "tests/unit/go/build/hello_stripped");
	if ((dir = tmpdir("render"))) {
		char cmd[128];

		render_tests(dir);
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			unit_check(0, "render_cleanup", "%s", cmd);
	}
	snapfile_tests("/tmp");
	return unit_failures ? 1 : 0;
}
