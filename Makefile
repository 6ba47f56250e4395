# hems: the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# Debian packages the tests need (a real MQTT broker, a real browser, a serial pty bridge,
# RAUC and mksquashfs for the update bundles).
TEST_DEBS := mosquitto chromium socat rauc squashfs-tools
# Set SKIP_IMAGE=1 to skip the SD image boot test on a quick local run (never in CI).
SKIP_IMAGE ?= 0
# Debian packages that build the SD card image (images/build.sh) and boot it under QEMU.
IMAGE_DEBS := mmdebstrap arch-test qemu-user-static binfmt-support qemu-system-arm mtools dosfstools e2fsprogs fdisk xz-utils rauc squashfs-tools openssl
DEBS = $(TEST_DEBS) $(if $(filter 1,$(SKIP_IMAGE)),,$(IMAGE_DEBS))

.PHONY: demo test venv test-deps bench image clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

demo: venv
	$(VENV)/bin/hems demo --config config.toml

# The 32-bit MicroPython the firmware tests run on (webassembly port, from npm; needs node).
MP32_DIR := tests/firmware_bridge/mp32

test-deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
	@[ -d $(MP32_DIR)/node_modules/@micropython ] || npm ci --prefix $(MP32_DIR) --no-audit --no-fund

test: venv test-deps
	SKIP_IMAGE=$(SKIP_IMAGE) $(PY) -m pytest -q -ra

bench: venv
	$(PY) bench/solve_time.py
	$(PY) bench/economics.py
	$(PY) bench/footprint.py
	$(PY) bench/forecast_error.py
	$(PY) bench/sources.py
	$(MAKE) test-deps TEST_DEBS=mosquitto DEBS=mosquitto
	$(PY) bench/dispatch_latency.py
	$(PY) bench/regulation.py
	$(PY) bench/ocpp_latency.py
	$(PY) bench/bridge_firmware.py

# The SD card image for the Raspberry Pi 4 and its signed update bundle: images/out/pi/hems-pi.img.xz,
# hems-pi.raucb and SHA256SUMS (needs root; RAUC_KEY/RAUC_CERT/RAUC_KEYRING for a release).
image: venv
	$(MAKE) test-deps DEBS="$(IMAGE_DEBS)"
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); $$SUDO images/build.sh pi

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache
