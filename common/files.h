/* Files simrun creates as root in directories a user names: created fresh
 * (O_EXCL), never through a symbolic link (O_NOFOLLOW), every write
 * checked, a full disk told apart from other failures (SR_ENOSPC). */
#ifndef SR_FILES_H
#define SR_FILES_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* Makes 'path' (and missing parents, mode 0755) a fresh directory for a
 * run: created now, or already there as a real directory (not a symbolic
 * link) that belongs to us, is not writable by others, and is empty.
 * Anything else is refused with a message saying why. */
int sr_dir_fresh(const char *path, struct sr_error *err);
/* The same, but the directory may hold files already (a campaign's, to
 * which runs are added). */
int sr_dir_ours(const char *path, struct sr_error *err);

/* Creates 'path' (which must not exist) with 'mode' and writes 'n' bytes
 * of 'data', checking every write and the close. */
int sr_file_new(const char *path, const void *data, size_t n, mode_t mode, struct sr_error *err);

/* Opens 'path', which must not exist, for writing as a stdio stream
 * (mode 0644).  With 'replace', an existing regular file of ours is
 * unlinked first (a temporary file a failed write left). */
FILE *sr_fopen_new(const char *path, bool replace, struct sr_error *err);

/* Whether the file at 'path' is a regular file of ours, not writable by
 * others, holding exactly 'n' bytes of 'data': checked just before simrun
 * runs a script it wrote, so it runs nothing else.  0 or a negative code
 * saying what differs. */
int sr_file_verify(const char *path, const void *data, size_t n, struct sr_error *err);

/* The error code for a failed write: SR_ENOSPC for a full disk (ENOSPC,
 * EDQUOT), SR_EIO otherwise. */
int sr_write_code(int errnum);

/* Flushes and closes 'f' (accepts NULL); on failure fills 'err' naming
 * 'what' and returns a negative code.  The stream is closed in any case. */
int sr_fclose_checked(FILE *f, const char *what, struct sr_error *err);

#endif
