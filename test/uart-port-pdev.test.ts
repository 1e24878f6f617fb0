// uart_add_one_port reads the port's pdev, which the driver sets: the kernel
// takes the device's name from it, so it must be a pci_dev the driver holds
// (or NULL, a port without a device). A wild one is a bad-call fault; before,
// the host read through it and died. Runs in a child process, so that the old
// behaviour (the host's SIGSEGV) fails the test instead of killing its worker.
// Its fifosize, which sets how long the nanny waits for the driver, is refused
// past 4096 bytes (deeper than any UART's FIFO).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../lib/paths.js';
import { buildDriver } from './helpers/build-driver.js';
import { shown } from './helpers/cli.js';
import { runNode } from './helpers/util.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-uart-pdev-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = `
#include <nooks/kapi.h>
#include <nooks/serial_core.h>

static int startup(struct uart_port *p) { (void)p; return 0; }
static void port_only(struct uart_port *p) { (void)p; }
static void set_termios(struct uart_port *p, const struct ktermios *t) { (void)p; (void)t; }
static void set_mctrl(struct uart_port *p, unsigned int m) { (void)p; (void)m; }
static unsigned int none(struct uart_port *p) { (void)p; return 0; }
static const struct uart_ops ops = {
	.startup = startup, .shutdown = port_only, .set_termios = set_termios, .start_tx = port_only,
	.stop_tx = port_only, .set_mctrl = set_mctrl, .get_mctrl = none, .tx_empty = none,
};
static struct uart_port port;

/* Registers the port with pdev as given. */
NOOKS_EXPORT long add(long pdev)
{
	port.ops = &ops;
	port.pdev = (struct pci_dev *)pdev;
	port.uartclk = 1843200;
	return uart_add_one_port(&port);
}

/* Registers a port without a device whose FIFO holds fifosize bytes. */
NOOKS_EXPORT long add_fifo(long fifosize)
{
	port.fifosize = (u32)fifosize;
	return add(0);
}
static int init(void) { return 0; }
module_init(init);
`;
let so = '';
beforeAll(() => {
  so = buildDriver(dir, 'wildport', source);
}, 120_000);

describe.each(['mprotect', 'process'])('isolation %s', (isolation) => {
  it("a wild port->pdev is a bad-call fault naming it; the kernel lives, the driver restarts, NULL registers", async () => {
    const r = await runNode(['--input-type=module', '-e', `
      import { Kernel } from './dist/lib/index.js';
      const kernel = await Kernel.boot({ isolation: '${isolation}' });
      const d = await kernel.load(${JSON.stringify(so)});
      try { d.call('add', 16); } catch (e) { console.log(e.kind, e.message); }
      console.log(d.state, d.call('add', 0));
      await kernel.shutdown();`], packageRoot, 30_000);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe('bad-call wildport: uart_add_one_port(port->pdev=0x10): not a pci_dev object the driver holds\nrunning 0\n');
  });

  // Before: 0xffffffff registered, and the nanny's deadline for the port grew by its FIFO's time: ~4 days at 115200.
  it('a fifosize past 4096 is refused (EINVAL); 4096 registers', async () => {
    const r = await runNode(['--input-type=module', '-e', `
      import { Kernel } from './dist/lib/index.js';
      const kernel = await Kernel.boot({ isolation: '${isolation}' });
      const d = await kernel.load(${JSON.stringify(so)});
      console.log(d.call('add_fifo', 0xffffffff), d.call('add_fifo', 4097), d.call('add_fifo', 4096), d.state);
      await kernel.shutdown();`], packageRoot, 30_000);
    expect(r.code, shown(r)).toBe(0);
    expect(r.stdout).toBe('-22 -22 0 running\n');
  });
});
