# Moorings developer commands. `make test` is THE test command (CI runs it through .ci/run).
.PHONY: test lint run bootstrap test-env clean-test-env

VENV := .venv

test:
	scripts/run-tests.sh

bootstrap:
	scripts/bootstrap.sh

lint: bootstrap
	$(VENV)/bin/ruff check app ui tests bench scripts
	$(VENV)/bin/mypy

run: bootstrap
	$(VENV)/bin/moorings

# Start the Docker engine (if none answers), the test image and the authenticated registry.
test-env: bootstrap
	scripts/test-env.sh start

# Remove test containers/images, stop the registry and the dockerd the harness started.
clean-test-env:
	scripts/test-env.sh stop
