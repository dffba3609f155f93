# Booking Backoffice: `make run` serves the demo, `make test` runs the suite.
# The interpreter: PYTHON if given, else the newest python3.x >= 3.12 on the path,
# else one of pyenv's installed versions >= 3.12 (its shims may not be on the path).

SHELL := /bin/bash
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Links printed by `make run` and sent in emails: where the server listens, unless
# SITE_URL is given (e.g. behind a tunnel). A server listening on every address
# (0.0.0.0, ::) is reached through 127.0.0.1 from this machine.
LINK_HOST = $(if $(filter 0.0.0.0 :: [::],$(HOST)),127.0.0.1,$(HOST))
SITE_URL ?= http://$(LINK_HOST):$(PORT)
RUN_ENV = DEBUG=1 SITE_URL='$(SITE_URL)'

define find_python
for c in python3.14 python3.13 python3.12 python3; do \
  p=$$(command -v $$c 2>/dev/null) || continue; \
  $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; exit 0; }; \
done; \
root=$$(pyenv root 2>/dev/null || echo $$HOME/.pyenv); \
for p in $$(ls -d $$root/versions/3.* 2>/dev/null | sort -Vr); do \
  $$p/bin/python3 -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p/bin/python3; exit 0; }; \
done; \
exit 1
endef

PYTHON ?= $(shell $(find_python))

.PHONY: run test venv migrate demo lint bench clean-venv

$(VPY):
	@test -n "$(PYTHON)" || { echo "No Python >= 3.12 found: install one or run 'make PYTHON=/path/to/python3.12'." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt | $(VPY)
	$(VPY) -m pip install --quiet --upgrade pip
	$(VPY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	DEBUG=1 $(VPY) manage.py migrate --noinput

demo: migrate
	$(RUN_ENV) $(VPY) manage.py demo

run: demo
	@echo "Serving on $(SITE_URL)/admin/ (listening on $(HOST):$(PORT)) with the task worker and the email sweep beside it (Ctrl-C stops all)."
	@trap 'kill 0' EXIT INT TERM; \
	$(RUN_ENV) $(VPY) manage.py db_worker --queue-name '*' --interval 1 & \
	$(RUN_ENV) $(VPY) manage.py send_queued_emails --every 60 --verbosity 0 & \
	$(RUN_ENV) $(VPY) manage.py runserver $(HOST):$(PORT)

test: venv
	$(VPY) -m pytest $(PYTEST_ARGS)

lint: venv
	$(VPY) -m ruff check .
	$(VPY) -m ruff format --check .
	$(VPY) -m mypy

clean-venv:
	rm -rf $(VENV)

bench: venv
	$(VPY) bench/bulk.py
