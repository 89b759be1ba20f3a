/*
 * lab-relay: carries the gmem-helper protocol over one line channel (the lab VM's console to the host), and
 * adds the out-of-band actions a process on the host would do with signals. Runs inside the lab VM as the
 * program the lab starts; the lab backend (src/backend/lab/) talks to it. See native/PROTOCOL.md, "The lab
 * transport".
 *
 *   lab-relay [--preload SHIM.so] HELPER
 *
 * Host -> relay: lines for the helper, forwarded to its stdin unchanged, except
 *   ~interrupt      SIGUSR1 to the helper server (the protocol's interrupt)
 * (To end everything at once, the host kills the VM.)
 * Relay -> host: the helper's stdout lines unchanged, and lines of its own that start with '~':
 *   ~relay release=<uname -r>      once, before the helper starts
 *   ~stderr <line>                 a line the helper wrote to stderr
 *   ~exit exit=<n> | ~exit signal=<n> <NAME>   the helper server ended; the relay exits after it
 * End of the host channel closes the helper's stdin (the helper reaps its children and exits).
 *
 * A tty channel is put in raw mode (no echo, no line editing, no CR/LF translation, no 4 KiB line limit).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* A growable byte buffer. */
struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p) {
			perror("lab-relay: realloc");
			exit(1);
		}
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

/* Everything for the host goes through this buffer, a whole line at a time, so lines never interleave. */
static struct buf to_host, to_helper;
static int host_out = 1;

static void host_line(const char *fmt, ...)
{
	char tmp[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(tmp) - 2)
		n = sizeof(tmp) - 2;
	tmp[n++] = '\n';
	buf_add(&to_host, tmp, (size_t)n);
}

/* Write what can be written without blocking; returns -1 when the fd is gone. */
static int flush(int fd, struct buf *b)
{
	while (b->len) {
		ssize_t w = write(fd, b->p, b->len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -1;
		}
		buf_drop(b, (size_t)w);
	}
	return 0;
}

static void set_raw(int fd)
{
	struct termios t;
	if (!isatty(fd) || tcgetattr(fd, &t) < 0)
		return;
	cfmakeraw(&t);
	tcsetattr(fd, TCSANOW, &t);
}

static void nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int main(int argc, char **argv)
{
	const char *preload = NULL;
	int a = 1;
	if (a + 1 < argc && strcmp(argv[a], "--preload") == 0) {
		preload = argv[a + 1];
		a += 2;
	}
	if (a + 1 != argc) {
		fprintf(stderr, "usage: %s [--preload SHIM.so] HELPER\n", argv[0]);
		return 2;
	}
	const char *helper = argv[a];
	signal(SIGPIPE, SIG_IGN);
	set_raw(0);
	set_raw(1);

	struct utsname u;
	if (uname(&u) == 0)
		host_line("~relay release=%s", u.release);
	else
		host_line("~relay release=unknown");

	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		host_line("~exit relay-failed pipe: %s", strerror(errno));
		flush(host_out, &to_host);
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		host_line("~exit relay-failed fork: %s", strerror(errno));
		flush(host_out, &to_host);
		return 1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (preload)
			setenv("LD_PRELOAD", preload, 1);
		execl(helper, helper, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", helper, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	int helper_in = in[1], helper_out = out[0], helper_err = err[0];
	nonblock(helper_in);
	nonblock(host_out);
	int host_in_open = 1, close_helper_in = 0;
	struct buf from_host = { 0 }, from_out = { 0 }, from_err = { 0 };
	char chunk[65536];

	while (helper_out >= 0 || helper_err >= 0) {
		struct pollfd p[5];
		int n = 0, i_host = -1, i_out = -1, i_err = -1;
		if (host_in_open) {
			p[n] = (struct pollfd){ .fd = 0, .events = POLLIN };
			i_host = n++;
		}
		if (helper_out >= 0) {
			p[n] = (struct pollfd){ .fd = helper_out, .events = POLLIN };
			i_out = n++;
		}
		if (helper_err >= 0) {
			p[n] = (struct pollfd){ .fd = helper_err, .events = POLLIN };
			i_err = n++;
		}
		if (helper_in >= 0 && to_helper.len) {
			p[n++] = (struct pollfd){ .fd = helper_in, .events = POLLOUT };
		}
		if (to_host.len) {
			p[n++] = (struct pollfd){ .fd = host_out, .events = POLLOUT };
		}
		if (poll(p, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (i_host >= 0 && p[i_host].revents) {
			ssize_t r = read(0, chunk, sizeof(chunk));
			if (r <= 0 && !(r < 0 && (errno == EINTR || errno == EAGAIN))) {
				host_in_open = 0;
				close_helper_in = 1;
			} else if (r > 0) {
				buf_add(&from_host, chunk, (size_t)r);
				char *nl;
				while ((nl = memchr(from_host.p, '\n', from_host.len))) {
					size_t len = (size_t)(nl - from_host.p) + 1;
					size_t body = len - 1;
					if (body && from_host.p[body - 1] == '\r')
						body--;
					if (body == 10 && memcmp(from_host.p, "~interrupt", 10) == 0)
						kill(pid, SIGUSR1);
					else {
						buf_add(&to_helper, from_host.p, body);
						buf_add(&to_helper, "\n", 1);
					}
					buf_drop(&from_host, len);
				}
			}
		}
		if (i_out >= 0 && p[i_out].revents) {
			ssize_t r = read(helper_out, chunk, sizeof(chunk));
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(helper_out);
				helper_out = -1;
			} else if (r > 0) {
				buf_add(&from_out, chunk, (size_t)r);
				char *last = memrchr(from_out.p, '\n', from_out.len);
				if (last) {
					size_t len = (size_t)(last - from_out.p) + 1;
					buf_add(&to_host, from_out.p, len);
					buf_drop(&from_out, len);
				}
			}
		}
		if (i_err >= 0 && p[i_err].revents) {
			ssize_t r = read(helper_err, chunk, sizeof(chunk));
			if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
				close(helper_err);
				helper_err = -1;
			} else if (r > 0) {
				buf_add(&from_err, chunk, (size_t)r);
				char *nl;
				while ((nl = memchr(from_err.p, '\n', from_err.len))) {
					size_t len = (size_t)(nl - from_err.p);
					host_line("~stderr %.*s", (int)len, from_err.p);
					buf_drop(&from_err, len + 1);
				}
			}
		}
		if (helper_in >= 0 && flush(helper_in, &to_helper) < 0) {
			close(helper_in);
			helper_in = -1;
		}
		if (helper_in >= 0 && close_helper_in && !to_helper.len) {
			close(helper_in);
			helper_in = -1;
		}
		if (flush(host_out, &to_host) < 0)
			break; /* the host is gone: nothing to report to */
	}
	if (from_out.len) {
		/* an unterminated last line: pass it on as a line (the backend will call it garbage) */
		buf_add(&to_host, from_out.p, from_out.len);
		buf_add(&to_host, "\n", 1);
	}
	if (from_err.len)
		host_line("~stderr %.*s", (int)from_err.len, from_err.p);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		host_line("~exit signal=%d SIG%s", WTERMSIG(status), sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
	else
		host_line("~exit exit=%d", WEXITSTATUS(status));
	int fl = fcntl(host_out, F_GETFL);
	fcntl(host_out, F_SETFL, fl & ~O_NONBLOCK);
	flush(host_out, &to_host);
	return 0;
}
