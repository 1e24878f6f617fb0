// Under isolation 'pkey' a signal handler other code installed without
// SA_ONSTACK, run while the thread is in driver code, runs on the domain's
// stack, which it cannot write: the process dies (native/trap/host_signals.h).
// The kernel gives such handlers SA_ONSTACK at boot and again each time Node
// may install one: when a signal gets its first listener (Node's own
// 'newListener' listener, added before any other, installs libuv's handler),
// and libuv's SIGCHLD at a spawn when none is installed, so a listener of the
// kernel's keeps one installed from the boot on. docs/design.md, "Host signals".
import { constants } from 'node:os';

/** Keeps the process's signal handlers on the alternate stack (`onAltStack`: the native pass) until the returned function is called. */
export function keepHandlersOnAltStack(onAltStack: () => number): () => void {
  onAltStack();
  const listenerAdded = (event: string | symbol) => {
    if (typeof event === 'string' && event in constants.signals) onAltStack();
  };
  const keepSigchld = () => {};
  process.on('newListener', listenerAdded);
  process.on('SIGCHLD', keepSigchld);
  return () => {
    process.off('newListener', listenerAdded);
    process.off('SIGCHLD', keepSigchld);
  };
}
