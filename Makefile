# `sam build`'s makefile build method (template.yaml: Metadata.BuildMethod makefile, with this
# file as every function's ContextPath). One `cargo lambda build` compiles every function for
# arm64 in a single cargo run, so dependencies are compiled once and the binaries link in
# parallel; each function's target then copies its own binary into SAM's ARTIFACTS_DIR.
# Later targets find the workspace built and cost a cargo no-op (cargo's lock orders them).
ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# A function's crate from its logical id: CreatePhotoUploadFunction -> create-photo-upload.
crate = $(shell echo '$(1)' | sed -E 's/Function$$//; s/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z')

# scripts/deploy builds the workspace once before `sam build` and sets RENTAL_FUNCTIONS_BUILT,
# so the 33 targets only copy; a bare `sam build` builds it here.
.PHONY: workspace
workspace:
	@if [ -z "$$RENTAL_FUNCTIONS_BUILT" ]; then $(MAKE) -C $(ROOT) --no-print-directory functions; fi

.PHONY: functions
functions:
	cd $(ROOT) && cargo lambda build --release --arm64 --workspace --exclude integration-tests --exclude local-runner --exclude shared

build-%: workspace
	@test -d "$(ROOT)/functions/$(call crate,$*)" || { echo "no crate functions/$(call crate,$*) for $*" >&2; exit 1; }
	cp "$(ROOT)/target/lambda/$(call crate,$*)/bootstrap" "$(ARTIFACTS_DIR)/bootstrap"
