// SPDX-License-Identifier: GPL-2.0
/* Where the goroutine tracer hooks in. */
#include <errno.h>
#include <stdio.h>
#include "collect/go_drain.h"
#include "probes/go_probes.h"
#include "goroutines.h"
#include "goroutines.skel.h"
#include "probes/probes.h"

int go_probes_attach(struct goroutines_bpf *skel, pid_t pid, struct go_state *gs,
		     const char *exe)
{
	struct probe_req r = {
		.symbol = "runtime.gopark",
		.obj = exe,
		.entry = skel->progs.gopark_entry,
		/* reason in RCX, g in R14: SysV's first four cover RCX */
		.nargs = 4,
		.cookie = LT_GO_COOKIE(gs->layout.g_goid, gs->layout.g_gopc),
	};
	uint64_t vaddr;
	int tls;

	if (!gs->bin.regabi) {
		if (gobin_tls_g(&gs->bin, &tls)) {
			fprintf(stderr, "leaktop: %s: where Go %s keeps g was not found in "
				"runtime.gopark: goroutines not traced\n", exe, gs->bin.version);
			return -ENOTSUP;
		}
		/* ABI0: nothing in registers; reason on the stack, g in TLS */
		r.nargs = 0;
		r.cookie = LT_GO_COOKIE_ABI0(gs->layout.g_goid, gs->layout.g_gopc, tls);
	}
	if (gobin_find_func(&gs->bin, r.symbol, &vaddr, &r.func_size, &r.func_off)) {
		fprintf(stderr, "leaktop: runtime.gopark not found in %s\n", exe);
		return -ENOENT;
	}
	return probes_attach(&r, 1, pid);
}
