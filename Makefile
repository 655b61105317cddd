# Spate — developer workflow. `make demo` runs the platform on embedded
# storage; `make test` runs every Go and Python test.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := bin/spate
GO ?= go
KAFKA_TEST_DIR ?= /tmp/spate-kafka-test
export PATH := $(abspath $(VENV))/bin:$(PATH)

# The dashboard's browser suite (server/webtest, part of test-go) skips with
# a message when no Chromium is installed; in CI that must fail instead.
ifeq ($(CI),true)
export SPATE_REQUIRE_BROWSER ?= 1
endif

.PHONY: all build setup run test test-go test-python test-browser screenshots vet demo feature-pipeline model live-data bench proto clean

all: build

build:
	$(GO) build -o $(BIN) ./server/cmd/spate

# The Python environment: the SDK (editable) plus what the tests compare
# against (DuckDB for features, River for learners).
$(VENV)/.ready: sdk-python/pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e sdk-python pytest duckdb==2.0.1 river==0.26.1 scikit-learn==1.9.1 grpcio-tools
	touch $@

setup: $(VENV)/.ready

# Start the server on embedded storage (data in ./data). On first start it
# prints a development key and writes it to .env.
run: build
	$(BIN) serve

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

test-go: setup
	@[ -n "$$SPATE_CHROMIUM" ] || [ -x /usr/lib/chromium/chromium ] || command -v chromium chromium-browser google-chrome headless-shell >/dev/null || \
		echo "NOTE: no Chromium found: the dashboard browser suite (server/webtest) will be SKIPPED; install it with: apt-get install chromium fonts-dejavu-core"
	$(GO) test -race -timeout 25m ./...

# Only the dashboard's browser suite: headless Chromium walks every page of
# a real server running the fraud workflow (server/webtest/doc.go).
test-browser: setup
	$(GO) test -count=1 -timeout 15m ./server/webtest/

# Regenerate the dashboard screenshots that the README shows.
screenshots: setup
	SPATE_REQUIRE_BROWSER=1 SPATE_SCREENSHOT_DIR=$(abspath docs/screenshots) $(GO) test -count=1 -timeout 15m -run '^TestDashboard$$' ./server/webtest/

# The SDK's tests and its docstring examples (pyproject.toml's pytest
# settings), against the freshly built server.
test-python: setup build
	cd sdk-python && SPATE_BIN=$(abspath $(BIN)) $(abspath $(PY)) -m pytest -q

# All tests. The Postgres registry suite needs SPATE_TEST_POSTGRES_URL; when
# it is unset and PostgreSQL is installed, a throwaway cluster is started on
# loopback for the run. Likewise the Kafka log's suites need
# SPATE_TEST_KAFKA_BROKERS: when unset, scripts/kafka.sh starts a 1-node
# Kafka on loopback (fetching its jars with Maven on first use) and the
# Kafka tests are required to run.
test: vet
	@set -e; stop_pg=; stop_kafka=; \
	trap '[ -z "$$stop_pg" ] || scripts/pg-test.sh stop; [ -z "$$stop_kafka" ] || scripts/kafka.sh stop $(KAFKA_TEST_DIR)' EXIT; \
	if [ -z "$$SPATE_TEST_KAFKA_BROKERS" ]; then \
		stop_kafka=1; out=$$(scripts/kafka.sh start 1 $(KAFKA_TEST_DIR)); \
		export SPATE_TEST_KAFKA_BROKERS=$${out#BOOTSTRAP_SERVERS=} SPATE_TEST_KAFKA_REQUIRED=1; \
	fi; \
	if [ -z "$$SPATE_TEST_POSTGRES_URL" ]; then \
		stop_pg=1; source scripts/pg-test.sh start; export SPATE_TEST_POSTGRES_REQUIRED=1; \
	fi; \
	$(MAKE) --no-print-directory test-go test-python

# The user's day, on embedded storage: start the server in the background,
# build the feature pipeline, deploy the model and stream live data.
demo: build setup
	scripts/demo.sh

feature-pipeline: setup
	$(PY) examples/fraud/setup_feature_pipeline.py

model: setup
	$(PY) examples/fraud/setup_model.py

live-data: setup
	$(PY) examples/fraud/generate_live_data.py

bench: build setup
	scripts/bench.sh

proto:
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.11
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
	PYTHON=$(PY) scripts/gen-proto.sh

clean:
	rm -rf bin
