# Freeze nxsecure and this board's defaults into Raspberry Pi Pico W firmware. From a
# MicroPython 1.27 source tree (ports/rp2 set up as its README says):
#   make -C ports/rp2 BOARD=RPI_PICO_W FROZEN_MANIFEST=/path/to/nxsecure/boards/rp2040/manifest.py
# RPI_PICO_W's own manifest (the port's modules and the network bundle for CYW43 WLAN)
# is kept.
include("$(BOARD_DIR)/manifest.py")
include("../common/manifest.py")
module("board_config.py")  # read by nxsecure.config at first import
