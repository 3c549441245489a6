// SPDX-License-Identifier: GPL-2.0
/* The JSON report; schema in docs/json-report.md. */
#include <stdlib.h>
#include <string.h>
#include "output/render.h"

void json_str(FILE *f, const char *s)
{
	if (!s) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_frame(FILE *f, const struct lt_frame *fr)
{
	fputs("{\"function\": ", f);
	json_str(f, fr->function);
	fputs(", \"module\": ", f);
	json_str(f, fr->module);
	fprintf(f, ", \"address\": \"0x%lx\", \"offset\": \"0x%lx\"", fr->address, fr->offset);
	if (fr->file) {
		fputs(", \"file\": ", f);
		json_str(f, fr->file);
		fprintf(f, ", \"line\": %d", fr->line);
	}
	fputs("}", f);
}

/* "lost_events": N, "lost": {reason: n, ...} */
static void json_lost(FILE *f, const struct lt_lost_counts *l)
{
	fprintf(f, "    \"lost_events\": %lu,\n    \"lost\": {", lost_total(l));
	for (int i = 0; i < l->n; i++)
		fprintf(f, "%s\"%s\": %lu", i ? ", " : "", l->names[i], l->v[i]);
	fputs("},\n", f);
}

/* "key": [item, ...] over n items of size bytes each, then sep. */
static void json_list(FILE *f, const char *key, const void *items, int n, size_t size,
		      void (*item)(FILE *, const void *), const char *sep)
{
	fprintf(f, "    \"%s\": [", key);
	for (int i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", f);
		item(f, (const char *)items + i * size);
	}
	fprintf(f, "\n    ]%s", sep);
}

/* "leak": true|false, "why": "..." */
static void json_verdict(FILE *f, const struct lt_group *g)
{
	fprintf(f, "\"leak\": %s, \"why\": ", g->leak ? "true" : "false");
	json_str(f, g->why);
}

static void json_frames(FILE *f, const char *key, const struct lt_stack *st)
{
	fprintf(f, "\"%s\": [", key);
	for (int i = 0; i < st->nframes; i++) {
		fputs(i ? ",\n         " : "\n         ", f);
		json_frame(f, &st->frames[i]);
	}
	fputs("]", f);
}

/* The verdict, then the group's own stack on the next line. */
static void json_verdict_frames(FILE *f, const struct lt_group *g)
{
	json_verdict(f, g);
	fputs(",\n       ", f);
	json_frames(f, "frames", g->stack);
}

static void json_site(FILE *f, const void *item)
{
	const struct lt_group *g = item;

	fprintf(f, "      {\"bytes\": %ld, \"allocations\": %ld, \"oldest_age_s\": %.3f, ",
		g->bytes, g->count, g->oldest_age_s);
	if (g->samples)
		fprintf(f, "\"samples\": %ld, \"error\": %.4f, ", g->samples, sample_error(g));
	json_verdict_frames(f, g);
	fputs("}", f);
}

static void json_thread_group(FILE *f, const void *item)
{
	const struct lt_group *g = item;

	fprintf(f, "      {\"kind\": \"%s\", \"count\": %ld, \"oldest_age_s\": %.3f, ",
		group_kind_name(g->kind), g->count, g->oldest_age_s);
	if (g->kind == LT_G_UNJOINED)
		fprintf(f, "\"pinned_bytes\": %ld, ", g->bytes);
	if (g->wait) {
		fputs("\"wait\": ", f);
		json_str(f, g->wait);
		fputs(", ", f);
	}
	json_verdict_frames(f, g);
	fputs(",\n       ", f);
	json_frames(f, "created_by", g->created_by);
	fputs("}", f);
}

static void json_site_count(FILE *f, const void *item)
{
	const struct lt_site_count *r = item;

	fprintf(f, "      {\"live\": %ld, \"unjoined\": %ld, \"change\": %ld, \"growing\": %s,\n       ",
		r->live, r->unjoined, r->change, r->growing ? "true" : "false");
	json_frames(f, "created_by", r->created_by);
	fputs("}", f);
}

static void json_threads(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"threads\": {\n    \"live\": %d,\n    \"min_block_s\": %.3f,\n",
		s->live_threads, s->min_block_s);
	json_lost(f, &s->tlost);
	json_list(f, "groups", s->tgroups, s->ntgroups, sizeof(*s->tgroups), json_thread_group,
		  ",\n");
	json_list(f, "sites", s->sites, s->nsites, sizeof(*s->sites), json_site_count, "\n  }");
}

static void json_goroutine_group(FILE *f, const void *item)
{
	const struct lt_group *g = item;

	fputs("      {\"wait_reason\": ", f);
	json_str(f, g->wait);
	fprintf(f, ", \"count\": %ld, \"oldest_age_s\": %.3f, ", g->count, g->oldest_age_s);
	json_verdict_frames(f, g);
	fputs(",\n       ", f);
	json_frames(f, "created_by", g->created_by);
	fputs("}", f);
}

static void json_goroutines(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"goroutines\": {\n    \"total\": %d,\n    \"go_version\": ",
		s->goroutines);
	json_str(f, s->go_version);
	fprintf(f, ",\n    \"min_block_s\": %.3f,\n", s->min_block_s);
	json_lost(f, &s->glost);
	json_list(f, "groups", s->ggroups, s->nggroups, sizeof(*s->ggroups), json_goroutine_group,
		  "\n  }");
}

static void json_heap_site(FILE *f, const void *item)
{
	const struct lt_group *g = item;

	fprintf(f, "      {\"inuse_bytes\": %ld, \"inuse_objects\": %ld, ", g->bytes, g->count);
	fprintf(f, "\"pending_bytes\": %ld, \"pending_objects\": %ld, ", g->pending_bytes,
		g->pending_count);
	json_verdict_frames(f, g);
	fputs("}", f);
}

static void json_goheap(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"go_heap\": {\n    \"sample_rate_bytes\": %ld,\n", s->goheap_rate);
	fprintf(f, "    \"gc_cycles\": %ld,\n", s->goheap_cycles);
	json_lost(f, &s->hlost);
	json_list(f, "sites", s->hsites, s->nhsites, sizeof(*s->hsites), json_heap_site, "\n  }");
}

static void json_fd_group(FILE *f, const void *item)
{
	const struct lt_group *g = item;

	fputs("      {\"kind\": ", f);
	json_str(f, g->fd_kind);
	fputs(", \"protocol\": ", f);
	json_str(f, g->fd_proto);
	fprintf(f, ", \"count\": %ld, \"oldest_age_s\": %.3f, ", g->count, g->oldest_age_s);
	json_verdict_frames(f, g);
	fputs(",\n       \"targets\": [", f);
	for (const char *t = g->targets; t && *t;) {
		size_t n = strcspn(t, "\n");
		char *one = strndup(t, n);

		if (t != g->targets)
			fputs(", ", f);
		json_str(f, one);
		free(one);
		t += n + (t[n] == '\n');
	}
	fputs("]}", f);
}

static void json_fds(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"fds\": {\n    \"open\": %d,\n", s->fds_open);
	json_lost(f, &s->flost);
	json_list(f, "groups", s->fgroups, s->nfgroups, sizeof(*s->fgroups), json_fd_group,
		  "\n  }");
}

static void json_kernel_site(FILE *f, const void *item)
{
	const struct lt_group *g = item;

	fprintf(f, "      {\"bytes\": %ld, \"allocations\": %ld, \"oldest_age_s\": %.3f, ",
		g->bytes, g->count, g->oldest_age_s);
	fprintf(f, "\"pid\": %d, \"comm\": ", g->pid);
	json_str(f, g->comm);
	fputs(", ", f);
	json_verdict_frames(f, g);
	fputs("}", f);
}

static void json_kernel(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"kernel\": {\n    \"outstanding_bytes\": %ld,\n", s->kbytes);
	fprintf(f, "    \"outstanding_allocations\": %ld,\n", s->kcount);
	json_lost(f, &s->klost);
	json_list(f, "sites", s->kgroups, s->nkgroups, sizeof(*s->kgroups), json_kernel_site,
		  "\n  }");
}

/* --production: what the probes took (docs/json-report.md). */
static void json_cost(FILE *f, const struct lt_cost *c, double secs)
{
	fprintf(f, "  \"cost\": {\"probe_hits\": %lu, \"return_hits\": %lu, \"trap_ns\": %.0f, "
		"\"return_trap_ns\": %.0f, \"bpf_ns\": %lu, \"cpu_ns\": %.0f, \"cpu_share\": %.4f},\n",
		c->hits, c->ret_hits, c->trap_ns, c->ret_ns, c->bpf_ns, cost_cpu_ns(c),
		secs > 0 ? cost_cpu_ns(c) / 1e9 / secs : 0);
}

/* "degraded": ["map_elem_iter", ...]: the kernel features it ran without. */

static void json_degraded(FILE *f, const char *list)
{
	const char *p = list;

	fputs("  \"degraded\": [", f);
	while (*p) {
		size_t n = strcspn(p, ",");

		fprintf(f, "%s\"%.*s\"", p == list ? "" : ", ", (int)n, p);
		p += n + (p[n] == ',');
	}
	fputs("],\n", f);
}

void render_json(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, "{\n  \"schema\": 1,\n  \"tool\": \"leaktop %s\",\n", LEAKTOP_VERSION);
	if (s->degraded)
		json_degraded(f, s->degraded);
	fprintf(f, "  \"pid\": %d,\n  \"comm\": ", s->pid);
	json_str(f, s->comm);
	fputs(",\n  \"exe\": ", f);
	json_str(f, s->exe);
	fprintf(f, ",\n  \"duration_s\": %.3f,\n  \"target_exited\": %s,\n", s->duration_s,
		s->exited ? "true" : "false");
	if (s->cost.known)
		json_cost(f, &s->cost, s->duration_s);
	fputs("  \"memory\": {\n    \"allocator\": ", f);
	json_str(f, s->allocator);
	fprintf(f, ",\n    \"min_age_s\": %.3f,\n    \"sample_bytes\": %ld,\n", s->min_age_s,
		s->sample_bytes);
	fprintf(f, "    \"outstanding_bytes\": %ld,\n    \"outstanding_allocations\": %ld,\n",
		s->bytes, s->count);
	json_lost(f, &s->lost);
	json_list(f, "sites", s->groups, s->ngroups, sizeof(*s->groups), json_site, "\n  }");
	if (s->has_threads)
		json_threads(f, s);
	if (s->has_goroutines)
		json_goroutines(f, s);
	if (s->has_goheap)
		json_goheap(f, s);
	if (s->has_fds)
		json_fds(f, s);
	if (s->has_kernel)
		json_kernel(f, s);
	fputs("\n}\n", f);
	fflush(f);
}
