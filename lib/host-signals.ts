// Under isolation 'pkey' a signal handler other code installed without
// SA_ONSTACK, run while the thread is in driver code, runs on the domain's
// stack, which it cannot write: the process dies (native/trap/host_signals.h).
// The kernel gives such handlers SA_ONSTACK at boot and again each time Node
// may install one on this thread: when a signal gets its first listener
// (Node's own 'newListener' listener, added before any other, installs
// libuv's handler), so with no window. Native code keeps libuv's SIGCHLD
// handler installed (a spawn would install it anew), invisible to the
// application, and sweeps every handler periodically for those no event here
// tells of (another thread's listeners, vm's breakOnSigint, other addons).
// docs/design.md, "Host signals".
import { constants } from 'node:os';

type Native = { signalHandlersOnAltStack(): number; keepSignalHandlersOnAltStack(keep: boolean): void };

/** Keeps the process's signal handlers on the alternate stack until the returned function is called. */
export function keepHandlersOnAltStack(n: Native): () => void {
  n.keepSignalHandlersOnAltStack(true);
  const listenerAdded = (event: string | symbol) => {
    if (typeof event === 'string' && event in constants.signals) n.signalHandlersOnAltStack();
  };
  process.on('newListener', listenerAdded);
  return () => {
    process.off('newListener', listenerAdded);
    n.keepSignalHandlersOnAltStack(false);
  };
}
