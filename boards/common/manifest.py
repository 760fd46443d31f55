# The nxsecure stack for a MicroPython freeze manifest: the psk profile of
# tools/profiles.py (written by tools/mip_packages.py: do not edit). boards/<board>/
# manifest.py include()s it; paths are relative to this file, as MicroPython's
# manifest functions resolve them. Frozen bytecode stays in flash and costs no heap
# until imported.
package("nxsecure", files=[
    "__init__.py",
    "const.py",
    "const_ext.py",
    "config.py",
    "codec.py",
    "netx.py",
    "netx_ext.py",
    "record.py",
    "reassembly.py",
    "handshake.py",
    "dtls.py",
    "early.py",
    "psk.py",
    "session.py",
    "crypto/__init__.py",
    "crypto/table.py",
    "crypto/defaults.py",
    "crypto/ccm.py",
    "crypto/mac.py",
    "crypto/prf.py",
    "crypto/prf_saved.py",
    "crypto/gcm.py",
    "crypto/cbc.py",
    "crypto/kernel.py",
    "crypto/kernel_viper.py",
    "crypto/engine.py",
    "crypto/aes.py",
    "port/__init__.py",
    "port/micropython.py",
    "port/rngcheck.py",
    "port/hash_state.py",
    "dtls_client.py",
    "server.py",
    "cookie.py",
    "dtls_server.py",
    "server_services.py",
    "port/memnet.py",
], base_path="../..")
module("nxboard.py")       # board_config lookups and the crypto table for the examples
module("net.py")           # WLAN station bring-up from /net_config.json
