// SPDX-License-Identifier: GPL-2.0
/* The JSON report; schema in docs/json-report.md. */
#include "render.h"

static void json_str(FILE *f, const char *s)
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

static void json_frames(FILE *f, const char *key, const struct lt_stack *st)
{
	fprintf(f, "\"%s\": [", key);
	for (int i = 0; i < st->nframes; i++) {
		fputs(i ? ",\n         " : "\n         ", f);
		json_frame(f, &st->frames[i]);
	}
	fputs("]", f);
}

static void json_site(FILE *f, const struct lt_group *g)
{
	fprintf(f, "      {\"bytes\": %ld, \"allocations\": %ld, \"oldest_age_s\": %.3f,\n       ",
		g->bytes, g->count, g->oldest_age_s);
	json_frames(f, "frames", g->stack);
	fputs("}", f);
}

static void json_thread_group(FILE *f, const struct lt_group *g)
{
	fprintf(f, "      {\"kind\": \"%s\", \"count\": %ld, \"oldest_age_s\": %.3f, ",
		group_kind_name(g->kind), g->count, g->oldest_age_s);
	if (g->kind == LT_G_UNJOINED)
		fprintf(f, "\"pinned_bytes\": %ld, ", g->bytes);
	if (g->wait) {
		fputs("\"wait\": ", f);
		json_str(f, g->wait);
		fputs(", ", f);
	}
	fprintf(f, "\"leak\": %s, \"why\": ", g->leak ? "true" : "false");
	json_str(f, g->why);
	fputs(",\n       ", f);
	json_frames(f, "frames", g->stack);
	fputs(",\n       ", f);
	json_frames(f, "created_by", g->created_by);
	fputs("}", f);
}

static void json_site_count(FILE *f, const struct lt_site_count *r)
{
	fprintf(f, "      {\"live\": %ld, \"unjoined\": %ld, \"change\": %ld, \"growing\": %s,\n       ",
		r->live, r->unjoined, r->change, r->growing ? "true" : "false");
	json_frames(f, "created_by", r->created_by);
	fputs("}", f);
}

static void json_threads(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"threads\": {\n    \"live\": %d,\n    \"min_block_s\": %.3f,\n",
		s->live_threads, s->min_block_s);
	fprintf(f, "    \"lost_events\": %lu,\n    \"lost\": {", snapshot_tlost_total(s));
	for (int i = 0; i < LT_TLOST_MAX; i++)
		fprintf(f, "%s\"%s\": %lu", i ? ", " : "", snapshot_tlost_name(i), s->tlost[i]);
	fputs("},\n    \"groups\": [", f);
	for (int i = 0; i < s->ntgroups; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_thread_group(f, &s->tgroups[i]);
	}
	fputs("\n    ],\n    \"sites\": [", f);
	for (int i = 0; i < s->nsites; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_site_count(f, &s->sites[i]);
	}
	fputs("\n    ]\n  }", f);
}

static void json_goroutine_group(FILE *f, const struct lt_group *g)
{
	fputs("      {\"wait_reason\": ", f);
	json_str(f, g->wait);
	fprintf(f, ", \"count\": %ld, \"oldest_age_s\": %.3f, \"leak\": %s, \"why\": ",
		g->count, g->oldest_age_s, g->leak ? "true" : "false");
	json_str(f, g->why);
	fputs(",\n       ", f);
	json_frames(f, "frames", g->stack);
	fputs(",\n       ", f);
	json_frames(f, "created_by", g->created_by);
	fputs("}", f);
}

static void json_goroutines(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"goroutines\": {\n    \"total\": %d,\n    \"go_version\": ",
		s->goroutines);
	json_str(f, s->go_version);
	fprintf(f, ",\n    \"min_block_s\": %.3f,\n    \"groups\": [", s->min_block_s);
	for (int i = 0; i < s->nggroups; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_goroutine_group(f, &s->ggroups[i]);
	}
	fputs("\n    ]\n  }", f);
}

static void json_goheap(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, ",\n  \"go_heap\": {\n    \"sample_rate_bytes\": %ld,\n    \"sites\": [",
		s->goheap_rate);
	for (int i = 0; i < s->nhsites; i++) {
		const struct lt_group *g = &s->hsites[i];

		fprintf(f, "%s      {\"inuse_bytes\": %ld, \"inuse_objects\": %ld,\n       ",
			i ? ",\n" : "\n", g->bytes, g->count);
		json_frames(f, "frames", g->stack);
		fputs("}", f);
	}
	fputs("\n    ]\n  }", f);
}

void render_json(FILE *f, const struct lt_snapshot *s)
{
	fprintf(f, "{\n  \"schema\": 1,\n  \"tool\": \"leaktop %s\",\n", LEAKTOP_VERSION);
	fprintf(f, "  \"pid\": %d,\n  \"comm\": ", s->pid);
	json_str(f, s->comm);
	fputs(",\n  \"exe\": ", f);
	json_str(f, s->exe);
	fprintf(f, ",\n  \"duration_s\": %.3f,\n  \"target_exited\": %s,\n", s->duration_s,
		s->exited ? "true" : "false");
	fputs("  \"memory\": {\n    \"allocator\": ", f);
	json_str(f, s->allocator);
	fprintf(f, ",\n    \"min_age_s\": %.3f,\n", s->min_age_s);
	fprintf(f, "    \"outstanding_bytes\": %ld,\n    \"outstanding_allocations\": %ld,\n",
		s->bytes, s->count);
	fprintf(f, "    \"lost_events\": %lu,\n    \"lost\": {", snapshot_lost_total(s));
	for (int i = 0; i < LT_LOST_MAX; i++)
		fprintf(f, "%s\"%s\": %lu", i ? ", " : "", snapshot_lost_name(i), s->lost[i]);
	fputs("},\n    \"sites\": [", f);
	for (int i = 0; i < s->ngroups; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_site(f, &s->groups[i]);
	}
	fputs("\n    ]\n  }", f);
	if (s->has_threads)
		json_threads(f, s);
	if (s->has_goroutines)
		json_goroutines(f, s);
	if (s->has_goheap)
		json_goheap(f, s);
	fputs("\n}\n", f);
	fflush(f);
}
