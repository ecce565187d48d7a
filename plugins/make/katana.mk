# katana.mk: include from any Makefile to build with katana and make patches.
#   include path/to/katana/plugins/make/katana.mk
#   make katana-patch SINCE=v1.2        # one .po per changed executable, in .katana/patches/
# KATANA_BIN is where katana's commands are (node_modules/.bin of a katana checkout); BUILD is the
# command that builds the project (default: make with this Makefile), run for SINCE and for the
# work tree by katana-make.
KATANA_MK_DIR := $(dir $(lastword $(MAKEFILE_LIST)))
KATANA_BIN ?= $(abspath $(KATANA_MK_DIR)/../../node_modules/.bin)
CC := $(KATANA_BIN)/katana-cc
CXX := $(KATANA_BIN)/katana-c++
KATANA_BUILD ?= $(MAKE) -f $(firstword $(MAKEFILE_LIST))

.PHONY: katana-patch
katana-patch:
	@test -n "$(SINCE)" || { echo "katana-patch: say which revision to patch from: make katana-patch SINCE=v1.2" >&2; exit 2; }
	$(KATANA_BIN)/katana-make patch-since $(SINCE) --build '$(KATANA_BUILD)' $(if $(KATANA_OUT),--out $(KATANA_OUT))
