/* SPDX-License-Identifier: BSD-2-Clause */
/* Tests for OpenSSH public key parsing against keys ssh-keygen makes at run time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "mg_err.h"
#include "mg_sshkey.h"

/* Keys made by ssh-keygen in a temporary directory; none are kept in git. */
struct genkey {
	const char *name;
	const char *type;
	const char *bits;	/* NULL: ssh-keygen's default */
	enum mg_keytype want_type;
	unsigned int want_bits;
	const char *want_name;
	int valid;
	char line[8192];	/* the .pub line, without its newline */
};

static struct genkey genkeys[] = {
	{ "ed25519", "ed25519", NULL, MG_KEY_ED25519, 256, "ssh-ed25519", 1, "" },
	{ "ecdsa256", "ecdsa", "256", MG_KEY_ECDSA_P256, 256,
	    "ecdsa-sha2-nistp256", 1, "" },
	{ "ecdsa384", "ecdsa", "384", MG_KEY_ECDSA_P384, 384,
	    "ecdsa-sha2-nistp384", 1, "" },
	{ "ecdsa521", "ecdsa", "521", MG_KEY_ECDSA_P521, 521,
	    "ecdsa-sha2-nistp521", 1, "" },
	{ "rsa2048", "rsa", "2048", MG_KEY_RSA, 2048, "ssh-rsa", 1, "" },
	{ "rsa1024", "rsa", "1024", MG_KEY_RSA, 1024, "ssh-rsa", 0, "" },
};
#define NGENKEYS (sizeof(genkeys) / sizeof(genkeys[0]))

static char tmpdir[] = "/tmp/mg-test-sshkey-XXXXXX";

/* A growing byte buffer for building key blobs by hand. */
struct buf {
	unsigned char d[4096];
	size_t n;
};

static void
put_raw(struct buf *b, const void *p, size_t len)
{
	assert_true(b->n + len <= sizeof(b->d));
	memcpy(b->d + b->n, p, len);
	b->n += len;
}

static void
put_string(struct buf *b, const void *p, size_t len)
{
	unsigned char l[4];

	l[0] = (unsigned char)(len >> 24);
	l[1] = (unsigned char)(len >> 16);
	l[2] = (unsigned char)(len >> 8);
	l[3] = (unsigned char)len;
	put_raw(b, l, 4);
	put_raw(b, p, len);
}

static void
put_cstring(struct buf *b, const char *s)
{
	put_string(b, s, strlen(s));
}

/* "TYPE BASE64[ COMMENT]", base64 by libcrypto so the parser is checked against another coder. */
static char *
make_line(const char *type, const struct buf *b, const char *comment)
{
	static char line[8192];
	size_t n;

	n = (size_t)snprintf(line, sizeof(line), "%s ", type);
	assert_true(n + (b->n + 2) / 3 * 4 + 1 < sizeof(line));
	n += (size_t)EVP_EncodeBlock((unsigned char *)line + n, b->d, (int)b->n);
	line[n] = '\0';
	if (comment != NULL)
		snprintf(line + n, sizeof(line) - n, " %s", comment);
	return line;
}

/* Decodes the base64 field of a line with libcrypto, as the test's oracle. */
static void
line_blob(const char *line, struct buf *b)
{
	const char *p = strchr(line, ' ') + 1;
	const char *e = strchr(p, ' ');
	size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
	int n;

	assert_true(len / 4 * 3 <= sizeof(b->d));
	n = EVP_DecodeBlock(b->d, (const unsigned char *)p, (int)len);
	assert_true(n > 0);
	b->n = (size_t)n;
	if (len >= 1 && p[len - 1] == '=')
		b->n--;
	if (len >= 2 && p[len - 2] == '=')
		b->n--;
}

static int
run(char *const argv[])
{
	pid_t pid;
	int status;

	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
read_line(const char *path, char *line, size_t len)
{
	FILE *f = fopen(path, "r");

	assert_non_null(f);
	assert_non_null(fgets(line, (int)len, f));
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
}

static void
write_line(const char *path, const char *line)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fprintf(f, "%s\n", line) > 0);
	assert_int_equal(fclose(f), 0);
}

/* The SHA256 fingerprint that `ssh-keygen -lf path` prints. */
static void
keygen_fingerprint(const char *path, char *fp, size_t len)
{
	char cmd[512], out[1024];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "ssh-keygen -E sha256 -lf '%s'", path);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(out, sizeof(out), p));
	assert_int_equal(pclose(p), 0);
	/* "BITS SHA256:xxx COMMENT (TYPE)" */
	assert_int_equal(sscanf(out, "%*u %1023s", out), 1);
	assert_true(strlen(out) < len);
	snprintf(fp, len, "%s", out);
}

static int
setup(void **state)
{
	char path[256], bits[16], comment[64];
	size_t i;

	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	for (i = 0; i < NGENKEYS; i++) {
		struct genkey *g = &genkeys[i];
		char *argv[16];
		int n = 0;

		snprintf(path, sizeof(path), "%s/%s", tmpdir, g->name);
		snprintf(comment, sizeof(comment), "test %s key", g->name);
		argv[n++] = "ssh-keygen";
		argv[n++] = "-q";
		argv[n++] = "-t";
		argv[n++] = (char *)g->type;
		if (g->bits != NULL) {
			snprintf(bits, sizeof(bits), "%s", g->bits);
			argv[n++] = "-b";
			argv[n++] = bits;
		}
		argv[n++] = "-N";
		argv[n++] = "";
		argv[n++] = "-C";
		argv[n++] = comment;
		argv[n++] = "-f";
		argv[n++] = path;
		argv[n] = NULL;
		if (run(argv) != 0) {
			fprintf(stderr, "ssh-keygen -t %s failed\n", g->type);
			return -1;
		}
		snprintf(path, sizeof(path), "%s/%s.pub", tmpdir, g->name);
		read_line(path, g->line, sizeof(g->line));
	}
	return 0;
}

static int
teardown(void **state)
{
	struct dirent *e;
	char path[512];
	DIR *d;

	(void)state;
	if ((d = opendir(tmpdir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(tmpdir);
}

static struct genkey *
genkey(const char *name)
{
	size_t i;

	for (i = 0; i < NGENKEYS; i++)
		if (strcmp(genkeys[i].name, name) == 0)
			return &genkeys[i];
	fail_msg("no generated key %s", name);
	return NULL;
}

static void
test_generated_keys(void **state)
{
	char err[256], fp[MG_SSHKEY_FP_LEN], want_fp[128], path[256];
	char comment[64], *fmt;
	struct mg_sshkey *k, *again;
	size_t i;

	(void)state;
	for (i = 0; i < NGENKEYS; i++) {
		struct genkey *g = &genkeys[i];

		if (!g->valid)
			continue;
		k = NULL;
		assert_int_equal(mg_sshkey_parse(g->line, &k, err, sizeof(err)), 0);
		assert_non_null(k);
		assert_int_equal(k->type, g->want_type);
		assert_string_equal(k->type_name, g->want_name);
		assert_int_equal(k->bits, g->want_bits);
		assert_null(k->application);
		assert_false(mg_sshkey_is_sk(k));
		snprintf(comment, sizeof(comment), "test %s key", g->name);
		assert_string_equal(k->comment, comment);

		snprintf(path, sizeof(path), "%s/%s.pub", tmpdir, g->name);
		keygen_fingerprint(path, want_fp, sizeof(want_fp));
		assert_int_equal(mg_sshkey_fingerprint(k, fp, sizeof(fp)), 0);
		assert_string_equal(fp, want_fp);

		/* Formatting gives the line back without its comment. */
		assert_int_equal(mg_sshkey_format(k, &fmt), 0);
		assert_int_equal(strncmp(g->line, fmt, strlen(fmt)), 0);
		assert_int_equal(g->line[strlen(fmt)], ' ');
		again = NULL;
		assert_int_equal(mg_sshkey_parse(fmt, &again, err, sizeof(err)), 0);
		assert_true(mg_sshkey_equal(k, again));
		assert_null(again->comment);
		free(fmt);
		mg_sshkey_free(again);

		/* A different key of another type is a different key. */
		again = NULL;
		assert_int_equal(mg_sshkey_parse(genkeys[(i + 1) % 5].line,
		    &again, err, sizeof(err)), 0);
		assert_false(mg_sshkey_equal(k, again));
		mg_sshkey_free(again);
		mg_sshkey_free(k);
	}
}

static void
test_short_rsa_refused(void **state)
{
	struct mg_sshkey *k = (struct mg_sshkey *)1;
	char err[256];

	(void)state;
	assert_int_equal(mg_sshkey_parse(genkey("rsa1024")->line, &k, err,
	    sizeof(err)), MG_ERR_PARSE);
	assert_null(k);
	assert_string_equal(err, "RSA key is 1024 bits; at least 2048 are required");
}

/* A fresh P-256 public point (0x04 || X || Y) from libcrypto. */
static void
p256_point(unsigned char *q, size_t *qlen)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	assert_non_null(pk);
	assert_int_equal(EVP_PKEY_get_octet_string_param(pk,
	    OSSL_PKEY_PARAM_PUB_KEY, q, 65, qlen), 1);
	assert_int_equal(*qlen, 65);
	assert_int_equal(q[0], 0x04);
	EVP_PKEY_free(pk);
}

static void
sk_ed25519_blob(struct buf *b, const char *app)
{
	unsigned char pk[32];

	assert_int_equal(RAND_bytes(pk, sizeof(pk)), 1);
	b->n = 0;
	put_cstring(b, "sk-ssh-ed25519@openssh.com");
	put_string(b, pk, sizeof(pk));
	if (app != NULL)
		put_cstring(b, app);
}

static void
sk_ecdsa_blob(struct buf *b, const char *app)
{
	unsigned char q[65];
	size_t qlen;

	p256_point(q, &qlen);
	b->n = 0;
	put_cstring(b, "sk-ecdsa-sha2-nistp256@openssh.com");
	put_cstring(b, "nistp256");
	put_string(b, q, qlen);
	if (app != NULL)
		put_cstring(b, app);
}

static void
test_security_keys(void **state)
{
	static const struct {
		const char *type;
		void (*blob)(struct buf *, const char *);
		enum mg_keytype want;
	} t[] = {
		{ "sk-ssh-ed25519@openssh.com", sk_ed25519_blob, MG_KEY_SK_ED25519 },
		{ "sk-ecdsa-sha2-nistp256@openssh.com", sk_ecdsa_blob,
		    MG_KEY_SK_ECDSA_P256 },
	};
	char err[256], fp[MG_SSHKEY_FP_LEN], want_fp[128], path[256];
	struct mg_sshkey *k;
	struct buf b;
	size_t i;
	char *line;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		t[i].blob(&b, "ssh:");
		line = make_line(t[i].type, &b, "alice@yubikey");
		k = NULL;
		assert_int_equal(mg_sshkey_parse(line, &k, err, sizeof(err)), 0);
		assert_int_equal(k->type, t[i].want);
		assert_string_equal(k->type_name, t[i].type);
		assert_true(mg_sshkey_is_sk(k));
		assert_string_equal(k->application, "ssh:");
		assert_string_equal(k->comment, "alice@yubikey");
		assert_int_equal(k->bits, 256);
		assert_int_equal(k->bloblen, b.n);
		assert_memory_equal(k->blob, b.d, b.n);

		/* ssh-keygen reads security-key public keys without the device. */
		snprintf(path, sizeof(path), "%s/sk%zu.pub", tmpdir, i);
		write_line(path, line);
		keygen_fingerprint(path, want_fp, sizeof(want_fp));
		assert_int_equal(mg_sshkey_fingerprint(k, fp, sizeof(fp)), 0);
		assert_string_equal(fp, want_fp);
		mg_sshkey_free(k);
	}
}

/* Each builder returns a malformed line made from a real key. */
static const char *
bad_corrupt_b64(void)
{
	static char line[8192];

	snprintf(line, sizeof(line), "%s", genkey("ed25519")->line);
	line[20] = '*';
	return line;
}

static const char *
bad_b64_nopad(void)
{
	static char line[8192];
	char *sp;

	/* Drop the final '=' of the padded base64. */
	snprintf(line, sizeof(line), "%s", genkey("ecdsa256")->line);
	sp = strrchr(line, '=');
	assert_non_null(sp);
	memmove(sp, sp + 1, strlen(sp));
	return line;
}

static const char *
bad_b64_trailing_bits(void)
{
	static char line[8192];
	char *eq;

	/*
	 * A P-256 blob is 104 bytes, so its base64 ends "xY=" where Y has two
	 * unused low bits; setting them spells the same bytes differently.
	 */
	snprintf(line, sizeof(line), "%s", genkey("ecdsa256")->line);
	eq = strchr(line, '=');
	assert_non_null(eq);
	assert_int_equal(eq[1], ' ');
	eq[-1] = eq[-1] == 'B' ? 'C' : 'B';
	return line;
}

static const char *
bad_truncated(void)
{
	struct buf b;

	line_blob(genkey("ed25519")->line, &b);
	b.n -= 5;
	return make_line("ssh-ed25519", &b, NULL);
}

static const char *
bad_truncated_rsa(void)
{
	struct buf b;

	line_blob(genkey("rsa2048")->line, &b);
	b.n -= 1;
	return make_line("ssh-rsa", &b, NULL);
}

static const char *
bad_mismatch(void)
{
	struct buf b;

	line_blob(genkey("ed25519")->line, &b);
	return make_line("ssh-rsa", &b, NULL);
}

static const char *
bad_trailing(void)
{
	struct buf b;

	line_blob(genkey("ed25519")->line, &b);
	put_raw(&b, "\0", 1);
	return make_line("ssh-ed25519", &b, NULL);
}

static const char *
bad_trailing_ecdsa(void)
{
	struct buf b;

	line_blob(genkey("ecdsa384")->line, &b);
	put_cstring(&b, "x");
	return make_line("ecdsa-sha2-nistp384", &b, NULL);
}

static const char *
bad_cert(void)
{
	struct buf b;

	line_blob(genkey("ed25519")->line, &b);
	return make_line("ssh-ed25519-cert-v01@openssh.com", &b, NULL);
}

static const char *
bad_cert_inside(void)
{
	struct buf b;

	b.n = 0;
	put_cstring(&b, "ssh-ed25519-cert-v01@openssh.com");
	put_string(&b, "0123456789abcdef0123456789abcdef", 32);
	return make_line("ssh-ed25519", &b, NULL);
}

static const char *
bad_dss(void)
{
	struct buf b;

	b.n = 0;
	put_cstring(&b, "ssh-dss");
	put_string(&b, "\x01", 1);
	return make_line("ssh-dss", &b, NULL);
}

static const char *
bad_ec_off_curve(void)
{
	unsigned char q[65];
	size_t qlen;
	struct buf b;

	p256_point(q, &qlen);
	/* Changing Y alone moves the point off y^2 = x^3 - 3x + b. */
	q[64] ^= 0x01;
	b.n = 0;
	put_cstring(&b, "ecdsa-sha2-nistp256");
	put_cstring(&b, "nistp256");
	put_string(&b, q, qlen);
	return make_line("ecdsa-sha2-nistp256", &b, NULL);
}

static const char *
bad_ec_small_x(void)
{
	unsigned char q[65];
	EC_GROUP *g;
	EC_POINT *pt;
	BIGNUM *x;
	struct buf b;
	unsigned long i;

	/*
	 * A real point on P-256 whose x is tiny: on the curve, yet sshd
	 * refuses it, so the parser must too.
	 */
	assert_non_null(g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
	assert_non_null(pt = EC_POINT_new(g));
	assert_non_null(x = BN_new());
	for (i = 1; i < 100; i++) {
		assert_int_equal(BN_set_word(x, i), 1);
		if (EC_POINT_set_compressed_coordinates(g, pt, x, 0, NULL) == 1)
			break;
	}
	assert_true(i < 100);
	assert_int_equal(EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED,
	    q, sizeof(q), NULL), sizeof(q));
	BN_free(x);
	EC_POINT_free(pt);
	EC_GROUP_free(g);
	b.n = 0;
	put_cstring(&b, "ecdsa-sha2-nistp256");
	put_cstring(&b, "nistp256");
	put_string(&b, q, sizeof(q));
	return make_line("ecdsa-sha2-nistp256", &b, NULL);
}

static const char *
bad_ec_compressed(void)
{
	unsigned char q[65];
	size_t qlen;
	struct buf b;

	p256_point(q, &qlen);
	q[0] = 0x02 | (q[64] & 1);
	b.n = 0;
	put_cstring(&b, "ecdsa-sha2-nistp256");
	put_cstring(&b, "nistp256");
	put_string(&b, q, 33);
	return make_line("ecdsa-sha2-nistp256", &b, NULL);
}

static const char *
bad_ec_curve_name(void)
{
	unsigned char q[65];
	size_t qlen;
	struct buf b;

	p256_point(q, &qlen);
	b.n = 0;
	put_cstring(&b, "ecdsa-sha2-nistp256");
	put_cstring(&b, "nistp384");
	put_string(&b, q, qlen);
	return make_line("ecdsa-sha2-nistp256", &b, NULL);
}

static const char *
bad_ed25519_len(void)
{
	struct buf b;

	b.n = 0;
	put_cstring(&b, "ssh-ed25519");
	put_string(&b, "0123456789abcdef0123456789abcde", 31);
	return make_line("ssh-ed25519", &b, NULL);
}

static const char *
bad_sk_no_app(void)
{
	struct buf b;

	sk_ed25519_blob(&b, NULL);
	return make_line("sk-ssh-ed25519@openssh.com", &b, NULL);
}

static const char *
bad_sk_empty_app(void)
{
	struct buf b;

	sk_ecdsa_blob(&b, "");
	return make_line("sk-ecdsa-sha2-nistp256@openssh.com", &b, NULL);
}

static const char *
bad_sk_app_ctrl(void)
{
	struct buf b;

	sk_ed25519_blob(&b, "ssh:\n");
	return make_line("sk-ssh-ed25519@openssh.com", &b, NULL);
}

static const char *
bad_rsa_mpint(void)
{
	unsigned char n[257];
	struct buf b;

	/* A needless leading zero: the same number could then have two blobs. */
	memset(n, 0x55, sizeof(n));
	n[0] = 0;
	n[256] |= 1;
	b.n = 0;
	put_cstring(&b, "ssh-rsa");
	put_string(&b, "\x01\x00\x01", 3);
	put_string(&b, n, sizeof(n));
	return make_line("ssh-rsa", &b, NULL);
}

static const char *
bad_rsa_huge(void)
{
	unsigned char n[2049];
	struct buf b;

	/* 16385 bits: more than sshd accepts. */
	memset(n, 0x55, sizeof(n));
	n[0] = 0x01;
	b.n = 0;
	put_cstring(&b, "ssh-rsa");
	put_string(&b, "\x01\x00\x01", 3);
	put_string(&b, n, sizeof(n));
	return make_line("ssh-rsa", &b, NULL);
}

static const char *
bad_rsa_negative(void)
{
	unsigned char n[256];
	struct buf b;

	memset(n, 0xd5, sizeof(n));
	b.n = 0;
	put_cstring(&b, "ssh-rsa");
	put_string(&b, "\x01\x00\x01", 3);
	put_string(&b, n, sizeof(n));
	return make_line("ssh-rsa", &b, NULL);
}

static const char *
bad_rsa_even_e(void)
{
	struct buf b, in;
	const unsigned char *p;
	uint32_t elen;

	/* Keep n from the real key, change e to 65536. */
	line_blob(genkey("rsa2048")->line, &in);
	p = in.d + 4 + 7;
	elen = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
	b.n = 0;
	put_cstring(&b, "ssh-rsa");
	put_string(&b, "\x01\x00\x00", 3);
	put_raw(&b, p + 4 + elen, in.n - (size_t)(p + 4 + elen - in.d));
	return make_line("ssh-rsa", &b, NULL);
}

static const char *
bad_overlong(void)
{
	static char line[17 * 1024 + 32];

	snprintf(line, sizeof(line), "ssh-ed25519 ");
	memset(line + 12, 'A', 17 * 1024);
	line[12 + 17 * 1024] = '\0';
	return line;
}

static const char *
bad_ctrl_comment(void)
{
	static char line[8192 + 32];

	snprintf(line, sizeof(line), "%s evil\x1b[2Jcomment",
	    genkey("ed25519")->line);
	return line;
}

static const char *
bad_embedded_newline(void)
{
	static char line[2 * 8192];

	snprintf(line, sizeof(line), "%s\n%s", genkey("ed25519")->line,
	    genkey("ecdsa256")->line);
	return line;
}

static const char *
bad_only_type(void)
{
	return "ssh-ed25519   ";
}

static const char *
bad_empty(void)
{
	return "";
}

static const char *
bad_blank(void)
{
	return " \t \r\n";
}

static const char *
bad_unknown(void)
{
	return "ssh-foo AAAAB3NzaC1mb28=";
}

static void
test_malformed(void **state)
{
	static const struct {
		const char *name;
		const char *(*line)(void);
		const char *want;	/* the error, or its start when it ends in '*' */
	} t[] = {
		{ "corrupt base64", bad_corrupt_b64, "base64 data is damaged" },
		{ "missing padding", bad_b64_nopad, "base64 data is damaged" },
		{ "non-zero pad bits", bad_b64_trailing_bits, "base64 data is damaged" },
		{ "truncated blob", bad_truncated, "key blob is truncated" },
		{ "truncated rsa", bad_truncated_rsa,
		    "RSA key is truncated or badly encoded" },
		{ "type mismatch", bad_mismatch,
		    "key blob says ssh-ed25519 but the line says ssh-rsa" },
		{ "trailing byte", bad_trailing,
		    "key blob has 1 bytes of trailing data" },
		{ "trailing string", bad_trailing_ecdsa,
		    "key blob has 5 bytes of trailing data" },
		{ "certificate", bad_cert, "certificates are not supported "
		    "(key type ssh-ed25519-cert-v01@openssh.com)" },
		{ "certificate blob", bad_cert_inside, "key blob says "
		    "ssh-ed25519-cert-v01@openssh.com but the line says ssh-ed25519" },
		{ "dss", bad_dss, "key type ssh-dss is not supported" },
		{ "off-curve point", bad_ec_off_curve, "EC point is not on the curve" },
		{ "tiny x", bad_ec_small_x, "EC public key is not valid" },
		{ "compressed point", bad_ec_compressed,
		    "EC point is not in uncompressed form" },
		{ "wrong curve", bad_ec_curve_name, "key blob names curve nistp384 "
		    "but ecdsa-sha2-nistp256 needs nistp256" },
		{ "short ed25519", bad_ed25519_len, "ed25519 key is 31 bytes; it must be 32" },
		{ "sk no application", bad_sk_no_app, "key blob is truncated" },
		{ "sk empty application", bad_sk_empty_app,
		    "security key application is not valid" },
		{ "sk control application", bad_sk_app_ctrl,
		    "security key application is not valid" },
		{ "rsa leading zero", bad_rsa_mpint,
		    "RSA key is truncated or badly encoded" },
		{ "rsa too big", bad_rsa_huge,
		    "RSA key is 16385 bits; at most 16384 are supported" },
		{ "rsa negative", bad_rsa_negative,
		    "RSA key is truncated or badly encoded" },
		{ "rsa even exponent", bad_rsa_even_e, "RSA public exponent is not valid" },
		{ "overlong", bad_overlong, "key line is longer than 16384 bytes" },
		{ "control in comment", bad_ctrl_comment,
		    "key line contains a control character" },
		{ "two lines", bad_embedded_newline,
		    "key line contains a control character" },
		{ "type only", bad_only_type, "key line has no key data after the type" },
		{ "empty", bad_empty, "key line is empty" },
		{ "blank", bad_blank, "key line is empty" },
		{ "unknown type", bad_unknown, "unknown key type ssh-foo" },
	};
	struct mg_sshkey *k;
	char err[256];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		k = (struct mg_sshkey *)1;
		err[0] = '\0';
		r = mg_sshkey_parse(t[i].line(), &k, err, sizeof(err));
		if (r != MG_ERR_PARSE || strcmp(err, t[i].want) != 0)
			fail_msg("%s: got %d \"%s\", want \"%s\"", t[i].name, r,
			    err, t[i].want);
		assert_null(k);
	}
}

static void
test_line_layout(void **state)
{
	static const struct {
		const char *before;	/* around the key "TYPE BASE64" */
		const char *after;
		const char *comment;	/* NULL: none */
	} t[] = {
		{ "", "", NULL },
		{ "", "\n", NULL },
		{ "", " \r\n", NULL },
		{ "  ", " alice@yubikey", "alice@yubikey" },
		{ "", "\talice with spaces  \t", "alice with spaces" },
		{ "", "  two  blanks  kept\n", "two  blanks  kept" },
		{ "", " caf\xc3\xa9@host", "caf\xc3\xa9@host" },
	};
	char line[8192 + 64], key[8192], err[256];
	struct mg_sshkey *k;
	size_t i;

	(void)state;
	snprintf(key, sizeof(key), "%s", genkey("ed25519")->line);
	/* Cut "TYPE BASE64 COMMENT" after BASE64. */
	*strchr(strchr(key, ' ') + 1, ' ') = '\0';
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		snprintf(line, sizeof(line), "%s%s%s", t[i].before, key,
		    t[i].after);
		k = NULL;
		if (mg_sshkey_parse(line, &k, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		if (t[i].comment == NULL)
			assert_null(k->comment);
		else
			assert_string_equal(k->comment, t[i].comment);
		mg_sshkey_free(k);
	}
}

static void
test_api_edges(void **state)
{
	struct mg_sshkey *k = (struct mg_sshkey *)1, *k2;
	char err[8], fp[MG_SSHKEY_FP_LEN], *s = (char *)1;

	(void)state;
	mg_sshkey_free(NULL);
	assert_int_equal(mg_sshkey_parse(NULL, &k, NULL, 0), MG_ERR_INVAL);
	assert_null(k);
	assert_int_equal(mg_sshkey_parse("x", NULL, NULL, 0), MG_ERR_INVAL);
	assert_int_equal(mg_sshkey_fingerprint(NULL, fp, sizeof(fp)), MG_ERR_INVAL);
	assert_int_equal(mg_sshkey_format(NULL, &s), MG_ERR_INVAL);
	assert_null(s);
	assert_false(mg_sshkey_equal(NULL, NULL));
	assert_false(mg_sshkey_is_sk(NULL));

	/* A small err buffer truncates; no err buffer is fine. */
	assert_int_equal(mg_sshkey_parse("ssh-dss AAAA", &k, err, sizeof(err)),
	    MG_ERR_PARSE);
	assert_string_equal(err, "key typ");
	assert_int_equal(mg_sshkey_parse(genkey("ed25519")->line, &k, NULL, 0), 0);
	assert_int_equal(mg_sshkey_fingerprint(k, fp, sizeof(fp) - 1), MG_ERR_TOOBIG);
	assert_int_equal(mg_sshkey_fingerprint(k, fp, sizeof(fp)), 0);
	assert_int_equal(strlen(fp), MG_SSHKEY_FP_LEN - 1);
	assert_int_equal(mg_sshkey_parse(genkey("ed25519")->line, &k2, NULL, 0), 0);
	assert_true(mg_sshkey_equal(k, k2));
	mg_sshkey_free(k);
	mg_sshkey_free(k2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated_keys),
		cmocka_unit_test(test_short_rsa_refused),
		cmocka_unit_test(test_security_keys),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_line_layout),
		cmocka_unit_test(test_api_edges),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
