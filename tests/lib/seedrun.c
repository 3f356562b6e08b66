/* SPDX-License-Identifier: BSD-2-Clause */
/* Runs a libFuzzer target over its seed corpus without libFuzzer (make check). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int main(int argc, char **argv);

static int
run_file(const char *path, int n)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (f == NULL) {
		printf("not ok %d - %s (cannot open)\n", n, path);
		return 1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *nb;

			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				fclose(f);
				free(buf);
				printf("not ok %d - %s (out of memory)\n", n, path);
				return 1;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		if (got == 0)
			break;
		len += got;
	}
	fclose(f);
	/* A crash or sanitizer report ends the process: the runner sees that. */
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	printf("ok %d - %s\n", n, path);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, n = 0, failed = 0;

	for (i = 1; i < argc; i++) {
		struct dirent **ents = NULL;
		struct stat st;
		int k, m;

		if (stat(argv[i], &st) == 0 && !S_ISDIR(st.st_mode)) {
			failed += run_file(argv[i], ++n);
			continue;
		}
		m = scandir(argv[i], &ents, NULL, alphasort);
		if (m < 0) {
			printf("not ok %d - %s (cannot read corpus)\n", ++n, argv[i]);
			failed++;
			continue;
		}
		for (k = 0; k < m; k++) {
			char path[4096];

			if (ents[k]->d_name[0] != '.') {
				snprintf(path, sizeof(path), "%s/%s", argv[i], ents[k]->d_name);
				failed += run_file(path, ++n);
			}
			free(ents[k]);
		}
		free(ents);
	}
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
