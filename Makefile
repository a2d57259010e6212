# Lantau: `make run` serves everything locally; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TOOLS     := $(CURDIR)/.tools
TOOLS_BIN := $(TOOLS)/bin
RIE       := $(TOOLS_BIN)/aws-lambda-rie
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
# AWS's DynamoDB Local, shipped inside this npm package (run with the installed Java).
DDB_JAR   := $(TOOLS)/dynamodb/amplify-dynamodb-simulator@2.9.30/emulator/DynamoDBLocal.jar
GO        ?= go
export PATH := $(TOOLS_BIN):$(PATH)

# Lambda build settings (CONVENTIONS: provided.al2023 on arm64, static, stripped).
LAMBDA_GOOS   ?= linux
LAMBDA_GOARCH ?= arm64
LAMBDA_FLAGS  := -tags lambda.norpc,lantau_lambda -trimpath -ldflags='-s -w -buildid='
FUNCTIONS     := $(notdir $(wildcard functions/*))
BUILD_DIR     := .aws-sam/build

.PHONY: help run test test-short build bench invoke tools validate deploy clean lint

help: ## list the targets
	@grep -hE '^[a-z%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## serve every function on the embedded default (API :3000, S3/EventBridge :3001)
	@mkdir -p bin
	$(GO) build -tags lantau_local -o bin/lantau ./infra/cmd/lantau
	./bin/lantau run $(ARGS)

test: tools ## run every test (installs what the tests need under .tools on first use)
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 15m ./...

test-short: ## unit tests only, no emulators
	$(GO) test -short -count=1 ./...

tools: $(RIE) $(DDB_JAR) ## install test tools under .tools

$(RIE):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) GOFLAGS=-mod=mod $(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@$(RIE_VERSION)

$(DDB_JAR):
	$(GO) run ./infra/dynamolocal/cmd/dynamolocal install

validate: ## check template.yaml and that every function has code
	$(GO) run ./infra/cmd/lantau validate

build: ## build every function as an arm64 bootstrap in the layout sam deploy expects
	@for fn in $$($(GO) run ./infra/cmd/lantau functions); do \
		$(MAKE) --no-print-directory build-$$fn ARTIFACTS_DIR=$(CURDIR)/$(BUILD_DIR)/$$fn || exit 1; \
	done
	@ls -l $(BUILD_DIR)/*/bootstrap

# sam build calls build-<LogicalId> with ARTIFACTS_DIR (BuildMethod: makefile).
# HealthFunction is built from functions/health.
build-%Function:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set"; exit 1; }
	@mkdir -p $(ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=$(LAMBDA_GOOS) GOARCH=$(LAMBDA_GOARCH) $(GO) build $(LAMBDA_FLAGS) \
		-o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo '$*' | tr '[:upper:]' '[:lower:]')

invoke: ## invoke one function with an event file: make invoke FN=health EVENT=events/http-health.json
	@test -n "$(FN)" -a -n "$(EVENT)" || { echo "usage: make invoke FN=<function> EVENT=events/<file>.json"; exit 2; }
	$(GO) run -tags lantau_local ./infra/cmd/lantau invoke $(FN) $(EVENT)

bench: tools ## benchmarks: runner overhead, cold starts, binary sizes
	$(GO) run ./infra/cmd/bench

deploy: ## build with SAM and deploy (needs the sam CLI and AWS credentials)
	sam build && sam deploy --guided

lint: ## gofmt and vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

clean: ## remove build output and local data
	rm -rf bin $(BUILD_DIR) .lantau
