/* Unit tests of the pieces of a run on a lab server that need no server:
 * the ssh:// address, the shell quoting of every word simrun sends (checked
 * by a real /bin/sh printing the word back), and the errors of a
 * connection that cannot be made.  The SSH session itself is tested
 * against Debian's sshd in integration_remote. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proc.h"
#include "ssh.h"
#include "util.h"

static void
test_url_accepts(void **state)
{
    struct sr_ssh_target t;
    struct sr_error err = { 0 };

    (void) state;
    assert_int_equal(sr_ssh_url_parse("ssh://root@lab.example", &t, &err), 0);
    assert_string_equal(t.user, "root");
    assert_string_equal(t.host, "lab.example");
    assert_int_equal(t.port, 22);
    assert_int_equal(sr_ssh_url_parse("ssh://ann.b_c-d@10.0.0.7:2222/", &t, &err), 0);
    assert_string_equal(t.user, "ann.b_c-d");
    assert_string_equal(t.host, "10.0.0.7");
    assert_int_equal(t.port, 2222);
    assert_int_equal(sr_ssh_url_parse("ssh://root@[fe80::1%eth0]:65535", &t, &err), 0);
    assert_string_equal(t.host, "fe80::1%eth0");
    assert_int_equal(t.port, 65535);
}

static void
test_url_refuses(void **state)
{
    static const struct { const char *url, *why; } bad[] = {
        { "root@lab", "is written ssh://" },
        { "http://root@lab", "is written ssh://" },
        { "ssh://lab", "names no user" },
        { "ssh://@lab", "not a plain user name" },
        { "ssh://-oProxyCommand=x@lab", "not a plain user name" },
        { "ssh://ro ot@lab", "not a plain user name" },
        { "ssh://root@", "not a host name" },
        { "ssh://root@-lab", "not a host name" },
        { "ssh://root@lab;reboot", "not a host name" },
        { "ssh://root@lab$(id)", "not a host name" },
        { "ssh://root@lab:0", "not a number from 1 to 65535" },
        { "ssh://root@lab:65536", "not a number from 1 to 65535" },
        { "ssh://root@lab:22x", "not a number from 1 to 65535" },
        { "ssh://root@lab:", "not a number from 1 to 65535" },
        { "ssh://root@lab/path", "something after its host" },
        { "ssh://root@[::1", "unclosed '['" },
        { "ssh://root@[lab.example]", "not an IPv6 address" },
    };

    (void) state;
    for (size_t i = 0; i < SR_ARRAY_SIZE(bad); i++) {
        struct sr_ssh_target t;
        struct sr_error err = { 0 };

        if (sr_ssh_url_parse(bad[i].url, &t, &err) >= 0 || !strstr(err.msg, bad[i].why)) {
            fail_msg("'%s': want an error with '%s', got '%s'", bad[i].url, bad[i].why,
                     err.msg);
        }
    }
}

/* What /bin/sh makes of "printf %s QUOTED". */
static char *
shell_echo(const char *word)
{
    struct sr_buf cmd = SR_BUF_INIT, out = SR_BUF_INIT;
    struct sr_error err = { 0 };
    const char *argv[] = { "/bin/sh", "-c", NULL, NULL };

    sr_buf_puts(&cmd, "printf %s ");
    ssh_quote(&cmd, word);
    argv[2] = sr_buf_cstr(&cmd);
    assert_int_equal(sr_run(argv, 10000, &out, &err), 0);
    sr_buf_release(&cmd);
    return sr_buf_steal(&out);
}

static void
test_quote_survives_a_shell(void **state)
{
    static const char *const words[] = {
        "plain", "", "two words", "it's", "''", "'\\''", "$(id)", "`id`", "$HOME", "a;b&c|d",
        "back\\slash", "new\nline", "tab\there", "*?[x]", "~root", "\"dq\"", "-n", "!x",
        "/root/.simrun/runs/video_drop-7-20261207T081154Z-24618/net.py",
    };

    (void) state;
    for (size_t i = 0; i < SR_ARRAY_SIZE(words); i++) {
        char *back = shell_echo(words[i]);

        if (strcmp(back, words[i])) {
            fail_msg("'%s' came back from the shell as '%s'", words[i], back);
        }
        free(back);
    }
}

static void
test_open_refused_port(void **state)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sr_ssh_target t = { .user = "root", .host = "127.0.0.1" };
    struct ssh_auth auth = { .timeout_s = 5 };
    struct sr_error err = { 0 };

    (void) state;
    /* A port nobody listens on: bound, then closed. */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    close(fd);
    t.port = ntohs(a.sin_port);
    assert_null(ssh_open(&t, &auth, &err));
    assert_non_null(strstr(err.msg, "cannot connect to the lab server 127.0.0.1 port"));
    assert_non_null(strstr(err.msg, "refused"));
}

static void
test_open_not_ssh(void **state)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), peer;
    struct sr_ssh_target t = { .user = "root", .host = "127.0.0.1" };
    struct ssh_auth auth = { .timeout_s = 3 };
    struct sr_error err = { 0 };
    pid_t child;

    (void) state;
    /* A server that greets with something other than SSH and hangs up. */
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
    t.port = ntohs(a.sin_port);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        peer = accept(fd, NULL, NULL);
        if (peer >= 0 && write(peer, "HTTP/1.0 400 Bad\r\n\r\n", 20) < 0) {
            _exit(1);
        }
        _exit(0);
    }
    close(fd);
    assert_null(ssh_open(&t, &auth, &err));
    assert_non_null(strstr(err.msg, "the SSH handshake with root@127.0.0.1:"));
    sr_proc_wait(child, 5000, NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_accepts),
        cmocka_unit_test(test_url_refuses),
        cmocka_unit_test(test_quote_survives_a_shell),
        cmocka_unit_test(test_open_refused_port),
        cmocka_unit_test(test_open_not_ssh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
