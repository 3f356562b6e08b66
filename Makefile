# SPDX-License-Identifier: BSD-2-Clause
# mspgate: plain GNU make. `make`, `make check`, `make check SAN=address,undefined`.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
DESTDIR ?=

CC ?= cc
SAN ?=
WERROR ?= -Werror
PKG_CONFIG ?= pkg-config

# A sanitizer build keeps its objects apart so the two never mix.
ifeq ($(SAN),)
BUILD ?= build
else
BUILD ?= build/san
endif

WARN := -Wall -Wextra $(WERROR) -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes
ifeq ($(SAN),)
HARDEN := -O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong \
	-fstack-clash-protection -fcf-protection
else
HARDEN := -O1 -fno-omit-frame-pointer -fsanitize=$(SAN) -fno-sanitize-recover=all
SANLD := -fsanitize=$(SAN)
endif

PKGS := libconfig libcrypto
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

# Appended to the caller's flags so dpkg-buildflags still apply.
override CFLAGS += -g -std=gnu11 -D_GNU_SOURCE $(HARDEN) $(WARN) -fPIC \
	$(PKG_CFLAGS)
override LDFLAGS += -Wl,-z,relro,-z,now $(SANLD)
PIE := -pie

# Headers: each layer sees its own and those of the layers below it, never
# one above (gateway -> pam -> state -> recorder -> config -> core): an #include
# that breaks the layering does not compile. pam/ and gateway/ add their
# own below; tests see everything.
INC_CORE := -Icore
INC_CONFIG := $(INC_CORE) -Iconfig
INC := $(INC_CONFIG) -Irecorder
$(BUILD)/obj/core/%.o: private INC := $(INC_CORE)
$(BUILD)/obj/config/%.o: private INC := $(INC_CONFIG)

CORE_SRC := $(wildcard core/*.c)
CONFIG_SRC := $(filter-out config/mspgate-%.c,$(wildcard config/*.c))
CONFIG_PROGS := $(patsubst config/%.c,%,$(wildcard config/mspgate-*.c))
RECORDER_SRC := $(filter-out recorder/mspgate-%.c,$(wildcard recorder/*.c))
RECORDER_PROGS := $(patsubst recorder/%.c,%,$(wildcard recorder/mspgate-*.c))

# One static library per layer, linked top layer first.
LIBCORE := $(BUILD)/lib/libmgcore.a
LIBPOL := $(BUILD)/lib/libmgpol.a
LIBREC := $(BUILD)/lib/libmgrec.a
LIBS := $(if $(RECORDER_SRC),$(LIBREC)) $(LIBPOL) $(LIBCORE)
# state/: the shared state database, linked only by what keeps shared state
# (pam/'s objects, mspgated, mspgate-policy's state commands), never by
# mspgate-keys or the recorder's tools. libpq is not linked at all: its
# header gives the types, and state/st_pq.c loads the library when a
# postgresql backend first connects, so with the files backend no process
# maps it (pam_mspgate.so is in every sshd session).
STATE_SRC := $(wildcard state/*.c)
LIBSTATE := $(BUILD)/lib/libmgstate.a
PQ_CFLAGS := $(shell $(PKG_CONFIG) --cflags libpq 2>/dev/null)
$(BUILD)/obj/state/%.o: private INC := $(INC_CONFIG) -Istate
$(BUILD)/obj/state/%.o: private override CFLAGS += $(PQ_CFLAGS)
PROGS := $(addprefix $(BUILD)/bin/,$(CONFIG_PROGS) $(RECORDER_PROGS)) \
	$(BUILD)/bin/mspgate-keys

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_SEEDRUN := $(patsubst tests/fuzz/%.c,$(BUILD)/tests/fuzz/%,$(FUZZ_SRC))
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))

.PHONY: all check deps demo install clean fuzz bench FORCE
.DELETE_ON_ERROR:
.SECONDARY:

all: $(PROGS)

# Rebuild everything when the flags change.
$(BUILD)/.flags: FORCE
	@mkdir -p $(@D)
	@echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $@ || \
		echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $@

$(BUILD)/obj/%.o: %.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC) -MMD -MP -c -o $@ $<

$(LIBCORE): $(patsubst %.c,$(BUILD)/obj/%.o,$(CORE_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBPOL): $(patsubst %.c,$(BUILD)/obj/%.o,$(CONFIG_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBREC): $(patsubst %.c,$(BUILD)/obj/%.o,$(RECORDER_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(LIBSTATE): $(patsubst %.c,$(BUILD)/obj/%.o,$(STATE_SRC))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# mspgate-policy's state commands (init, migrate, check) use state/.
$(BUILD)/bin/mspgate-policy: $(BUILD)/obj/config/mspgate-policy.o $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(LIBSTATE) $(LIBS) $(PKG_LIBS)
$(BUILD)/obj/config/mspgate-policy.o: private INC := $(INC_CONFIG) -Istate
$(BUILD)/obj/config/mspgate-policy.o: private override CFLAGS += $(PQ_CFLAGS)

# Unit tests of state/ (they start a throwaway PostgreSQL where they need one).
$(BUILD)/tests/unit/test_st_%: $(BUILD)/obj/tests/unit/test_st_%.o $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(LIBSTATE) $(LIBS) $(PKG_LIBS) \
		$(CMOCKA_LIBS)
$(BUILD)/obj/tests/unit/test_st_%.o: private override CFLAGS += -Istate $(PQ_CFLAGS)
# test_st_pqmissing: state/ with a loader that looks for a library that is
# not there (its own st_pq.o, taken before the archive's): how a gateway
# without libpq5 fails.
$(BUILD)/tests/unit/test_st_pqmissing: $(BUILD)/obj/tests/unit/test_st_pqmissing.o \
    $(BUILD)/obj/tests/unit/st_pq_missing.o $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/unit/st_pq_missing.o \
		$(LIBSTATE) $(LIBS) $(PKG_LIBS) $(CMOCKA_LIBS)
$(BUILD)/obj/tests/unit/st_pq_missing.o: state/st_pq.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(INC) -Istate $(PQ_CFLAGS) \
		-DST_PQ_SONAME='"libpq-mspgate-absent.so.5"' -MMD -MP -c -o $@ $<

$(BUILD)/bin/%: $(BUILD)/obj/config/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)

$(BUILD)/bin/%: $(BUILD)/obj/recorder/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS) -lutil

# mspgate-keys runs on every login (AuthorizedKeysCommand): policy only.
$(BUILD)/bin/mspgate-keys: $(BUILD)/obj/gateway/mspgate-keys.o $(LIBPOL) $(LIBCORE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS) $(CMOCKA_LIBS)

# Fuzz targets built with a plain main() that runs the seed corpus.
$(BUILD)/tests/fuzz/%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/seedrun.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/seedrun.o $(LIBS) $(PKG_LIBS)

# The attestation reader lives in pam/ (the MFA library that writes the
# format), and reads each factor's evidence through pam/'s factor table.
# Its $(PAM_LIB_OBJ) prerequisite is added under pam/ below, where that is set.
$(BUILD)/tests/fuzz/fuzz_attest: $(BUILD)/obj/tests/fuzz/fuzz_attest.o $(BUILD)/obj/tests/fuzz/seedrun.o \
		$(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/fuzz/seedrun.o \
		$(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS) $(PKG_LIBS) -loath
$(BUILD)/obj/tests/fuzz/fuzz_attest.o: private override CFLAGS += -Ipam -Istate $(PQ_CFLAGS)

$(BUILD)/obj/tests/fuzz/seedrun.o: tests/lib/seedrun.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

# tests/lib/sk-soft: a software FIDO key for the e2e tests only, never
# installed. ssh's own ssh-sk-helper dlopen()s it and has no sanitizer
# runtime, so it is built without -fsanitize even in a SAN build.
SK_SOFT := $(BUILD)/lib/sk-soft.so
TEST_LIBS += $(SK_SOFT)
$(SK_SOFT): tests/lib/sk-soft/sk-soft.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) -fvisibility=hidden \
		-shared $(filter-out -fsanitize%,$(LDFLAGS)) -Wl,--no-undefined \
		-o $@ $< $(shell $(PKG_CONFIG) --libs libcrypto)
# tests/lib/logshim: syslog lines into a file ($MG_SYSLOG_FILE) for the
# e2e tests, preloaded into the gateway sshd (hosts here have no syslog).
LOGSHIM := $(BUILD)/lib/logshim.so
TEST_LIBS += $(LOGSHIM)
$(LOGSHIM): tests/lib/logshim/logshim.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) -fvisibility=hidden \
		-shared $(filter-out -fsanitize%,$(LDFLAGS)) -Wl,--no-undefined -o $@ $<
# tests/lib/faultshim: spoils one message between mspgated and a session
# process when a file asks, for tests/e2e/gw_child_faults.sh; never installed.
FAULTSHIM := $(BUILD)/lib/faultshim.so
TEST_LIBS += $(FAULTSHIM)
$(FAULTSHIM): tests/lib/faultshim/faultshim.c $(BUILD)/.flags
	@mkdir -p $(@D)
	$(CC) $(filter-out -fsanitize% -fno-sanitize%,$(CFLAGS)) -fvisibility=hidden \
		-shared $(filter-out -fsanitize%,$(LDFLAGS)) -Wl,--no-undefined -o $@ $<
# tests/lib/attest-run: plays sshd's monitor (a login attestation written
# with pam_mspgate's own writer) for gateway tests that run mspgate-shell
# without sshd; never installed.
ATTEST_RUN := $(BUILD)/tests/lib/attest-run
TEST_LIBS += $(ATTEST_RUN)
$(ATTEST_RUN): $(BUILD)/obj/tests/lib/attest-run.o $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS) \
		$(PKG_LIBS) -loath
$(BUILD)/obj/tests/lib/attest-run.o: private override CFLAGS += -Ipam -Istate $(PQ_CFLAGS)
# tests/lib/broker-run: pam/mfa_broker.c's broker alone, as mspgated runs it,
# for tests/pam/state_pg.sh and the PAM benchmark; never installed.
BROKER_RUN := $(BUILD)/tests/lib/broker-run
TEST_LIBS += $(BROKER_RUN)
$(BROKER_RUN): $(BUILD)/obj/tests/lib/broker-run.o $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS) \
		$(PKG_LIBS) -loath
$(BUILD)/obj/tests/lib/broker-run.o: private override CFLAGS += -Ipam -Istate $(PQ_CFLAGS)
check: $(TEST_LIBS)

check: all $(UNIT_TESTS) $(FUZZ_SEEDRUN)
	@MG_BUILD=$(BUILD) MG_VALGRIND=$(VALGRIND) sh tests/run.sh

# libFuzzer builds (clang): `make fuzz`, then build/fuzz/fuzz_X tests/fuzz/corpus/X
fuzz:
	$(MAKE) CC=clang SAN=address,undefined,fuzzer-no-link BUILD=build/fuzzobj all-libs-only
	@mkdir -p build/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
		echo clang ... -o build/fuzz/$$n; \
		clang -g -O1 -fsanitize=address,undefined,fuzzer $(INC) -Ipam -Istate \
		-D_GNU_SOURCE $(PKG_CFLAGS) $(PQ_CFLAGS) -o build/fuzz/$$n $$f \
		$$([ $$n = fuzz_attest ] && echo $(PAM_LIB_SRC) $(STATE_SRC)) \
		$(if $(RECORDER_SRC),build/fuzzobj/lib/libmgrec.a) build/fuzzobj/lib/libmgpol.a \
		build/fuzzobj/lib/libmgcore.a \
		$(PKG_LIBS) $$([ $$n = fuzz_attest ] && echo -loath) || exit 1; done

.PHONY: all-libs-only
all-libs-only: $(LIBS)

# Debian packages from Build-Depends, then the web player for
# `mspgate-replay export --html` (npm registry, hash-checked) when npm exists.
deps:
	@sh tests/lib/deps.sh debian/control
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory BUILD=build player; \
	else echo "deps: npm not found: export --html needs 'make player' later"; fi

demo: all $(TEST_LIBS)
	@sh tests/lib/demo.sh $(BUILD)

bench: all
	@if [ -x tests/bench/run.sh ]; then sh tests/bench/run.sh $(BUILD); \
	else echo "no benchmarks yet"; fi

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/mspgate
	for p in $(filter-out %/mspgate-keys,$(PROGS)); do install -m 0755 $$p $(DESTDIR)$(BINDIR)/; done
	for m in man/*.1; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man1/; done; true
	for m in man/*.5; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/; done; true
	install -m 0644 config/examples/mspgate.conf $(DESTDIR)$(SYSCONFDIR)/mspgate/mspgate.conf.example
	if [ -f $(BUILD)/player/asciinema-player.min.js ]; then \
		install -d $(DESTDIR)$(PREFIX)/share/mspgate/player && \
		install -m 0644 $(BUILD)/player/* $(DESTDIR)$(PREFIX)/share/mspgate/player/; fi

clean:
	rm -rf build

# asciinema-player for `mspgate-replay export --html` (fetched from the npm
# registry at build time, checked against its hash, never in git): make player
PLAYER_VERSION := 3.18.0
PLAYER_SHA256 := 18d9703510fae9209da9e26ce3d13c59f083b4abcff003a3bba958e03918a862
.PHONY: player
player: $(BUILD)/player/asciinema-player.min.js
$(BUILD)/player/asciinema-player.min.js:
	@rm -rf $(BUILD)/player && mkdir -p $(BUILD)/player/tmp
	cd $(BUILD)/player/tmp && npm pack --silent asciinema-player@$(PLAYER_VERSION)
	echo "$(PLAYER_SHA256)  $(BUILD)/player/tmp/asciinema-player-$(PLAYER_VERSION).tgz" | sha256sum -c -
	tar -xzf $(BUILD)/player/tmp/asciinema-player-$(PLAYER_VERSION).tgz -C $(BUILD)/player/tmp
	cp $(BUILD)/player/tmp/package/dist/bundle/asciinema-player.min.js \
	   $(BUILD)/player/tmp/package/dist/bundle/asciinema-player.css \
	   $(BUILD)/player/tmp/package/LICENSE $(BUILD)/player/
	rm -rf $(BUILD)/player/tmp

# ---------------------------------------------------------------------
# pam/: pam_mspgate.so and mspgate-enroll (issue 4).
# The module runs inside sshd, sudo and login: its own code is built
# -fvisibility=hidden and the version script exports pam_sm_* only (the
# static libraries linked in are hidden by the script too). -z nodelete:
# it stays loaded when libpam closes a handle, so a long-running PAM
# application parses the policy once per change (pam/mfa_polcache.c).
PAM_LIB_SRC := $(filter-out pam/pam_mspgate.c pam/mfa_pam.c pam/mspgate-%.c,$(wildcard pam/*.c))
PAM_LIB_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(PAM_LIB_SRC))
PAM_MODULE := $(BUILD)/lib/security/pam_mspgate.so
PAM_ENROLL := $(BUILD)/bin/mspgate-enroll
PAM_MODLIBS := -lpam -loath
PAM_DRIVER := $(BUILD)/tests/pam/mgpam
PAMDIR ?= /lib/$(shell $(CC) -print-multiarch 2>/dev/null)/security
# A sanitizer runtime is not linked into shared objects by every compiler.
PAM_NOUNDEF := $(if $(SAN),,-Wl,--no-undefined)

$(BUILD)/obj/pam/%.o: private override CFLAGS += -fvisibility=hidden -Ipam -Istate \
	$(PQ_CFLAGS)

PAM_MOD_OBJ := $(BUILD)/obj/pam/pam_mspgate.o $(BUILD)/obj/pam/mfa_pam.o $(PAM_LIB_OBJ)
$(PAM_MODULE): $(PAM_MOD_OBJ) $(LIBSTATE) $(LIBS) pam/pam_mspgate.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared $(LDFLAGS) $(PAM_NOUNDEF) \
		-Wl,--version-script=pam/pam_mspgate.map -Wl,-z,nodelete -o $@ \
		$(PAM_MOD_OBJ) $(LIBSTATE) $(LIBS) $(PKG_LIBS) $(PAM_MODLIBS)
# tests/lib/pam_mspgate-nopq.so: the module whose libpq loader looks for a
# library that is not there (tests/pam/nopq.sh: a postgresql backend on a
# host without libpq5 refuses codes); never installed.
PAM_NOPQ := $(BUILD)/tests/lib/pam_mspgate-nopq.so
check: $(PAM_NOPQ)
$(PAM_NOPQ): $(PAM_MOD_OBJ) $(BUILD)/obj/tests/unit/st_pq_missing.o $(LIBSTATE) $(LIBS) \
    pam/pam_mspgate.map
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -shared $(LDFLAGS) $(PAM_NOUNDEF) \
		-Wl,--version-script=pam/pam_mspgate.map -Wl,-z,nodelete -o $@ \
		$(PAM_MOD_OBJ) $(BUILD)/obj/tests/unit/st_pq_missing.o $(LIBSTATE) $(LIBS) \
		$(PKG_LIBS) $(PAM_MODLIBS)

$(PAM_ENROLL): $(BUILD)/obj/pam/mspgate-enroll.o $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS) \
		$(PKG_LIBS) $(PAM_MODLIBS) -lqrencode

# Unit tests of pam/ link its objects; the PAM driver drives the real libpam.
$(BUILD)/tests/unit/test_pam_%: $(BUILD)/obj/tests/unit/test_pam_%.o $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS) \
		$(PKG_LIBS) $(PAM_MODLIBS) $(CMOCKA_LIBS)
$(BUILD)/obj/tests/unit/test_pam_%.o: private override CFLAGS += -Ipam -Istate $(PQ_CFLAGS)
# The attestation's readers outside pam/ link its objects too (see above).
$(BUILD)/tests/fuzz/fuzz_attest $(ATTEST_RUN) $(BROKER_RUN): $(PAM_LIB_OBJ)

$(PAM_DRIVER): $(BUILD)/obj/tests/pam/mgpam.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< -lpam

# make bench: logins in one process (tests/bench/pam.sh)
$(BUILD)/tests/bench/pamloop: $(BUILD)/obj/tests/bench/pamloop.o
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< -lpam
bench: $(BUILD)/tests/bench/pamloop $(BROKER_RUN)
# make bench: rec_writer_output in one process (tests/bench/recorder.sh)
$(BUILD)/tests/bench/recwrite: $(BUILD)/obj/tests/bench/recwrite.o $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)
bench: $(BUILD)/tests/bench/recwrite

.PHONY: pam install-pam
pam: $(PAM_MODULE) $(PAM_ENROLL)
all: pam
check: pam $(PAM_DRIVER)
install: install-pam
install-pam: pam
	install -d $(DESTDIR)$(PAMDIR) $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0644 $(PAM_MODULE) $(DESTDIR)$(PAMDIR)/
	install -m 0755 $(PAM_ENROLL) $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/pam_mspgate.8 man/mspgate-enroll.8 $(DESTDIR)$(MANDIR)/man8/
# end of pam/
# ---------------------------------------------------------------------

# ---------------------------------------------------------------------
# gateway/: mspgated and mspgate-shell (issue 5).
# libssh is linked here only, not through PKGS: it must stay out of the PAM
# module (which runs inside sshd) and the other tools.
GW_SRC := $(filter-out gateway/mspgate%.c,$(wildcard gateway/*.c))
GW_OBJ := $(patsubst %.c,$(BUILD)/obj/%.o,$(GW_SRC))
LIBGW := $(BUILD)/lib/libmggw.a
GW_PROGS := $(BUILD)/bin/mspgated $(BUILD)/bin/mspgate-shell $(BUILD)/bin/mspgatectl
GW_SSH_CFLAGS := $(shell $(PKG_CONFIG) --cflags libssh 2>/dev/null)
GW_LIBS := $(LIBGW) $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS) \
	$(shell $(PKG_CONFIG) --libs libssh 2>/dev/null) $(PKG_LIBS) -lutil -loath

# The gateway re-checks TOTP codes itself (alerts.*.action = "reauth") with
# pam/'s store and replay logic: linked, not copied.
$(BUILD)/obj/gateway/%.o $(BUILD)/obj/tests/unit/test_gw_%.o: \
	private override CFLAGS += -Igateway -Ipam -Istate $(PQ_CFLAGS) $(GW_SSH_CFLAGS)

$(LIBGW): $(GW_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/gateway/%.o $(LIBGW) $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(GW_LIBS)

# tests/lib/mspgated-nopq: mspgated whose libpq loader looks for a library
# that is not there (tests/e2e/gw_nopq: it does not start); never installed.
MSPGATED_NOPQ := $(BUILD)/tests/lib/mspgated-nopq
check: $(MSPGATED_NOPQ)
$(MSPGATED_NOPQ): $(BUILD)/obj/gateway/mspgated.o $(BUILD)/obj/tests/unit/st_pq_missing.o \
    $(LIBGW) $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(BUILD)/obj/tests/unit/st_pq_missing.o \
		$(GW_LIBS)

# mspgatectl talks to the control socket and reads the policy for its path,
# and, with the state in PostgreSQL, the state database (every gateway's
# sessions); watch reads a recording (the recorder's reader and filter):
# the policy, state, recorder and core libraries, libconfig and libcrypto
# (libpq when it connects), nothing of libssh, liboath or pam/.
$(BUILD)/bin/mspgatectl: $(BUILD)/obj/gateway/mspgatectl.o \
    $(BUILD)/obj/gateway/mspgatectl-watch.o $(LIBSTATE) $(LIBREC) $(LIBPOL) $(LIBCORE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $^ $(PKG_LIBS)

# mspgate-shell stays alive beside every session (it reports the exit
# status to sshd): linked with only what it uses, so each one costs a few
# hundred KiB less than with libssh, libcrypto and libconfig mapped in.
SHELL_OBJ := $(BUILD)/obj/gateway/gw_msg.o $(BUILD)/obj/gateway/gw_request.o
$(BUILD)/bin/mspgate-shell: $(BUILD)/obj/gateway/mspgate-shell.o $(SHELL_OBJ) $(LIBCORE)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/unit/test_gw_%: $(BUILD)/obj/tests/unit/test_gw_%.o $(LIBGW) $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(GW_LIBS) $(CMOCKA_LIBS)

# make tsan: the unit tests of code that runs beside another thread,
# built with -fsanitize=thread in build/tsan (objects apart, as SAN=
# builds are) and run; any race report fails the run. test_gw_outq: the
# relay's engineer-bound queue against its writer thread (gw_relay.c).
# test_gw_audq: the daemon's audit queue (gw_audq.c; a writer process
# today, no thread, so a thread added there is checked too).
# test_recorder_async: the recording's own thread (rec_writer.c, async),
# which hashes and writes a session's recording beside its relay. pam/'s
# caches (mfa_keycache.c, mfa_polcache.c) hold a mutex but have no test
# that runs threads. Not part of make check: the tests take about 5 s,
# but the third tree of objects costs about 30 s on 2 cores (more on a
# busy machine); run it after touching gw_relay.c, gw_audq.c or the
# writer's thread in rec_writer.c. gcc's
# -Wmaybe-uninitialized gives false positives at -O1 with TSan's
# instrumentation, so here it warns without failing the build.
TSAN_TESTS := unit/test_gw_outq unit/test_gw_audq unit/test_recorder_async
.PHONY: tsan
tsan:
	@$(MAKE) --no-print-directory SAN=thread BUILD=build/tsan \
		WERROR="$(WERROR) -Wno-error=maybe-uninitialized" \
		$(addprefix build/tsan/tests/,$(TSAN_TESTS))
	@MG_BUILD=build/tsan MG_NO_SKIP=1 \
		TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 $$TSAN_OPTIONS" \
		sh tests/run.sh $(TSAN_TESTS)

# The alert examples in doc/ALERTS.md and mspgate.conf(5), printed from real
# detector runs (issue 21); tests/cli/docs.sh compares them with the docs.
ALERT_EXAMPLES := $(BUILD)/tests/docs/alert-examples
$(BUILD)/obj/tests/docs/%.o: private override CFLAGS += -Igateway -Ipam -Istate $(PQ_CFLAGS)
$(ALERT_EXAMPLES): $(BUILD)/obj/tests/docs/alert_examples.o $(LIBGW) $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(GW_LIBS)
check: $(ALERT_EXAMPLES)

.PHONY: gateway install-gateway
gateway: $(GW_PROGS)
install: install-gateway
install-gateway: gateway $(BUILD)/bin/mspgate-keys
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(PREFIX)/share/mspgate
	install -m 0755 $(GW_PROGS) $(BUILD)/bin/mspgate-keys $(DESTDIR)$(SBINDIR)/
	install -m 0644 man/mspgated.8 man/mspgate-shell.8 man/mspgatectl.8 \
		man/mspgate-keys.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 gateway/sshd_config.in $(DESTDIR)$(PREFIX)/share/mspgate/
all: gateway
check: gateway

# mspgate-signer (issue 18): holds the tenants' CA keys, signs per-session
# certificates. Linked with the policy, the audit writer and libcrypto, and
# pam/'s objects for the login attestations it reads (mfa_attest_load; their
# factors' evidence checks bring in the rest of pam/ and its libraries); no
# libssh.
SIGNER := $(BUILD)/bin/mspgate-signer
SIGNER_OBJ := $(BUILD)/obj/gateway/gw_signer.o $(BUILD)/obj/gateway/gw_signmsg.o \
	$(BUILD)/obj/gateway/gw_ratelim.o
$(SIGNER): $(BUILD)/obj/gateway/mspgate-signer.o $(SIGNER_OBJ) $(PAM_LIB_OBJ) $(LIBSTATE) $(LIBS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PIE) $(LDFLAGS) -o $@ $< $(SIGNER_OBJ) $(PAM_LIB_OBJ) $(LIBSTATE) \
	    $(LIBS) $(PKG_LIBS) -loath
gateway: $(SIGNER)
install-gateway: install-signer
.PHONY: install-signer
install-signer: $(SIGNER)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(SIGNER) $(DESTDIR)$(SBINDIR)/
	if [ -f man/mspgate-signer.8 ]; then install -m 0644 man/mspgate-signer.8 $(DESTDIR)$(MANDIR)/man8/; fi
# end of gateway/
# ---------------------------------------------------------------------

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)

# ---------------------------------------------------------------------
# Debian packages (issue 9): `make deb` runs dpkg-buildpackage -us -uc -b
# (objects in debian/build, so build/ is left alone; -Werror off, flags from
# dpkg-buildflags: see debian/rules) and moves the .deb (and -dbgsym),
# .changes and .buildinfo files from the parent directory into build/deb/.
# DEB_BUILD_OPTIONS (parallel=N, nocheck) is passed through.
.PHONY: deb
deb:
	dpkg-buildpackage -us -uc -b --post-clean
	@v=$$(dpkg-parsechangelog -SVersion); a=$$(dpkg-architecture -qDEB_HOST_ARCH); \
	mkdir -p build/deb && \
	for p in libpam-mspgate mspgate-gateway mspgate-tools; do \
		for f in ../$${p}_$${v}_$${a}.deb ../$${p}-dbgsym_$${v}_$${a}.deb \
			../$${p}-dbgsym_$${v}_$${a}.ddeb; do \
			if [ -e "$$f" ]; then mv -f "$$f" build/deb/ || exit 1; fi; done; done; \
	mv -f ../mspgate_$${v}_$${a}.changes ../mspgate_$${v}_$${a}.buildinfo build/deb/ && \
	echo "deb: packages in build/deb/ (lintian build/deb/mspgate_$${v}_$${a}.changes)"
# end of Debian packages
# ---------------------------------------------------------------------
