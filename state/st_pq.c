/* SPDX-License-Identifier: BSD-2-Clause */
/* libpq, loaded when the state database is first used: nothing else maps it (the PAM module runs in every sshd session). */
#define ST_PQ_LOADER
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "mg_err.h"
#include "mg_util.h"
#include "st_pq.h"

struct st_pq st_pq_lib;

#define ST_PQ_SYM(f) { #f, offsetof(struct st_pq, f) },
static const struct {
	const char *name;
	size_t off;
} syms[] = {
	ST_PQ_FUNCS(ST_PQ_SYM)
};
#undef ST_PQ_SYM

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int load_rc;
static char load_err[400];

/* dlerror()'s text, or a word when it has none. */
static const char *
dl_why(void)
{
	const char *m = dlerror();

	return m != NULL ? m : "unknown error";
}

int
st_pq_resolve(const char *soname, struct st_pq *t, char *err, size_t errlen)
{
	struct st_pq got;
	void *h, *f;
	size_t i;

	/* Local: libpq's symbols (and its libraries') stay out of the program's scope. */
	if ((h = dlopen(soname, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		mg_seterr(err, errlen, "state.backend \"postgresql\" needs %s: %s "
		    "(install libpq5)", soname, dl_why());
		return MG_ERR_NOENT;
	}
	for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		(void)dlerror();
		if ((f = dlsym(h, syms[i].name)) == NULL) {
			mg_seterr(err, errlen, "state.backend \"postgresql\" needs %s with "
			    "%s: %s (install libpq5)", soname, syms[i].name, dl_why());
			dlclose(h);
			return MG_ERR_NOENT;
		}
		/* POSIX: a function's address as dlsym returns it. */
		memcpy((char *)&got + syms[i].off, &f, sizeof(f));
	}
	*t = got;
	return 0;
}

static void
load_once(void)
{
	load_rc = st_pq_resolve(ST_PQ_SONAME, &st_pq_lib, load_err, sizeof(load_err));
}

int
st_pq_load(char *err, size_t errlen)
{
	if (pthread_once(&once, load_once) != 0) {
		mg_seterr(err, errlen, "state: cannot load %s", ST_PQ_SONAME);
		return MG_ERR_INTERNAL;
	}
	if (load_rc != 0)
		mg_seterr(err, errlen, "%s", load_err);
	return load_rc;
}
