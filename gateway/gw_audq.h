/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The daemon's own audit events (alerts, refusals, reloads), written by a
 * short-lived process of their own, so that mspgated's main loop never
 * waits on the disk: on a disk busy with recordings, one fdatasync can
 * take seconds, and the loop is what answers mspgatectl kill, takes
 * reloads and starts sessions.
 */
#ifndef GW_AUDQ_H
#define GW_AUDQ_H

#include <stddef.h>
#include <sys/types.h>

#include "rec_audit.h"

/* Events held at most; one more is refused (and logged). */
#define GW_AUDQ_MAX 4096
/* Events one writer process takes (its exit status counts them). */
#define GW_AUDQ_BATCH 200

struct gw_audq;

struct gw_audq *gw_audq_new(void);
void gw_audq_free(struct gw_audq *q);

/*
 * Queues a copy of ev, stamped with the time now when ev->time is 0 (the
 * time it happened, not the time it reached the disk). no_syslog: the
 * caller logs it. 0, or MG_ERR_NOMEM / MG_ERR_BUSY (full: logged, lost).
 */
int gw_audq_add(struct gw_audq *q, const struct rec_audit_event *ev, int no_syslog);

/* Events queued (a running writer's batch included). */
size_t gw_audq_len(const struct gw_audq *q);

/*
 * Starts a writer process for the queued events, unless one runs or none
 * is queued. In the new process, before it writes, child_init(arg) runs
 * (the daemon closes what the writer must not hold open). Returns the
 * writer's pid, 0 when none was started, -1 when fork failed (logged; the
 * events stay queued).
 */
pid_t gw_audq_kick(struct gw_audq *q, const char *path, const char *keyfile,
    void (*child_init)(void *), void *arg);

/*
 * A process ended: 1 when it was the writer. Its written events leave the
 * queue; those it could not write stay for the next writer.
 */
int gw_audq_reaped(struct gw_audq *q, pid_t pid, int status);

/*
 * At shutdown: waits for a running writer, then writes what is left from
 * this process. Returns the number of events that could not be written.
 */
size_t gw_audq_drain(struct gw_audq *q, const char *path, const char *keyfile);

#endif
