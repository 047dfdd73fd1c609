# libhcs - the Host Compute Service as an embeddable C library for Linux.
#
#   make            build build/libhcs.so.0 and build/libhcs.a
#   make check      build and run every test suite; ends with "N passed, N failed"
#   make demo       install missing packages (as root), build, run the demo
#   make deps       install missing Debian packages (root), or print the command
#   make install    PREFIX=/usr/local DESTDIR= : header, libraries, hcs.pc, man pages, programs
#                   (hcsdiag in BINDIR; hcsmon and hcsreg, for container images, in LIBEXECDIR)
#   make format     clang-format in place      make lint   clang-tidy + cppcheck on lib/
#   make bindings   regenerate bindings/go/zhcs.go and bindings/csharp/Native.g.cs from hcs.h
#   make bench      benchmarks (ratios against peers measured in the same run)
#
# Variables: CC, CFLAGS (default -O2 -g), BUILD (output folder, default build), SANITIZE=1 (ASan +
# UBSan build in build-asan), CI=true or WERROR=1 (warnings are errors).

VERSION_MAJOR := $(shell sed -n 's/^\#define HCS_VERSION_MAJOR \([0-9]*\)$$/\1/p' include/hcs.h)
VERSION_MINOR := $(shell sed -n 's/^\#define HCS_VERSION_MINOR \([0-9]*\)$$/\1/p' include/hcs.h)
VERSION_PATCH := $(shell sed -n 's/^\#define HCS_VERSION_PATCH \([0-9]*\)$$/\1/p' include/hcs.h)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
SONAME := libhcs.so.$(VERSION_MAJOR)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
LIBEXECDIR ?= $(PREFIX)/libexec/hcs
MANDIR ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig

CC ?= cc
CXX ?= c++
CFLAGS ?= -O2 -g
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD ?= build-asan
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
else
BUILD ?= build
SAN_FLAGS :=
endif

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla \
	-Wpointer-arith -Wcast-qual -Wno-missing-field-initializers
ifneq ($(filter true 1,$(CI) $(WERROR)),)
WARN += -Werror
endif

PKGS := libcjson libarchive nettle
MONITOR_PKGS := libcap
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -larchive -lnettle)

ALL_CFLAGS := -std=c11 -D_GNU_SOURCE -Iinclude -Ilib $(PKG_CFLAGS) $(WARN) -fPIC \
	-DHCS_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-fvisibility=hidden -pthread $(SAN_FLAGS) $(CFLAGS)
LIBS := $(PKG_LIBS) -pthread
MONITOR_LIBS := $(shell pkg-config --libs $(MONITOR_PKGS) 2>/dev/null || echo -lcap)

# The library proper, and the modules only the monitor (hcsmon) runs: job objects, silos,
# namespaces. hcsmon links both archives; libhcs.so carries only the first.
MONITOR_MODULES := job ns silo monitor
MONITOR_SRCS := $(sort $(wildcard $(MONITOR_MODULES:%=lib/%/*.c)))
LIB_SRCS := $(filter-out $(MONITOR_SRCS),$(sort $(wildcard lib/*/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)
MONITOR_LIB_SRCS := $(filter-out lib/monitor/main.c,$(MONITOR_SRCS))
MONITOR_LIB_OBJS := $(MONITOR_LIB_SRCS:%.c=$(BUILD)/%.o)
MONITOR_LIB := $(BUILD)/libhcs-monitor.a
MONITOR := $(BUILD)/hcsmon

SHLIB := $(BUILD)/libhcs.so.$(VERSION)
STLIB := $(BUILD)/libhcs.a

# Test suites: one binary per folder under test/unit/ (no privileges) and test/integration/
# (root: real namespaces, cgroups, mounts; skipped with a reason when not root).
UNIT_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard test/unit/*/*.c))))
UNIT_BINS := $(foreach d,$(UNIT_DIRS),$(BUILD)/test/unit-$(notdir $(d)))
INTEGRATION_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard test/integration/*/*.c))))
INTEGRATION_BINS := $(foreach d,$(INTEGRATION_DIRS),$(BUILD)/test/integration-$(notdir $(d)))
TEST_LIB_SRCS := $(wildcard test/lib/*.c)
CHECK_CFLAGS := $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lrt -lm)

EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
MAN_PAGES := $(wildcard man/man*/*.[0-9])
# bindgen is a tool for building libhcs, not installed: neither is its page.
INSTALL_MAN_PAGES := $(filter-out man/man1/bindgen.1,$(MAN_PAGES))

.PHONY: all check check-unit check-asan check-fuzz demo deps install uninstall format \
	format-check lint bench clean examples bindings
.DELETE_ON_ERROR:

HCSDIAG := $(BUILD)/hcsdiag
HCSDIAG_SRCS := $(sort $(wildcard tools/hcsdiag/*.c))
HCSREG := $(if $(wildcard tools/hcsreg/*.c),$(BUILD)/hcsreg)
BINDGEN := $(BUILD)/bindgen
BINDGEN_SRCS := $(sort $(wildcard tools/bindgen/*.c))
# The generated binding layers (make bindings); make check fails when they are stale.
GO_GEN := bindings/go/zhcs.go
CS_GEN := bindings/csharp/Native.g.cs

all: $(BUILD)/$(SONAME) $(BUILD)/libhcs.so $(STLIB) $(MONITOR) $(HCSDIAG) $(HCSREG)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

-include $(LIB_OBJS:.o=.d) $(MONITOR_LIB_OBJS:.o=.d) $(BUILD)/lib/monitor/main.d

# -z nodelete: library worker threads may outlive a dlclose() (a runtime unloading a P/Invoke
# or cgo library); the code they run must stay mapped.
$(SHLIB): $(LIB_OBJS) lib/libhcs.map
	$(CC) $(ALL_CFLAGS) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=lib/libhcs.map \
		-Wl,-z,defs -Wl,-z,relro -Wl,-z,now -Wl,-z,nodelete -o $@ $(LIB_OBJS) $(LIBS)

$(BUILD)/$(SONAME): $(SHLIB)
	ln -sf $(notdir $<) $@

$(BUILD)/libhcs.so: $(BUILD)/$(SONAME)
	ln -sf $(SONAME) $@

$(STLIB): $(LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(MONITOR_LIB): $(MONITOR_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^ $(if $^,,--)

# hcsmon: one per compute system, exec'd by the library (never linked into it).
$(MONITOR): $(BUILD)/lib/monitor/main.o $(MONITOR_LIB) $(STLIB)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(MONITOR_LIB) $(STLIB) $(MONITOR_LIBS) $(LIBS)

# hcsdiag: the command-line tool (tools/hcsdiag). Linked with the static library: it uses the
# public API, and lib/layer directly for what the API cannot express (import progress).
$(HCSDIAG): $(HCSDIAG_SRCS) $(wildcard tools/hcsdiag/*.h) $(STLIB)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools/hcsdiag -o $@ $(HCSDIAG_SRCS) $(STLIB) $(LIBS)

# hcsreg: the registry client run inside containers (reg.exe-like). Static, with no library:
# it runs in any container root, and only sends its arguments to the monitor's socket.
$(BUILD)/hcsreg: $(wildcard tools/hcsreg/*.c)
	@mkdir -p $(@D)
	$(CC) -std=c11 -D_GNU_SOURCE $(WARN) -O2 -static -o $@ $^

# bindgen: reads include/hcs.h through clang's own parse and writes the Go and C# layers.
$(BINDGEN): $(BINDGEN_SRCS) $(wildcard tools/bindgen/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itools/bindgen -o $@ $(BINDGEN_SRCS) $(LIBS)

bindings: $(BINDGEN)
	$(BINDGEN) --go $(GO_GEN) --cs $(CS_GEN) include/hcs.h

# hcs.pc is written at install time so that it always holds the PREFIX installed to.
define write_pc
sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	-e 's|@VERSION@|$(VERSION)|' -e 's|@REQUIRES@|$(PKGS)|' hcs.pc.in
endef

# --- tests -----------------------------------------------------------------------------------

define test_rule
$(BUILD)/test/$(2)-$(notdir $(1)): $(wildcard $(1)/*.c $(1)/*.h) $(TEST_LIB_SRCS) $(wildcard test/lib/*.h) $(STLIB) $(MONITOR_LIB) $(MONITOR)
	@mkdir -p $$(@D)
	$$(CC) $$(ALL_CFLAGS) $$(CHECK_CFLAGS) -Itest/lib -o $$@ $(wildcard $(1)/*.c) $(TEST_LIB_SRCS) \
		$(MONITOR_LIB) $(STLIB) $$(CHECK_LIBS) $$(MONITOR_LIBS) $$(LIBS)
endef
$(foreach d,$(UNIT_DIRS),$(eval $(call test_rule,$(d),unit)))
# The registry suites run hcsreg (beside the test binaries' folder) against a socket.
$(BUILD)/test/unit-registry $(BUILD)/test/integration-system: $(HCSREG)
$(foreach d,$(INTEGRATION_DIRS),$(eval $(call test_rule,$(d),integration)))

$(BUILD)/examples/%: examples/%.c $(BUILD)/$(SONAME) $(BUILD)/libhcs.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(BUILD) -lhcs -Wl,-rpath,'$$ORIGIN/..'

examples: $(EXAMPLE_BINS)

TAP := $(BUILD)/tap
RUN_SUITE := test/run-suite.sh $(TAP)

# Every suite writes TAP into $(TAP)/<suite>.tap; test/summary.sh sums them in one closing line
# and fails when any test failed or any suite did not run to its end.
check: all $(UNIT_BINS) $(INTEGRATION_BINS) examples $(if $(BINDGEN_SRCS),$(BINDGEN))
	@rm -rf $(TAP) && mkdir -p $(TAP)
	@for b in $(UNIT_BINS) $(INTEGRATION_BINS); do $(RUN_SUITE) $$(basename $$b) $$b; done
	@HCS_LAYER_BACKEND=copy $(RUN_SUITE) integration-layer-copy $(BUILD)/test/integration-layer
	@HCS_LAYER_BACKEND=copy CK_RUN_SUITE=system_layers $(RUN_SUITE) integration-system-layers-copy \
		$(BUILD)/test/integration-system
	@$(RUN_SUITE) header test/header/run.sh "$(CC)" "$(CXX)"
	@$(RUN_SUITE) abi test/abi/run.sh $(BUILD)
	@$(RUN_SUITE) man test/man/run.sh $(MAN_PAGES)
	@$(RUN_SUITE) examples test/examples/run.sh $(BUILD)
	@$(RUN_SUITE) hcsdiag test/hcsdiag/run.sh $(BUILD)
	@$(if $(wildcard test/bindings/run.sh),$(RUN_SUITE) bindings test/bindings/run.sh $(BUILD))
	@$(if $(wildcard bindings/go/run-tests.sh),$(RUN_SUITE) go bindings/go/run-tests.sh $(BUILD))
	@$(if $(wildcard bindings/csharp/run-tests.sh),$(RUN_SUITE) csharp bindings/csharp/run-tests.sh $(BUILD))
ifneq ($(SANITIZE),1)
	@$(MAKE) --no-print-directory check-asan-suites TAP_OUT=$(abspath $(TAP))
	@$(RUN_SUITE) fuzz test/fuzz/run.sh $(BUILD)/fuzz
endif
	@test/summary.sh $(TAP)

# The same unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (leaks fail a test).
check-asan-suites:
	@$(MAKE) --no-print-directory SANITIZE=1 CFLAGS="-O1 -g" all-unit
	@for b in $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_BINS)); do \
		$(RUN_SUITE) asan-$$(basename $$b) $$b; done

all-unit: all $(UNIT_BINS)

# libFuzzer targets (clang): built and run briefly by check; longer runs by hand:
#   make fuzz && build/fuzz/fuzz_documents -max_total_time=600 fuzz/corpus/documents
FUZZ_SRCS := $(wildcard fuzz/*.c)
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
fuzz: $(FUZZ_BINS)
$(BUILD)/fuzz/%: fuzz/%.c $(LIB_SRCS) $(wildcard lib/*/*.h) include/hcs.h
	@mkdir -p $(@D)
	clang -std=c11 -D_GNU_SOURCE -Iinclude -Ilib $(PKG_CFLAGS) $(WARN) -g -O1 -pthread \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -o $@ $< $(LIB_SRCS) \
		$(PKG_LIBS)
check: $(if $(filter 1,$(SANITIZE)),,$(FUZZ_BINS))

# --- demo, deps, install -----------------------------------------------------------------------

deps:
	@tools/install-deps

demo: deps
	@$(MAKE) --no-print-directory all examples
	@HCSREG=$(BUILD)/hcsreg tools/mkroot $(BUILD)/demo-root
	@tar --zstd -cf $(BUILD)/demo-base.tar.zst -C $(BUILD)/demo-root .
	@$(BUILD)/examples/demo $(BUILD)/demo-base.tar.zst

install: all
	install -d $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 644 include/hcs.h $(DESTDIR)$(INCLUDEDIR)/hcs.h
	install -m 755 $(SHLIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libhcs.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libhcs.so
	install -m 644 $(STLIB) $(DESTDIR)$(LIBDIR)/libhcs.a
	$(write_pc) > $(DESTDIR)$(PKGCONFIGDIR)/hcs.pc
	for p in $(INSTALL_MAN_PAGES); do \
		s=$$(basename $$(dirname $$p)); install -d $(DESTDIR)$(MANDIR)/$$s; \
		install -m 644 $$p $(DESTDIR)$(MANDIR)/$$s/; done
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 755 $(MONITOR) $(DESTDIR)$(LIBEXECDIR)/hcsmon
	$(if $(HCSREG),install -m 755 $(HCSREG) $(DESTDIR)$(LIBEXECDIR)/hcsreg)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(HCSDIAG) $(DESTDIR)$(BINDIR)/hcsdiag

uninstall:
	rm -f $(DESTDIR)$(INCLUDEDIR)/hcs.h $(DESTDIR)$(LIBDIR)/libhcs.so* $(DESTDIR)$(LIBDIR)/libhcs.a \
		$(DESTDIR)$(PKGCONFIGDIR)/hcs.pc $(DESTDIR)$(LIBEXECDIR)/hcsmon $(DESTDIR)$(LIBEXECDIR)/hcsreg \
		$(DESTDIR)$(BINDIR)/hcsdiag
	for p in $(INSTALL_MAN_PAGES); do rm -f $(DESTDIR)$(MANDIR)/$$(basename $$(dirname $$p))/$$(basename $$p); done

# --- style -------------------------------------------------------------------------------------

FORMAT_SRCS = $(shell git ls-files -co --exclude-standard '*.c' '*.h' 2>/dev/null)
format:
	clang-format -i $(FORMAT_SRCS)
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)
lint:
	clang-tidy --quiet $(LIB_SRCS) $(MONITOR_SRCS) -- -std=c11 -D_GNU_SOURCE -Iinclude -Ilib $(PKG_CFLAGS)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D__GNUC__ -Iinclude -Ilib lib

bench: all
	@bench/run $(BUILD)

clean:
	rm -rf build build-asan

.PHONY: all-unit check-asan-suites fuzz
