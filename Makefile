# `sam build`'s makefile build method (template.yaml: Metadata.BuildMethod makefile, with this
# file as every function's ContextPath). One `cargo lambda build` makes the bundle binaries
# (bundles/*: each runs a group of functions, chosen at start by Lambda's `_HANDLER`) and
# each STANDALONE function's own, so the fat-LTO link runs once per binary, not once per
# function (decision 0027). Each function's target copies its binary into SAM's ARTIFACTS_DIR.
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# Built on their own: the image codecs (process-photo's, which check-evidence renders evidence
# photos with) would grow every other function's zip.
STANDALONE := process-photo check-evidence

# A function's crate from its logical id: CreatePhotoUploadFunction -> create-photo-upload.
crate = $(shell echo '$(1)' | sed -E 's/Function$$//; s/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')
# The bundles, and the binary that runs a function: its own, or the bundle whose list names it.
BUNDLES := $(patsubst $(ROOT)/bundles/%/src/main.rs,bundle-%,$(wildcard $(ROOT)/bundles/*/src/main.rs))
binary = $(if $(filter $(1),$(STANDALONE)),$(1),$(patsubst $(ROOT)/bundles/%/src/main.rs,bundle-%,$(shell grep -l '"$(1)" =>' $(ROOT)/bundles/*/src/main.rs)))

# scripts/deploy builds once before `sam build` and sets RENTAL_FUNCTIONS_BUILT, so the 33
# targets only copy; a bare `sam build` builds here (later targets find it built: a cargo no-op).
.PHONY: workspace
workspace:
	@if [ -z "$$RENTAL_FUNCTIONS_BUILT" ]; then $(MAKE) -C $(ROOT) --no-print-directory functions; fi

.PHONY: functions
functions:
	cd $(ROOT) && cargo lambda build --release --arm64 $(addprefix -p ,$(BUNDLES) $(STANDALONE))

build-%: workspace
	@test -d "$(ROOT)/functions/$(call crate,$*)" || { echo "no crate functions/$(call crate,$*) for $*" >&2; exit 1; }
	@test -n "$(call binary,$(call crate,$*))" || { echo "$(call crate,$*) is in no bundle (bundles/*/src/main.rs) and not STANDALONE" >&2; exit 1; }
	cp "$(ROOT)/target/lambda/$(call binary,$(call crate,$*))/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
