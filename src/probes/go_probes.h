/* SPDX-License-Identifier: GPL-2.0 */
/* The goroutine tracer's probe (bpf/goroutines.bpf.c). */
#ifndef LEAKTOP_GO_PROBES_H
#define LEAKTOP_GO_PROBES_H

#include <sys/types.h>

struct goroutines_bpf;
struct go_state;

/* An entry uprobe on runtime.gopark, found through .symtab or .gopclntab;
 * never a return probe on Go code. */
int go_probes_attach(struct goroutines_bpf *skel, pid_t pid, struct go_state *gs,
		     const char *exe);

#endif
