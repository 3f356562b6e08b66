/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The policy loader's private contract, shared by pol_load.c (the driver)
 * and pol_load_*.c (messages, typed getters, files, one file a section).
 * Nothing outside config/pol_load*.c includes it; the public API is pol.h.
 * pl_ names are the loader's own helpers.
 */
#ifndef POL_LOAD_PRIV_H
#define POL_LOAD_PRIV_H

#include <libconfig.h>
#include <stddef.h>
#include <time.h>

#include "mg_addr.h"
#include "mg_diag.h"
#include "pol.h"
#include "pol_internal.h"

/* A policy file larger than this is refused: it is hand-written text. */
#define POL_MAX_FILE	(4 * 1024 * 1024)
/* How deep @include may nest, and how many files one policy may have. */
#define POL_MAX_DEPTH	8
#define POL_MAX_FILES	512
/* Longest list of strings we accept anywhere (logins, groups...). */
#define POL_MAX_LIST	4096

/* One parsed file, kept until the whole policy is built. */
struct src {
	config_t cfg;
	const char *file;	/* owned by pol->files */
};

struct ctx {
	struct pol *p;
	struct mg_diag *diag;
	int errors;
	struct src *srcs;
	size_t nsrcs;
	/* where gateway, mfa, pam, alerts and state were first seen (each at most once) */
	struct pol_loc seen_gateway, seen_mfa, seen_pam, seen_alerts, seen_state, seen_signer;
	const config_setting_t *pam_tenant;	/* resolved once tenants are loaded */
};

enum ktype { K_STR, K_INT, K_BOOL, K_STRLIST, K_GROUP, K_LIST, K_ANY };

struct keyspec {
	const char *name;
	enum ktype type;
	int required;
};

/* pol_load_msg.c */
void pl_err_at(struct ctx *c, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void pl_err_set(struct ctx *c, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct pol_loc pl_loc_of(const struct ctx *c, const config_setting_t *s);
const char *pl_type_name(int type);
char *pl_xstrdup(struct ctx *c, const char *s);
void *pl_xgrow(struct ctx *c, void *ptr, size_t *cap, size_t n, size_t size);
void pl_strv_free(char **v, size_t n);
void pl_already(struct ctx *c, const config_setting_t *g, const char *what,
    struct pol_loc first);
/* pol_load_get.c */
int pl_check_keys(struct ctx *c, const config_setting_t *g, const struct keyspec *spec,
    const char *what);
const config_setting_t *pl_member(const config_setting_t *g, const char *name, enum ktype k);
const char *pl_get_str(const config_setting_t *g, const char *name);
int pl_get_mfa(struct ctx *c, const config_setting_t *g, const char *what, unsigned *out);
int pl_get_strlist(struct ctx *c, const config_setting_t *g, const char *name,
    const char *what, char ***out, size_t *nout);
const config_setting_t *pl_strlist_elem(const config_setting_t *g, const char *name, size_t i);
int pl_get_int(struct ctx *c, const config_setting_t *g, const char *name,
    long long lo, long long hi, long long *out);
int pl_get_duration(struct ctx *c, const config_setting_t *g, const char *name,
    int64_t *out);
int pl_get_size(struct ctx *c, const config_setting_t *g, const char *name,
    int64_t *out);
int pl_get_date(struct ctx *c, const config_setting_t *g, const char *name, int is_end,
    time_t *out);
int pl_path_ok(const char *s);
int pl_set_path(struct ctx *c, const config_setting_t *g, const char *name, char **dst);
/* A system account's name (gateway.user, signer.user) into *dst when given. */
void pl_set_user(struct ctx *c, const config_setting_t *g, const char *name, char **dst);
int pl_str_in(char *const *v, size_t n, const char *s);
int pl_get_cidrs(struct ctx *c, const config_setting_t *g, const char *what,
    struct mg_cidr **out, size_t *nout);
/* pol_load_file.c */
int pl_add_file(struct ctx *c, const char *path, const char **stored);
int pl_read_text(struct ctx *c, char *buf, const char *file, int depth);
/* pol_load_gateway.c */
void pl_load_gateway(struct ctx *c, const config_setting_t *g);
void pl_load_mfa(struct ctx *c, const config_setting_t *g);
void pl_load_pam(struct ctx *c, const config_setting_t *g);
/* pol_load_window.c */
struct mg_tz *pl_tz_get(struct ctx *c, const config_setting_t *where, const char *name);
void pl_load_windows(struct ctx *c, const config_setting_t *g);
int pl_resolve_windows(struct ctx *c, const config_setting_t *g, const char *what,
    const struct pol_window ***out, size_t *nout);
/* pol_load_engineer.c */
void pl_load_engineer(struct ctx *c, const config_setting_t *g);
/* pol_load_tenant.c */
void pl_load_tenant(struct ctx *c, const config_setting_t *g);
/* pol_load_grant.c */
void pl_load_grant(struct ctx *c, const config_setting_t *g);
/* pol_load_alert.c */
void pl_load_alerts(struct ctx *c, const config_setting_t *g);
/* pol_load_state.c */
void pl_load_state(struct ctx *c, const config_setting_t *g);
/* pol_load_credential.c */
void pl_load_credential(struct ctx *c, const config_setting_t *g);
void pl_check_credentials(struct ctx *c);
void pl_load_signer(struct ctx *c, const config_setting_t *g);
/* pol_load.c */
int pl_once(struct ctx *c, const config_setting_t *s, struct pol_loc *seen);

#endif
