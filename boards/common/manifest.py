# The nxsecure stack for a MicroPython freeze manifest; boards/<board>/manifest.py
# include()s it. Paths are relative to this file, as MicroPython's manifest functions
# resolve them. The whole package is frozen: frozen bytecode stays in flash and costs no
# heap until imported, so the certificate pieces (nxsecure/x509, nxsecure/pk) cost a
# PSK-only application only flash (~40 KB of .mpy: `make mpy`, full less psk).
package("nxsecure", base_path="../..")   # nxsecure/port/ with it (its CPython modules cost only flash)
module("nxboard.py")       # board_config lookups and the crypto table for the examples
module("net.py")           # WLAN station bring-up from /net_config.json
