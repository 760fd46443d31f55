# Freeze nxsecure and this board's defaults into ESP32 firmware. From a MicroPython 1.27
# source tree (ports/esp32 set up as its README says):
#   make -C ports/esp32 BOARD=ESP32_GENERIC FROZEN_MANIFEST=/path/to/nxsecure/boards/esp32/manifest.py
# The chosen board's own manifest (the port's modules, asyncio, network helpers) is kept.
include("$(BOARD_DIR)/manifest.py")
include("../common/manifest.py")
module("board_config.py")  # read by nxsecure.config at first import
# require("<micropython-lib package>") would pull a micropython-lib dependency here;
# nxsecure needs none (hashlib, cryptolib, socket, select, os are built in).
