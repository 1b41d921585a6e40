/*
 * pipeline/log.h — the worker log: ARCHIVE/log/worker-<host>.log, one file
 * per host.
 *
 * Every line is "YYYY-MM-DDTHH:MM:SS key=value ...", written with one
 * write(2) on an O_APPEND descriptor, so the lines of the processes of one
 * host never interleave. O_APPEND is not atomic across the clients of a
 * network filesystem (each NFS client computes the end of file itself), so
 * hosts never share a file: each writes its own, and readers (`bunko
 * status`) read every log/worker*.log.
 *
 * The file is the archive owner's alone (mode 0600): its reasons name the
 * files and pages of documents of every access level.
 *
 * Lines the pipeline writes (the first key says what it is):
 *   job=ID page=N/M seconds=S result=ok|error worker=H.P   a source page
 *   job=ID pages=N documentpages=N seconds=S result=done worker=H.P
 *   job=ID result=failed|lost worker=H.P [reason=...]
 *   worker=H.P result=error reason=...         a worker could not start or
 *                                              go on (logged in the
 *                                              supervisor's log when its own
 *                                              is not open yet)
 *   worker=H.P job=ID result=error reason=heartbeat: ...
 *                                              a lease it could not renew
 * (`bunko status` shows the latest worker=... result=error lines.)
 *   event=crash worker=H.P reason=...          a worker process died
 *   event=restart worker=H.P new=H.P           ... and was replaced
 *   event=recover job=ID tries=N from=H.P to=incoming|failed worker=H.P
 *                                              a dead worker's claim taken back
 */
#ifndef BUNKO_PIPELINE_LOG_H
#define BUNKO_PIPELINE_LOG_H

#include "bunko/common.h"

/* Opens ARCHIVE/log/worker-<host>.log for appending (creating log/);
 * returns the descriptor, or -1 with err set. */
int bk_log_open(const char *archive, const char *host, struct bk_error *err);

/* Appends one line "YYYY-MM-DDTHH:MM:SS <text>\n" with one write(2).
 * Newlines in the text become spaces. fd < 0: nothing is written. The log
 * is advisory: a failed write is ignored. */
void bk_log_line(int fd, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;

#endif
