/* SPDX-License-Identifier: BSD-2-Clause */
/* state/st_seal.c: the key file's rules and the seal of TOTP secrets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mg_err.h"
#include "st_seal.h"

static char dir[64];
static char path[128];

static void
write_key(const char *text, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/mgseal.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state.key", dir);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(path);
	rmdir(dir);
	return 0;
}

static const char good[] =
    "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF\n";

static void
key_rules(void **state)
{
	unsigned char key[ST_KEY_LEN];
	char err[256];

	(void)state;
	write_key(good, 0600);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), 0);
	assert_int_equal(key[0], 0x00);
	assert_int_equal(key[31], 0xff);
	write_key(good, 0640);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), 0);
	/* Readable by the world, or writable by the group: refused. */
	write_key(good, 0644);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), MG_ERR_PERM);
	assert_non_null(strstr(err, "state.key_file"));
	write_key(good, 0660);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), MG_ERR_PERM);
	/* Not 64 hex digits: refused, and the key is wiped. */
	write_key("0011\n", 0600);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), MG_ERR_PARSE);
	assert_non_null(strstr(err, "openssl rand -hex 32"));
	assert_int_equal(key[0] | key[31], 0);
	write_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n", 0600);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), MG_ERR_PARSE);
	write_key("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n\n", 0600);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), MG_ERR_PARSE);
	unlink(path);
	assert_int_equal(st_key_load(path, 0, 0, key, err, sizeof(err)), MG_ERR_NOENT);
	assert_int_equal(st_key_load("relative.key", 0, 0, key, err, sizeof(err)),
	    MG_ERR_INVAL);
}

static void
seal_round_trip(void **state)
{
	unsigned char key[ST_KEY_LEN], other[ST_KEY_LEN], *out = NULL;
	const char *text = "version = 1\nsecret = JBSWY3DPEHPK3PXP\n";
	char *a = NULL, *b = NULL;
	size_t len = 0;

	(void)state;
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	assert_int_equal(st_seal(key, "alice", (const unsigned char *)text,
	    strlen(text), &a), 0);
	assert_int_equal(st_seal(key, "alice", (const unsigned char *)text,
	    strlen(text), &b), 0);
	/* A fresh nonce each time; the secret never shows. */
	assert_string_not_equal(a, b);
	assert_null(strstr(a, "JBSWY3DP"));
	assert_int_equal(st_unseal(key, "alice", a, &out, &len), 0);
	assert_int_equal(len, strlen(text));
	assert_string_equal((char *)out, text);
	free(out);
	out = NULL;
	/* Another key, another row, one changed digit: refused. */
	assert_int_equal(st_unseal(other, "alice", a, &out, &len), MG_ERR_VERIFY);
	assert_int_equal(st_unseal(key, "bob", a, &out, &len), MG_ERR_VERIFY);
	a[40] = a[40] == '0' ? '1' : '0';
	assert_int_equal(st_unseal(key, "alice", a, &out, &len), MG_ERR_VERIFY);
	assert_null(out);
	/* Not a sealed value at all. */
	assert_int_equal(st_unseal(key, "alice", "zz", &out, &len), MG_ERR_PARSE);
	assert_int_equal(st_unseal(key, "alice", "", &out, &len), MG_ERR_PARSE);
	b[1] = '9';	/* another version */
	assert_int_equal(st_unseal(key, "alice", b, &out, &len), MG_ERR_PARSE);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_rules, setup, teardown),
		cmocka_unit_test(seal_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
