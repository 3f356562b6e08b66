/* SPDX-License-Identifier: BSD-2-Clause */
/* The relay loop: engineer fds <-> libssh channel, every byte recorded first. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libssh/callbacks.h>

#include "gw_msg.h"
#include "gw_relay.h"
#include "mg_err.h"
#include "mg_time.h"
#include "mg_util.h"

#define RELAY_BUF (64 * 1024)
#define POLL_MS 200
#define STOP_GRACE_MS 2000
#define OUT_GONE_GRACE_S 2

static const struct {
	const char *name;
	int sig;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "ABRT", SIGABRT }, { "FPE", SIGFPE }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
};

int
gw_signal_number(const char *name)
{
	size_t i;

	if (name == NULL)
		return 0;
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcmp(name, signames[i].name) == 0)
			return signames[i].sig;
	return 0;
}

static void
on_exit_status(ssh_session s, ssh_channel c, int status, void *ud)
{
	struct gw_relay_result *res = ud;

	(void)s;
	(void)c;
	res->has_status = 1;
	res->exit_status = status;
}

static void
on_exit_signal(ssh_session s, ssh_channel c, const char *sig, int core,
    const char *errmsg, const char *lang, void *ud)
{
	struct gw_relay_result *res = ud;

	(void)s;
	(void)c;
	(void)core;
	(void)errmsg;
	(void)lang;
	res->has_status = 1;
	snprintf(res->signame, sizeof(res->signame), "%s", sig != NULL ? sig : "?");
	/* An unknown name still ends by a signal: report it as KILL would. */
	res->exit_signal = gw_signal_number(sig);
	if (res->exit_signal == 0)
		res->exit_signal = SIGKILL;
}


/*
 * Moves what the channel has buffered to the engineer. Returns 0,
 * 1 when the engineer's side is gone, -1 on a recording error, -2 on a
 * channel error.
 */
static int
drain_channel(struct gw_relay *r, struct gw_relay_result *res, char *buf, int show,
    time_t *last)
{
	int stream, n, moved;

	do {
		moved = 0;
		for (stream = 0; stream < 2; stream++) {
			n = ssh_channel_read_nonblocking(r->channel, buf, RELAY_BUF, stream);
			if (n == SSH_ERROR)
				return ssh_channel_is_closed(r->channel) ? 0 : -2;
			if (n <= 0)
				continue;
			moved = 1;
			*last = mg_clock_now();
			res->bytes_out += (uint64_t)n;
			/* Recorded before shown: what the engineer saw is on file. */
			if (rec_writer_output(r->rec, REC_NOW, buf, (size_t)n) != 0)
				return -1;
			if (r->observe != NULL)
				r->observe(r->observe_ctx, 1, buf, (size_t)n);
			if (show && mg_write_full(stream == 1 && !r->pty ? r->err : r->out,
			    buf, (size_t)n) != 0)
				return 1;
		}
	} while (moved);
	return 0;
}

/*
 * Ends the remote side now: HUP to the command's process group (sshd
 * honours "signal" requests for ordinary sessions), a grace period, then
 * KILL, then the channel is closed. Output in the meantime is recorded.
 */
static void
stop_remote(struct gw_relay *r, struct gw_relay_result *res, char *buf)
{
	int64_t waited = 0;
	time_t last = 0;

	if (ssh_channel_is_closed(r->channel))
		return;
	ssh_channel_request_send_signal(r->channel, "HUP");
	ssh_channel_send_eof(r->channel);
	while (waited < STOP_GRACE_MS && !ssh_channel_is_closed(r->channel) &&
	    !(ssh_channel_is_eof(r->channel) && res->has_status)) {
		if (ssh_channel_poll_timeout(r->channel, 100, 0) == SSH_ERROR)
			break;
		if (buf == NULL || drain_channel(r, res, buf, 0, &last) < 0)
			break;
		waited += 100;
	}
	if (!ssh_channel_is_closed(r->channel) && !res->has_status)
		ssh_channel_request_send_signal(r->channel, "KILL");
	ssh_channel_close(r->channel);
}

static int
handle_ctl(struct gw_relay *r)
{
	struct gw_msg m;
	size_t nfds = 0;
	int fds[1], rc;

	rc = gw_msg_recv(r->ctl, &m, fds, 0, &nfds);
	if (rc == MG_ERR_NOENT || rc == MG_ERR_SYSTEM)
		return 1;	/* mspgate-shell is gone: so is the engineer */
	if (rc != 0)
		return 0;	/* a bad message is ignored, not fatal */
	if (m.type == GW_MSG_RESIZE && r->pty && m.cols > 0 && m.rows > 0 &&
	    m.cols < 10000 && m.rows < 10000) {
		ssh_channel_change_pty_size(r->channel, (int)m.cols, (int)m.rows);
		if (rec_writer_resize(r->rec, REC_NOW, (int)m.cols, (int)m.rows) != 0)
			rc = -1;
	}
	gw_msg_clear(&m);
	return rc < 0 ? -1 : 0;
}

void
gw_relay_exitwatch_start(ssh_channel ch, struct gw_relay_exitwatch *w)
{
	memset(w, 0, sizeof(*w));
	w->cb.userdata = &w->res;
	w->cb.channel_exit_status_function = on_exit_status;
	w->cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&w->cb);
	ssh_set_channel_callbacks(ch, &w->cb);
}

int
gw_relay_run(struct gw_relay *r, struct gw_relay_result *res)
{
	struct ssh_channel_callbacks_struct cb;
	ssh_event ev = NULL;
	char *buf;
	int in_open = 1, rc;
	time_t last, now, last_tick = 0, out_gone = 0;

	memset(res, 0, sizeof(*res));
	res->end = GW_RELAY_NETWORK;
	if ((buf = malloc(RELAY_BUF)) == NULL) {
		snprintf(res->err, sizeof(res->err), "out of memory");
		stop_remote(r, res, NULL);
		return MG_ERR_NOMEM;
	}
	memset(&cb, 0, sizeof(cb));
	cb.userdata = res;
	cb.channel_exit_status_function = on_exit_status;
	cb.channel_exit_signal_function = on_exit_signal;
	ssh_callbacks_init(&cb);
	ssh_set_channel_callbacks(r->channel, &cb);
	/*
	 * Once the remote side has sent EOF, reading the channel no longer
	 * processes packets, so its exit status and close would wait in the
	 * socket for ever: an event context processes whatever arrives.
	 */
	if ((ev = ssh_event_new()) == NULL || ssh_event_add_session(ev, r->session) != SSH_OK) {
		snprintf(res->err, sizeof(res->err), "out of memory");
		ssh_event_free(ev);
		ev = NULL;
		stop_remote(r, res, buf);
		ssh_remove_channel_callbacks(r->channel, &cb);
		free(buf);
		return MG_ERR_NOMEM;
	}
	last = mg_clock_now();

	for (;;) {
		struct pollfd pf[4];
		int npf = 0, i_in = -1, i_ctl, i_out, pr;

		if (ssh_event_dopoll(ev, 0) == SSH_ERROR && !ssh_channel_is_closed(r->channel)) {
			res->end = GW_RELAY_NETWORK;
			snprintf(res->err, sizeof(res->err), "%s", ssh_get_error(r->session));
			break;
		}
		rc = drain_channel(r, res, buf, out_gone == 0, &last);
		if (rc == 1 && r->pty) {
			res->end = GW_RELAY_ENGINEER;
			break;
		} else if (rc == 1) {
			out_gone = mg_clock_now();
		} else if (rc == -1) {
			res->end = GW_RELAY_RECORDING;
			break;
		} else if (rc == -2) {
			res->end = GW_RELAY_NETWORK;
			snprintf(res->err, sizeof(res->err), "%s", ssh_get_error(r->session));
			break;
		}
		if (ssh_channel_is_closed(r->channel) ||
		    (ssh_channel_is_eof(r->channel) && res->has_status)) {
			res->end = GW_RELAY_REMOTE;
			break;
		}
		if (r->stop != NULL && *r->stop) {
			res->end = GW_RELAY_SHUTDOWN;
			break;
		}
		now = mg_clock_now();
		if (out_gone != 0 && now - out_gone >= OUT_GONE_GRACE_S) {
			res->end = GW_RELAY_ENGINEER;
			break;
		}
		if (r->end_by != 0 && now >= r->end_by) {
			res->end = GW_RELAY_TIME;
			break;
		}
		if (r->idle_timeout > 0 && now - last >= r->idle_timeout) {
			res->end = GW_RELAY_IDLE;
			break;
		}
		if (now != last_tick) {
			int t;

			last_tick = now;
			r->bytes_in = res->bytes_in;
			r->bytes_out = res->bytes_out;
			r->last_activity = last;
			if (r->tick != NULL && (t = r->tick(r, now, r->tick_ctx)) != 0) {
				res->end = (enum gw_relay_end)t;
				break;
			}
			if (rec_writer_tick(r->rec) != 0) {
				res->end = GW_RELAY_RECORDING;
				break;
			}
		}


		pf[npf].fd = ssh_get_fd(r->session);
		pf[npf++].events = POLLIN;
		if (in_open) {
			i_in = npf;
			pf[npf].fd = r->in;
			pf[npf++].events = POLLIN;
		}
		i_ctl = npf;
		pf[npf].fd = r->ctl;
		pf[npf++].events = POLLIN;
		/* No events asked: POLLERR/POLLHUP say the reader went away. */
		i_out = npf;
		pf[npf].fd = out_gone ? -1 : r->out;
		pf[npf++].events = 0;
		pr = poll(pf, (nfds_t)npf, POLL_MS);
		if (pr < 0 && errno != EINTR) {
			snprintf(res->err, sizeof(res->err), "poll: %s", strerror(errno));
			res->end = GW_RELAY_NETWORK;
			break;
		}
		if (pr <= 0)
			continue;
		if (pf[i_out].revents & (POLLERR | POLLHUP | POLLNVAL)) {
			if (r->pty) {
				res->end = GW_RELAY_ENGINEER;
				break;
			}
			/*
			 * scp, sftp and rsync close their end once done, before
			 * the exit status arrives: give the remote a moment to
			 * finish (output still recorded), so it can be passed on.
			 */
			if (out_gone == 0)
				out_gone = mg_clock_now();
		}
		if (pf[i_ctl].revents) {
			rc = handle_ctl(r);
			if (rc > 0) {
				res->end = GW_RELAY_ENGINEER;
				break;
			} else if (rc < 0) {
				res->end = GW_RELAY_RECORDING;
				break;
			}
		}
		if (i_in >= 0 && pf[i_in].revents) {
			ssize_t n = read(r->in, buf, RELAY_BUF);

			if (n > 0) {
				last = mg_clock_now();
				res->bytes_in += (uint64_t)n;
				if (rec_writer_input(r->rec, REC_NOW, buf, (size_t)n) != 0) {
					res->end = GW_RELAY_RECORDING;
					break;
				}
				if (r->observe != NULL)
					r->observe(r->observe_ctx, 0, buf, (size_t)n);
				if (ssh_channel_write(r->channel, buf, (uint32_t)n) != n) {
					res->end = GW_RELAY_NETWORK;
					snprintf(res->err, sizeof(res->err), "%s",
					    ssh_get_error(r->session));
					break;
				}
			} else if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
				continue;
			} else if (r->pty) {
				/* EIO or end of file on a terminal: it hung up. */
				res->end = GW_RELAY_ENGINEER;
				break;
			} else {
				in_open = 0;
				ssh_channel_send_eof(r->channel);
			}
		}
	}
	ssh_event_remove_session(ev, r->session);
	ssh_event_free(ev);
	/* What arrived before the relay started (a quick command). */
	if (!res->has_status && r->early != NULL && r->early->has_status) {
		res->has_status = 1;
		res->exit_status = r->early->exit_status;
		res->exit_signal = r->early->exit_signal;
		memcpy(res->signame, r->early->signame, sizeof(res->signame));
	}
	/* Last resort: libssh keeps a status it saw (the channel is closed). */
	if (res->end == GW_RELAY_REMOTE && !res->has_status) {
		int st = ssh_channel_get_exit_status(r->channel);

		if (st >= 0) {
			res->has_status = 1;
			res->exit_status = st;
		}
	}
	if (res->end == GW_RELAY_RECORDING)
		snprintf(res->err, sizeof(res->err), "%s",
		    mg_strerror(rec_writer_error(r->rec)));
	if (res->end != GW_RELAY_REMOTE)
		stop_remote(r, res, buf);
	ssh_remove_channel_callbacks(r->channel, &cb);
	free(buf);
	return 0;
}
