# dr-cluster: `make demo` sets everything up and runs the pipeline on this machine;
# `make test` runs the test suite (what CI runs).
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PLAYBOOK := $(BIN)/ansible-playbook
export ANSIBLE_CONFIG := $(CURDIR)/ansible.cfg
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: demo demo-swift test unit integration lint stop venv lock clean sysdeps molecule grader

venv: $(STAMP)

# The venv is rebuilt only when the pins change: the whole lock for the tests and training
# (torch's 4.6 GB included) ...
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $(STAMP) $(DEMO_STAMP)

# ... or, for make demo alone, what the demo runs: the nodes' runtime (the shipped grader
# runs in ONNX Runtime) and the controller's tools, no torch, every version the lock's.
DEMO_STAMP := $(VENV)/.installed-demo
$(DEMO_STAMP): requirements/runtime.txt requirements/controller.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
	  -r requirements/runtime.txt -r requirements/controller.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --editable .
	touch $(DEMO_STAMP)

# One demo at a time per checkout: the second refuses in one line (the lock is this shell's;
# fd 9 is closed for the playbook, so the daemons it starts never hold it).
DEMO_LOCK := .cluster/.demo.lock
LOCK_DEMO := mkdir -p .cluster; exec 9> $(DEMO_LOCK); flock --nonblock 9 || { \
	echo "make: another make demo is running in $(CURDIR); wait for it to finish" >&2; exit 1; }

# The demo's photographs (drc demo-set, each kind in its own folder): DATA if given (Kaggle's
# train/ folder with trainLabels.csv, or the folder of its split zip train.zip.001 ...),
# else the 4 raw Kaggle samples and DEMO_EYES real graded eyes of subjects the shipped grader
# never saw (../shared/data or $DRC_SHARED/data, copied once), else synthetic photographs
# drawn here. demo-set writes the playbook variables for the set it chose.
DATA ?=
DEMO_EYES ?= 600
DEMO_PHOTOS := .cluster/demo-photos
DEMO_SET_VARS := .cluster/demo-set.json
# (the shared real eyes are all of the grader's held-out subjects: the LR splits them anew)
DEMO_VARS := -e @$(DEMO_SET_VARS) -e run_jobs_normalise=equalize -e run_jobs_split_seed=7 \
  -e run_jobs_grade_views=1

demo: $(DEMO_STAMP)
	@$(LOCK_DEMO); start=$$(date +%s); \
	$(BIN)/drc demo-set $(DEMO_PHOTOS) --eyes $(DEMO_EYES) --vars $(DEMO_SET_VARS) \
	  $(if $(DATA),--data '$(DATA)') && \
	$(PLAYBOOK) $(DEMO_VARS) playbooks/site.yml 9>&- && \
	echo "make demo: $$(( $$(date +%s) - start )) s (venv set-up excluded)" && \
	cat .cluster/results/demo/report.txt && \
	echo "report page: $(CURDIR)/.cluster/results/demo/report.html"

# The shipped CNN, models/grader/: EfficientNet-Lite0 from its ImageNet weights, the stem and
# first 8 blocks fixed, fine-tuned on four fifths of the subjects of ../shared/data/eyepacs-256
# and measured on the rest (bench/real_cnn.py; docs/real-photographs.md "The CNN on real
# eyes" says how long it takes on this CPU).
grader: $(STAMP)
	$(BIN)/python bench/real_cnn.py --model efficientnet-lite0 --task ordinal --size 256 \
	  --epochs 6 --patience 6 --batch-size 32 --lr 5e-4 --balance 1 --ship
	$(BIN)/drc export-onnx  # models/grader/grader.onnx: drc grade without torch

# The same demo, staging the sample images from a local OpenStack Swift (the test server,
# its test account): what SoftLayer Object Storage was to the 2015 project.
SWIFT_STATE := .cluster/swift
demo-swift: $(STAMP) sysdeps
	mkdir -p .cluster
	$(BIN)/drc demo-set $(DEMO_PHOTOS) --eyes $(DEMO_EYES) --vars $(DEMO_SET_VARS) \
	  $(if $(DATA),--data '$(DATA)')
	tests/servers/swift_aio.sh start $(SWIFT_STATE) > $(SWIFT_STATE).env
	# the set demo-set chose (the shared data, DATA or synthetic: a clone needs nothing beside it)
	. ./$(SWIFT_STATE).env && $(BIN)/drc stage put \
	  "$$($(BIN)/python -c 'import json,sys; print(json.load(open(sys.argv[1]))["data_url"])' $(DEMO_SET_VARS))" \
	  swift://dr-sample/train
	. ./$(SWIFT_STATE).env && umask 077 && printf '{"data_url": "swift://dr-sample/train", "swift_auth_url": "%s", "vault_swift_user": "%s", "vault_swift_key": "%s"}' \
	  "$$ST_AUTH" "$$ST_USER" "$$ST_KEY" > $(SWIFT_STATE).vars.json
	@$(LOCK_DEMO); $(PLAYBOOK) -e @$(SWIFT_STATE).vars.json playbooks/site.yml 9>&-
	cat .cluster/results/demo/report.txt

test: $(STAMP) sysdeps lint
	$(BIN)/pytest
	$(MAKE) molecule

# The roles under molecule (default driver, this machine as the node).
molecule: $(STAMP)
	$(BIN)/molecule test

# Debian packages of the test servers (Swift, memcached, sshd), installed where missing.
sysdeps:
	tests/servers/system_packages.sh

unit: $(STAMP)
	$(BIN)/pytest -m "not integration"

integration: $(STAMP) sysdeps
	$(BIN)/pytest -m integration

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ansible-lint -q

stop: $(STAMP)
	$(PLAYBOOK) playbooks/stop_cluster.yml
	tests/servers/swift_aio.sh stop $(SWIFT_STATE)

lock: $(STAMP)
	(echo "# The whole dependency tree, pinned. Regenerate with: make lock"; \
	 $(BIN)/python -m pip freeze --exclude-editable | sort -f \
	 | sed 's/^torch==\(.*\)+cpu$$/torch==\1/') > requirements.lock
	$(BIN)/python requirements/split.py  # requirements/*.txt: the lock by kind of node

# The demo's HDFS keeps its state where the hadoop user can reach it (roles/hadoop defaults).
HDFS_STATE := /var/lib/drc-hdfs/$(shell printf '%s' '$(CURDIR)/.cluster' | sha1sum | cut -c1-12)
clean: stop
	rm -rf .cluster $(HDFS_STATE)
