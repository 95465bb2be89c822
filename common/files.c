#include "files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

int
sr_write_code(int errnum)
{
    return errnum == ENOSPC || errnum == EDQUOT ? SR_ENOSPC : SR_EIO;
}

static int
write_error(struct sr_error *err, const char *path, int errnum)
{
    int code = sr_write_code(errnum);

    return sr_error_set(err, code, "cannot write '%s': %s%s", path, strerror(errnum),
                        code == SR_ENOSPC ? " (the disk is full)" : "");
}

static bool
dir_is_empty(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    bool empty = true;

    if (!d) {
        return false;
    }
    while (empty && (e = readdir(d))) {
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    }
    closedir(d);
    return empty;
}

/* sr_dir_fresh and sr_dir_ours: 'fresh' also wants it empty. */
static int
dir_make(const char *path, bool fresh, struct sr_error *err)
{
    char *copy = xstrdup(path);
    struct stat st;
    int rc = 0;

    /* Parents: created when missing, followed when they exist (a user may
     * keep runs on a linked disk); only the run directory itself must be
     * fresh. */
    for (char *p = copy + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
                rc = sr_error_set(err, errno == EACCES ? SR_EPERM : SR_EIO,
                                  "cannot create '%s': %s", copy, strerror(errno));
                goto out;
            }
            *p = '/';
        }
    }
    if (mkdir(path, 0755) == 0) {
        /* The umask may have taken bits away; others must not write here. */
        if (chmod(path, 0755) < 0) {
            rc = sr_error_set(err, SR_EIO, "cannot set the mode of '%s': %s", path,
                              strerror(errno));
        }
        goto out;
    }
    if (errno != EEXIST) {
        rc = sr_error_set(err, errno == EACCES ? SR_EPERM : sr_write_code(errno),
                          "cannot create '%s': %s", path, strerror(errno));
        goto out;
    }
    if (lstat(path, &st) < 0) {
        rc = sr_error_set(err, SR_EIO, "cannot look at '%s': %s", path, strerror(errno));
    } else if (S_ISLNK(st.st_mode)) {
        rc = sr_error_set(err, SR_EPERM, "the run directory '%s' is a symbolic link: give a "
                          "new directory", path);
    } else if (!S_ISDIR(st.st_mode)) {
        rc = sr_error_set(err, SR_EINVAL, "'%s' exists and is not a directory", path);
    } else if (st.st_uid != geteuid()) {
        rc = sr_error_set(err, SR_EPERM, "the run directory '%s' belongs to another user "
                          "(uid %u): give a new directory", path, (unsigned) st.st_uid);
    } else if (st.st_mode & 022) {
        rc = sr_error_set(err, SR_EPERM, "the run directory '%s' is writable by others "
                          "(mode %04o): give a new directory", path,
                          (unsigned) (st.st_mode & 07777));
    } else if (fresh && !dir_is_empty(path)) {
        rc = sr_error_set(err, SR_EBUSY, "the run directory '%s' is not empty: give a new "
                          "directory (simrun never writes over a run)", path);
    }

out:
    free(copy);
    return rc;
}

int
sr_dir_fresh(const char *path, struct sr_error *err)
{
    return dir_make(path, true, err);
}

int
sr_dir_ours(const char *path, struct sr_error *err)
{
    return dir_make(path, false, err);
}

static int
open_new(const char *path, mode_t mode, struct sr_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);

    if (fd < 0) {
        if (errno == EEXIST || errno == ELOOP) {
            sr_error_set(err, SR_EBUSY, "cannot create '%s': it exists already", path);
        } else {
            write_error(err, path, errno);
        }
    }
    return fd;
}

int
sr_file_new(const char *path, const void *data, size_t n, mode_t mode, struct sr_error *err)
{
    int fd = open_new(path, mode, err);
    const char *p = data;

    if (fd < 0) {
        return -err->code;
    }
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;

            close(fd);
            return write_error(err, path, e);
        }
        p += w;
        n -= (size_t) w;
    }
    if (close(fd) < 0) {
        return write_error(err, path, errno);
    }
    return 0;
}

FILE *
sr_fopen_new(const char *path, bool replace, struct sr_error *err)
{
    struct stat st;
    FILE *f;
    int fd;

    if (replace && lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid()) {
        unlink(path);
    }
    fd = open_new(path, 0644, err);
    if (fd < 0) {
        return NULL;
    }
    f = fdopen(fd, "w");
    if (!f) {
        write_error(err, path, errno);
        close(fd);
    }
    return f;
}

int
sr_file_verify(const char *path, const void *data, size_t n, struct sr_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    size_t got = 0;
    int rc = 0;

    if (fd < 0 || fstat(fd, &st) < 0) {
        rc = sr_error_set(err, SR_EPERM, "refusing to run '%s': cannot open it (%s)", path,
                          strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022) ||
        (size_t) st.st_size != n) {
        rc = sr_error_set(err, SR_EPERM, "refusing to run '%s': it is not the file simrun "
                          "wrote (changed since, or replaced)", path);
        goto out;
    }
    buf = xmalloc(n + 1);
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);

        if (r <= 0) {
            break;
        }
        got += (size_t) r;
    }
    if (got != n || memcmp(buf, data, n) != 0) {
        rc = sr_error_set(err, SR_EPERM, "refusing to run '%s': its contents changed after "
                          "simrun wrote it", path);
    }

out:
    free(buf);
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

int
sr_fclose_checked(FILE *f, const char *what, struct sr_error *err)
{
    int e = 0;

    if (!f) {
        return 0;
    }
    if (fflush(f) != 0 || ferror(f)) {
        e = errno ? errno : EIO;
    }
    if (fclose(f) != 0 && !e) {
        e = errno ? errno : EIO;
    }
    return e ? write_error(err, what, e) : 0;
}
