/* SPDX-License-Identifier: BSD-2-Clause */
/* Policy bookkeeping shared by the loader and pol.c, not by users. */
#ifndef POL_INTERNAL_H
#define POL_INTERNAL_H

#include "pol.h"

struct pol_winloc {
	char *name;
	struct pol_loc loc;
};

struct pol_internal {
	struct mg_tz **tz;		/* every zone loaded, owned */
	size_t ntz;
	struct pol_winloc *winloc;	/* where each window was defined */
	size_t nwinloc;
	size_t cap_eng, cap_ten, cap_gra, cap_cred;
};

/* A zeroed policy with its bookkeeping. */
struct pol *pol_internal_new(void);
struct pol_internal *pol_internal(struct pol *p);
int pol_internal_add_winloc(struct pol_internal *in, const char *name,
    struct pol_loc loc);

#endif
