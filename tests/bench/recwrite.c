/* SPDX-License-Identifier: BSD-2-Clause */
/* In-process recorder speed: CPU time of rec_writer_output over random, base64-text and zero payloads. */
/*
 * recwrite KEY.pem DIR [MB] [KIND...]: for each kind (random, text, zeros,
 * utf8, mixed; default the first three) writes MB (default 256) of that payload
 * through rec_writer_output in 64 KiB writes (the relay's read size) into
 * a recording in DIR, and prints one line per kind:
 *   KIND MB CPU-SECONDS MB/S RECORDING-BYTES RATIO
 * CPU time is the process's (user + system): the recording's writes are
 * in it, the making of the payload is not.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mg_util.h"
#include "rec_key.h"
#include "rec_writer.h"

#define CHUNK (64 * 1024)

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int
fill(const char *kind, uint8_t *p, size_t n)
{
	size_t i;

	if (strcmp(kind, "random") == 0) {
		for (i = 0; i + 8 <= n; i += 8) {
			uint64_t x = rnd();

			memcpy(p + i, &x, 8);
		}
		for (; i < n; i++)
			p[i] = (uint8_t)rnd();
	} else if (strcmp(kind, "zeros") == 0) {
		memset(p, 0, n);
	} else if (strcmp(kind, "text") == 0) {
		/* base64 -w 76 of random bytes: 57 bytes per 77-byte line. */
		uint8_t raw[57];
		char line[80];
		size_t j;

		for (i = 0; i < n; i += 77) {
			for (j = 0; j < sizeof(raw); j++)
				raw[j] = (uint8_t)rnd();
			mg_b64_encode(raw, sizeof(raw), 1, line);
			line[76] = '\n';
			memcpy(p + i, line, n - i < 77 ? n - i : 77);
		}
	} else if (strcmp(kind, "utf8") == 0) {
		/* Lines of non-ASCII text: Cyrillic, CJK and emoji between spaces. */
		static const char *words[] = { "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 ",
		    "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ", "\xf0\x9f\x98\x80 ", "ok ", "\n" };
		for (i = 0; i < n; ) {
			const char *w = words[rnd() % 5];
			size_t k = strlen(w);

			if (k > n - i) {
				memset(p + i, ' ', n - i);
				break;
			}
			memcpy(p + i, w, k);
			i += k;
		}
	} else if (strcmp(kind, "mixed") == 0) {
		/* Random blocks, text blocks and short UTF-8 runs interleaved. */
		static const char *u = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80 ";
		for (i = 0; i < n; i++) {
			uint64_t x = rnd();

			if ((x & 7) == 0) {
				size_t k = strlen(u);

				memcpy(p + i, u, n - i < k ? n - i : k);
				i += (n - i < k ? n - i : k) - 1;
			} else
				p[i] = (uint8_t)(x >> 8);
		}
	} else
		return -1;
	return 0;
}

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
run(const char *kind, const struct rec_key *key, const char *dir, size_t mb, uint8_t *data)
{
	struct rec_meta m = { 0 };
	struct rec_writer *w = NULL;
	struct stat st;
	char path[4096], err[256];
	size_t n = mb * 1048576, off;
	double t0, t1;
	int r;

	if (fill(kind, data, n) != 0) {
		fprintf(stderr, "recwrite: unknown kind %s\n", kind);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/recwrite-%s-%ld.cast", dir, kind, (long)getpid());
	m.session = "bench";
	unlink(path);
	t0 = cpu_now();
	if ((r = rec_writer_open(path, &m, key, NULL, &w, err, sizeof(err))) != 0) {
		fprintf(stderr, "recwrite: %s\n", err);
		return 1;
	}
	for (off = 0; off < n && r == 0; off += CHUNK)
		r = rec_writer_output(w, REC_NOW, data + off, n - off < CHUNK ? n - off : CHUNK);
	if (r == 0)
		r = rec_writer_close(w, NULL);
	rec_writer_free(w);
	t1 = cpu_now();
	if (r != 0 || stat(path, &st) != 0) {
		fprintf(stderr, "recwrite: %s: recording failed (%d)\n", kind, r);
		return 1;
	}
	printf("%s %zu %.3f %.1f %lld %.3f %s\n", kind, mb, t1 - t0,
	    (double)mb / (t1 - t0 > 0 ? t1 - t0 : 1e-9), (long long)st.st_size,
	    (double)st.st_size / (double)n, path);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *def[] = { "random", "text", "zeros" };
	struct rec_key *key = NULL;
	char err[256];
	size_t mb;
	uint8_t *data;
	int i, rc = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: recwrite KEY.pem DIR [MB] [random|text|zeros|utf8|mixed...]\n");
		return 2;
	}
	mb = argc > 3 ? (size_t)strtoul(argv[3], NULL, 10) : 256;
	if (mb == 0 || mb > 4096) {
		fprintf(stderr, "recwrite: MB must be 1..4096\n");
		return 2;
	}
	if (rec_key_load_private(argv[1], &key, err, sizeof(err)) != 0) {
		fprintf(stderr, "recwrite: %s\n", err);
		return 1;
	}
	if ((data = malloc(mb * 1048576)) == NULL) {
		rec_key_free(key);
		return 1;
	}
	if (argc > 4) {
		for (i = 4; i < argc && rc == 0; i++)
			rc = run(argv[i], key, argv[2], mb, data);
	} else {
		for (i = 0; i < 3 && rc == 0; i++)
			rc = run(def[i], key, argv[2], mb, data);
	}
	free(data);
	rec_key_free(key);
	return rc;
}
