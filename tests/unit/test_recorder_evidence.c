/* SPDX-License-Identifier: BSD-2-Clause */
/* Matching recordings to the audit log's seals, and reading audit lines back as events. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "mg_err.h"
#include "rec_audit.h"
#include "rec_evidence.h"
#include "rec_reader.h"
#include "test_recorder_util.h"

int main(void);

#define S1 "sha256:1111111111111111111111111111111111111111111111111111111111111111"
#define S2 "sha256:2222222222222222222222222222222222222222222222222222222222222222"

struct aline { int type; const char *session, *recording, *seal; };
struct arec { const char *path, *session; enum rec_verify_status st; const char *seal; };
struct want { const char *name; enum rec_ev_verdict v; const char *msg; };

static const struct {
	const char *what;
	struct aline ev[6];
	struct arec rec[4];
	struct want out[4];
	size_t verified, missing, failed, unsealed;
} cases[] = {
	{ "sealed and matching",
	  { { REC_AUDIT_SESSION_START, "A", "A.cast", NULL },
	    { REC_AUDIT_SESSION_END, "A", "A.cast", S1 } },
	  { { "d/A.cast", "A", REC_VERIFY_OK, S1 } },
	  { { "d/A.cast", REC_EV_OK, "matches its seal in audit.jsonl line 2" } },
	  1, 0, 0, 0 },
	{ "a deleted recording is missing",
	  { { REC_AUDIT_SESSION_END, "A", "A.cast", S1 },
	    { REC_AUDIT_SESSION_END, "B", "B.cast", S2 } },
	  { { "d/A.cast", "A", REC_VERIFY_OK, S1 } },
	  { { "d/A.cast", REC_EV_OK, "" },
	    { "d/B.cast", REC_EV_MISSING, "sealed in audit.jsonl line 2 (session B)" } },
	  1, 1, 0, 0 },
	{ "a started session without recording is missing",
	  { { REC_AUDIT_SESSION_START, "C", "C.cast", NULL } },
	  { { NULL, NULL, 0, NULL } },
	  { { "d/C.cast", REC_EV_MISSING, "started in audit.jsonl line 1" } },
	  0, 1, 0, 0 },
	{ "a sealed recording cut short fails",
	  { { REC_AUDIT_SESSION_END, "B", "B.cast", S2 } },
	  { { "d/B.cast", "B", REC_VERIFY_INCOMPLETE, "" } },
	  { { "d/B.cast", REC_EV_FAILED, "cut after its seal: audit.jsonl line 1" } },
	  0, 0, 1, 0 },
	{ "a substituted recording of the same session fails",
	  { { REC_AUDIT_SESSION_END, "B", "B.cast", S2 } },
	  { { "d/B.cast", "B", REC_VERIFY_OK, S1 } },
	  { { "d/B.cast", REC_EV_FAILED, "does not match its seal in audit.jsonl line 1" } },
	  0, 0, 1, 0 },
	{ "a seal naming another session fails",
	  { { REC_AUDIT_SESSION_END, "B", "B.cast", S2 } },
	  { { "d/B.cast", "A", REC_VERIFY_OK, S2 } },
	  { { "d/B.cast", REC_EV_FAILED, "sealed session B under this name, but this "
	      "recording is session A" } },
	  0, 0, 1, 0 },
	{ "a recording that does not verify fails",
	  { { REC_AUDIT_SESSION_END, "B", "B.cast", S2 } },
	  { { "d/B.cast", "B", REC_VERIFY_FAILED, "" } },
	  { { "d/B.cast", REC_EV_FAILED, "does not verify" } },
	  0, 0, 1, 0 },
	{ "no trace at all is reported",
	  { { REC_AUDIT_SESSION_END, "A", "A.cast", S1 } },
	  { { "d/A.cast", "A", REC_VERIFY_OK, S1 }, { "d/Z.cast", "Z", REC_VERIFY_OK, S2 } },
	  { { "d/A.cast", REC_EV_OK, "" },
	    { "d/Z.cast", REC_EV_UNSEALED, "no trace in the audit logs given (session Z)" } },
	  1, 0, 0, 1 },
	{ "started, not yet sealed",
	  { { REC_AUDIT_SESSION_START, "R", "R.cast", NULL } },
	  { { "d/R.cast", "R", REC_VERIFY_INCOMPLETE, "" } },
	  { { "d/R.cast", REC_EV_UNSEALED, "started in audit.jsonl line 1, no seal" } },
	  0, 0, 0, 1 },
	{ "a compressed recording is matched by its name without .gz",
	  { { REC_AUDIT_SESSION_END, "A", "A.cast", S1 } },
	  { { "d/A.cast.gz", "A", REC_VERIFY_OK, S1 } },
	  { { "d/A.cast.gz", REC_EV_OK, "" } },
	  1, 0, 0, 0 },
	{ "two seals for one name: the recording must match both",
	  { { REC_AUDIT_SESSION_END, "A", "A.cast", S1 },
	    { REC_AUDIT_SESSION_END, "A", "A.cast", S2 } },
	  { { "d/A.cast", "A", REC_VERIFY_OK, S1 } },
	  { { "d/A.cast", REC_EV_FAILED, "does not match its seal in audit.jsonl line 2" } },
	  0, 0, 1, 0 },
};

static void
test_match(void **state)
{
	size_t c, i;

	(void)state;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct rec_evidence *e;
		struct rec_ev_summary sum;
		size_t n = 0;

		print_message("# %s\n", cases[c].what);
		assert_int_equal(rec_evidence_new(&e), 0);
		for (i = 0; i < 6 && cases[c].ev[i].session != NULL; i++) {
			struct rec_audit_line ln = { 0 };

			ln.lineno = i + 1;
			ln.type = cases[c].ev[i].type;
			ln.session = cases[c].ev[i].session;
			ln.recording = cases[c].ev[i].recording;
			ln.seal = cases[c].ev[i].seal;
			assert_int_equal(rec_evidence_add_event(e, "audit.jsonl", &ln), 0);
		}
		for (i = 0; i < 4 && cases[c].rec[i].path != NULL; i++) {
			struct rec_verify_result res = { 0 };

			res.status = cases[c].rec[i].st;
			snprintf(res.session, sizeof(res.session), "%s", cases[c].rec[i].session);
			snprintf(res.seal, sizeof(res.seal), "%s", cases[c].rec[i].seal);
			assert_int_equal(rec_evidence_add_recording(e, cases[c].rec[i].path,
			    &res), 0);
		}
		assert_int_equal(rec_evidence_match(e, "d", &sum), 0);
		for (i = 0; i < 4 && cases[c].out[i].name != NULL; i++) {
			const struct rec_ev_item *it = rec_evidence_item(e, i);

			assert_non_null(it);
			assert_string_equal(it->name, cases[c].out[i].name);
			if (it->verdict != cases[c].out[i].v || strstr(it->msg,
			    cases[c].out[i].msg) == NULL)
				fail_msg("%s: %s: %s %s", cases[c].what, it->name,
				    rec_ev_verdict_name(it->verdict), it->msg);
			n++;
		}
		assert_int_equal(rec_evidence_count(e), n);
		assert_int_equal(sum.sessions, n);
		assert_int_equal(sum.verified, cases[c].verified);
		assert_int_equal(sum.missing, cases[c].missing);
		assert_int_equal(sum.failed, cases[c].failed);
		assert_int_equal(sum.unsealed, cases[c].unsealed);
		rec_evidence_free(e);
	}
}

/* The reader gives back what the writer wrote, line by line. */
static void
test_reader_roundtrip(void **state)
{
	struct rec_audit *a = NULL;
	struct rec_audit_reader *rd = NULL;
	struct rec_audit_event ev = { 0 };
	struct rec_audit_line ln;
	struct rec_audit_opts o = { .no_syslog = 1 };
	char path[128], key[128], err[256];

	(void)state;
	snprintf(path, sizeof(path), "%s/audit-read.jsonl", dir);
	snprintf(key, sizeof(key), "%s/k.pem", dir);
	unlink(path);
	assert_int_equal(rec_audit_open(path, key, &o, &a, err, sizeof(err)), 0);
	ev.type = REC_AUDIT_SESSION_END;
	ev.session = "S-1";
	ev.tenant = "acme \"quoted\"";
	ev.recording = "S-1.cast";
	ev.seal = S1;
	ev.time = 1767236645;
	ev.source = "192.0.2.7";
	ev.login = "root";
	ev.ticket = "T-9";
	ev.reason = "line1\nline2\t\"q\"";
	ev.rule = "alerts.fanout";
	assert_int_equal(rec_audit_event(a, &ev), 0);
	rec_audit_close(a);

	assert_int_equal(rec_audit_reader_open(path, &rd, err, sizeof(err)), 0);
	assert_int_equal(rec_audit_reader_next(rd, &ln), 1);
	assert_int_equal(ln.type, REC_AUDIT_LOG_START);
	assert_non_null(ln.log);
	assert_int_equal(strlen(ln.log), 32);
	assert_int_equal(rec_audit_reader_next(rd, &ln), 1);
	assert_int_equal(ln.seq, 2);
	assert_int_equal(ln.type, REC_AUDIT_SESSION_END);
	assert_string_equal(ln.session, "S-1");
	assert_string_equal(ln.tenant, "acme \"quoted\"");
	assert_string_equal(ln.recording, "S-1.cast");
	assert_string_equal(ln.seal, S1);
	assert_null(ln.engineer);
	assert_int_equal(ln.ts, 1767236645);
	assert_string_equal(ln.time, "2026-01-01T03:04:05Z");
	assert_string_equal(ln.source, "192.0.2.7");
	assert_string_equal(ln.login, "root");
	assert_string_equal(ln.ticket, "T-9");
	assert_string_equal(ln.result, "info");
	assert_string_equal(ln.reason, "line1\nline2\t\"q\"");
	assert_string_equal(ln.rule, "alerts.fanout");
	assert_int_equal(strlen(ln.hash), 64);
	assert_true(ln.rawlen > 0 && ln.raw[ln.rawlen - 1] == '}');
	assert_int_equal(rec_audit_reader_next(rd, &ln), 0);
	rec_audit_reader_free(rd);
}

/* Lines that are not audit events are errors that name the line. */
static void
test_reader_bad(void **state)
{
	static const char *bad[] = {
		"{\"seq\":1}\n",
		"not json\n",
		"{\"seq\":1,\"event\":\"x\",\"hash\":\"00\"}\n",
		"{\"seq\":1,\"event\":\"log_start\",\"hash\":\""
		    "0000000000000000000000000000000000000000000000000000000000000000\"}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rec_audit_reader *rd = NULL;
		struct rec_audit_line ln;

		assert_int_equal(rec_audit_reader_open_mem(bad[i], strlen(bad[i]), &rd), 0);
		assert_int_equal(rec_audit_reader_next(rd, &ln), MG_ERR_PARSE);
		assert_non_null(strstr(rec_audit_reader_errmsg(rd), "line 1 (byte 0)"));
		/* An error sticks. */
		assert_int_equal(rec_audit_reader_next(rd, &ln), MG_ERR_PARSE);
		rec_audit_reader_free(rd);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_reader_roundtrip),
		cmocka_unit_test(test_reader_bad),
	};

	return cmocka_run_group_tests(tests, rt_setup, rt_teardown);
}
