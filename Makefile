# Moorings developer commands. `make test` is THE test command (CI runs it through .ci/run).
.PHONY: test check lint run bootstrap test-env clean-test-env screenshots bench

VENV := .venv

test:
	scripts/run-tests.sh

bootstrap:
	scripts/bootstrap.sh

# The everyday engine-free check: ruff, mypy and the tests that need no engine. No root, no
# Debian packages (a venv of its own if there is none yet).
check:
	scripts/check.sh

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

# Render the main screens under Xvfb at the touch panel's size and at a laptop's.
screenshots: bootstrap
	scripts/test-env.sh start
	for size in 800x480 1280x800; do \
	  xvfb-run -a -s "-screen 0 $${size}x24" $(VENV)/bin/python scripts/screenshots.py || exit 1; \
	done
	xvfb-run -a -s "-screen 0 800x480x24" $(VENV)/bin/python scripts/keyboard_screenshot.py

# Benchmarks: scripts that print medians and ratios (see docs/benchmarks.md), every one.
bench: bootstrap
	scripts/test-env.sh start
	$(VENV)/bin/python bench/bench_orchestrator.py
	$(VENV)/bin/python bench/bench_gui.py
	$(VENV)/bin/python bench/bench_inventory.py
	$(VENV)/bin/python bench/bench_removal.py
	$(VENV)/bin/python bench/bench_signing.py
	$(VENV)/bin/python bench/bench_remote.py
