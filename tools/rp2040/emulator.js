// An emulated Raspberry Pi Pico (RP2040, rp2040js 1.4.1) running the real MicroPython rp2
// firmware, with its USB CDC serial port as the host's byte stream. Shared by
// tools/rp2040/run.js (runs scripts through the raw REPL) and tools/rp2040/bridge.js (a
// TCP socket for mpremote). Adapted from the runner in ../shared/firmware/rp2040/ (see
// the README there: firmware build, flash-write emulation, emulated clock).
//
// The firmware (.uf2) and the RP2040 boot ROM image are not in this repository: they are
// read at run time from the shared firmware directory, $NXSECURE_SHARED/firmware/rp2040
// or, by default, ../shared/firmware/rp2040 beside the repository (where CI has it) or
// beside one of its parents.
//
// Emulated time: rp2040js advances its clock by 8 ns per executed cycle (125 MHz) and jumps
// to the next timer/USB event while the core sleeps (WFI), so time.ticks_us() on the board
// is what a real RP2040 would take (no flash wait states modelled), whatever the host's speed.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Simulator, USBCDC, ConsoleLogger, LogLevel } from 'rp2040js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CPU_HZ = 125e6; // rp2040js Simulator.execute() also assumes 125 MHz (8 ns per cycle)
const CYCLE_NANOS = 1e9 / CPU_HZ;
const FIRMWARE_NAME = 'firmware-RPI_PICO-v1.27.0.uf2';

/** The directory with the rp2 firmware and boot ROM (throws with a hint when absent). */
export function firmwareDir() {
  // $NXSECURE_SHARED, else the nearest shared/ beside the repository or one of its parents
  let shared = process.env.NXSECURE_SHARED;
  for (let up = path.dirname(ROOT), i = 0; !shared && i < 3; up = path.dirname(up), i++) {
    if (existsSync(path.join(up, 'shared', 'firmware'))) shared = path.join(up, 'shared');
  }
  const dir = path.join(path.resolve(shared || path.join(ROOT, '..', 'shared')), 'firmware', 'rp2040');
  if (!existsSync(path.join(dir, FIRMWARE_NAME))) {
    throw new Error(
      `no ${FIRMWARE_NAME} in ${dir}: the shared firmware directory must be beside the ` +
        'repository (../shared) or named by NXSECURE_SHARED',
    );
  }
  return dir;
}

export function defaultFirmware() {
  return path.join(firmwareDir(), FIRMWARE_NAME);
}

async function loadBootrom() {
  const mod = await import(pathToFileURL(path.join(firmwareDir(), 'bootrom.js')).href);
  return mod.bootromB1;
}

export class Board {
  // options: firmware (path of a .uf2), flashWrite (default true), pace (default false:
  // while the core sleeps with no host input pending, emulated time may not run ahead of
  // the host's clock, so an idle board costs no host CPU; for the socket bridge).
  static async create(options = {}) {
    const board = new Board(options, await loadBootrom());
    return board;
  }

  constructor(options, bootrom) {
    this.pace = !!options.pace;
    this.sim = new Simulator();
    this.mcu = this.sim.rp2040;
    this.clock = this.sim.clock;
    this.mcu.loadBootrom(bootrom);
    this.mcu.logger = new ConsoleLogger(LogLevel.Error);
    this.execCycles = 0; // sum of executed cycles (they drive the clock, 8 ns each)
    this.idleNanos = 0; // time skipped while the core sleeps (WFI/WFE)
    this.flashStats = { erasedBytes: 0, programmedBytes: 0 };
    this.running = false;
    this.onBatch = null; // called after every batch; return false to stop
    this.onSerialData = null; // (Uint8Array) bytes the board wrote to its USB serial port
    this.onConnected = null; // the host side of USB CDC is up (the REPL can be reached)
    this.wall0 = process.hrtime.bigint();
    this.paceOrigin = null; // [wall ns, emulated ns] when pacing started
    this.loadUF2(readFileSync(options.firmware || defaultFirmware()));
    if (options.flashWrite !== false) this.patchFlashWrites();
    this.setUpUSB();
    this.mcu.core.PC = 0x10000000;
  }

  // Load the UF2 into flash (as rp2040js demo/load-flash.ts loadUF2 does).
  loadUF2(uf2) {
    const FLASH_START = 0x10000000;
    for (let off = 0; off + 512 <= uf2.length; off += 512) {
      const blk = new DataView(uf2.buffer, uf2.byteOffset + off, 512);
      if (blk.getUint32(0, true) !== 0x0a324655 || blk.getUint32(4, true) !== 0x9e5d5157) continue;
      const addr = blk.getUint32(12, true);
      const size = blk.getUint32(16, true);
      this.mcu.flash.set(uf2.subarray(off + 32, off + 32 + size), addr - FLASH_START);
    }
  }

  // rp2040js's SSI does not model the flash chip's erase/program commands, so writes through
  // the boot ROM (pico-sdk flash_range_erase/program -> ROM 'RE'/'RP') would be lost and the
  // firmware's littlefs could not be formatted or mounted. The first instruction of those two
  // ROM functions becomes BKPT #0xF1/#0xF2; the handler does the operation on mcu.flash (NOR
  // semantics: erase -> 0xFF per 4 KB sector, program ANDs the bytes in) and returns to LR.
  // It takes no emulated time (real chips: ~45 ms per sector erase, ~0.4 ms per 256 B page).
  patchFlashWrites() {
    const mcu = this.mcu;
    const stats = this.flashStats;
    const romFunc = (c1, c2) => {
      const code = c1.charCodeAt(0) | (c2.charCodeAt(0) << 8);
      for (let p = mcu.readUint16(0x14); ; p += 4) {
        const k = mcu.readUint16(p);
        if (k === 0) return null;
        if (k === code) return mcu.readUint16(p + 2) & ~1;
      }
    };
    const patch = (addr, half) => {
      const i = addr >>> 2;
      const w = mcu.bootrom[i];
      mcu.bootrom[i] = (addr & 2 ? (w & 0xffff) | (half << 16) : (w & 0xffff0000) | half) >>> 0;
    };
    const eraseAt = romFunc('R', 'E');
    const programAt = romFunc('R', 'P');
    if (eraseAt === null || programAt === null) {
      process.stderr.write('rp2040: boot ROM has no flash_range_erase/program; flash writes stay unmodelled\n');
      return;
    }
    patch(eraseAt, 0xbef1);
    patch(programAt, 0xbef2);
    const prevBreak = mcu.onBreak;
    mcu.onBreak = (imm) => {
      const core = mcu.core;
      const at = (core.PC - 2) >>> 0;
      const r = core.registers;
      if (imm === 0xf1 && at === eraseAt) {
        // flash_range_erase(addr, count, block_size, block_cmd): 4 KB sector granularity
        const start = r[0] & ~0xfff;
        const end = Math.min(mcu.flash.length, (r[0] + r[1] + 0xfff) & ~0xfff);
        if (end > start) {
          mcu.flash.fill(0xff, start, end);
          stats.erasedBytes += end - start;
        }
      } else if (imm === 0xf2 && at === programAt) {
        // flash_range_program(addr, data, count)
        const addr = r[0] >>> 0;
        const src = r[1] >>> 0;
        const n = r[2] >>> 0;
        for (let i = 0; i < n && addr + i < mcu.flash.length; i++) {
          mcu.flash[addr + i] &= mcu.readUint8(src + i);
        }
        stats.programmedBytes += n;
      } else {
        return prevBreak(imm);
      }
      core.PC = core.LR & ~1; // return (bx lr)
    };
  }

  // USB CDC host side, with a deferred OUT endpoint: an idle device is not polled, and bytes
  // the host sends wake it up.
  setUpUSB() {
    const cdc = new USBCDC(this.mcu.usbCtrl);
    const usb = this.mcu.usbCtrl;
    const cdcRead = usb.onEndpointRead; // installed by USBCDC
    this.cdc = cdc;
    this.txBuf = new Uint8Array(0);
    this.txPos = 0;
    this.pendingRead = null;
    usb.onEndpointRead = (ep, size) => {
      if (ep !== cdc.outEndpoint) return cdcRead(ep, size);
      if (this.txPos >= this.txBuf.length) {
        this.pendingRead = size; // answer later, when we have data
        return;
      }
      const n = Math.min(size, this.txBuf.length - this.txPos);
      usb.endpointReadDone(ep, this.txBuf.slice(this.txPos, this.txPos + n));
      this.txPos += n;
    };
    cdc.onDeviceConnected = () => {
      this.connected = true;
      if (this.onConnected) this.onConnected();
    };
    cdc.onSerialData = (buf) => {
      if (this.onSerialData) this.onSerialData(buf);
    };
  }

  /** Queue bytes for the board's USB serial input (the REPL). */
  send(bytes) {
    const rest = this.txBuf.subarray(this.txPos);
    const nb = new Uint8Array(rest.length + bytes.length);
    nb.set(rest);
    nb.set(bytes, rest.length);
    this.txBuf = nb;
    this.txPos = 0;
    if (this.pendingRead !== null && this.cdc.outEndpoint >= 0) {
      const s = this.pendingRead;
      this.pendingRead = null;
      this.mcu.usbCtrl.onEndpointRead(this.cdc.outEndpoint, s);
    }
  }

  inputPending() {
    return this.txPos < this.txBuf.length;
  }

  wallSeconds() {
    return Number(process.hrtime.bigint() - this.wall0) / 1e9;
  }

  snapshot() {
    return { t: this.clock.nanos, w: this.wallSeconds(), c: this.execCycles, i: this.idleNanos };
  }

  // How far an idle board may jump ahead (pace mode): up to the host's clock.
  idleBudgetNanos() {
    const wallNs = Number(process.hrtime.bigint());
    if (this.paceOrigin === null) this.paceOrigin = [wallNs, this.clock.nanos];
    const ahead = this.clock.nanos - this.paceOrigin[1] - (wallNs - this.paceOrigin[0]);
    if (ahead < 0) {
      // behind the host's clock after busy work: let idle time catch up, but not more
      // than 1 s at once
      if (ahead < -1e9) this.paceOrigin[1] += -ahead - 1e9;
      return -ahead;
    }
    return 0;
  }

  // One batch of instructions (like Simulator.execute(), but synchronous); returns the
  // milliseconds to wait before the next batch (0: at once).
  runBatch() {
    const core = this.mcu.core;
    const clock = this.clock;
    for (let i = 0; i < 2_000_000 && this.running; i++) {
      if (core.waiting) {
        const dt = clock.nanosToNextAlarm;
        // no alarm due: the core sleeps until the host sends something (USB)
        if (dt <= 0 && !this.inputPending()) return 1;
        if (this.pace && !this.inputPending()) {
          const budget = this.idleBudgetNanos();
          if (budget < dt) {
            // idle and would overtake the host's clock: go as far as it, then wait
            if (budget > 0) {
              this.idleNanos += budget;
              clock.tick(budget);
            }
            return 1;
          }
        }
        this.idleNanos += dt;
        clock.tick(dt);
        i += dt / CYCLE_NANOS;
      } else {
        const cycles = core.executeInstruction();
        this.execCycles += cycles;
        clock.tick(cycles * CYCLE_NANOS);
      }
    }
    return 0;
  }

  /** Run until stop() (or onBatch returns false), yielding to the event loop between batches. */
  start() {
    this.running = true;
    const loop = () => {
      if (!this.running) return;
      const wait = this.runBatch();
      if (this.onBatch && this.onBatch() === false) this.running = false;
      if (!this.running) return;
      if (wait) setTimeout(loop, wait);
      else setImmediate(loop);
    };
    loop();
  }

  stop() {
    this.running = false;
  }
}
