/* SPDX-License-Identifier: GPL-2.0 */
/*
 * leaktop top: the live full-screen view (ncurses). The session hands it
 * each second's snapshots (screen_update) and the keys waiting on stdin
 * (screen_input); it keeps rows of its own (screen/rows.h), so redrawing
 * after a key or a resize needs no new snapshot.
 */
#ifndef LEAKTOP_SCREEN_H
#define LEAKTOP_SCREEN_H

#include <stdbool.h>
#include "cli/options.h"
#include "model/snapshot.h"

struct screen;

/* 0 when stdin and stdout are a terminal; -ENOTTY after a one-line message. */
int screen_check_tty(void);
/* Take the terminal; NULL after a one-line message. */
struct screen *screen_new(const struct options *o);
void screen_update(struct screen *sc, const struct lt_snapshot *snaps, int n);
/* Read the keys waiting (and a resize); false when the user quit. */
bool screen_input(struct screen *sc);
/* Give the terminal back as it was. */
void screen_free(struct screen *sc);

#endif
