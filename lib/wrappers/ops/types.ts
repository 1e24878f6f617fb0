// The shape of the class operations' interface description (see ../ops.ts):
// the tables of driver functions a device class calls, kernel → driver.

/**
 * What the class's shadow driver does with an operation (Swift et al., OSDI
 * 2004, section 3): passive, it logs what rebuilding the device needs; while
 * the driver is down, the call never reaches it and the shadow answers.
 */
export type ShadowRole =
  /** opens or closes the device: replayed at the restore for a device in use */
  | 'lifecycle'
  /** sets configuration: the latest value is kept, replayed at the restore */
  | 'config'
  /** carries a request: logged while in flight; while down, queued (or dropped where the class tolerates it) */
  | 'request'
  /** asks for state: while down, answered from what the shadow recorded */
  | 'query'
  /** ends a crossing of requests, starting what they queued: not made while down (the requests wait with the shadow) */
  | 'commit'
  /** a detector's remedy (a watchdog's): not made while down */
  | 'recovery';

export interface Op {
  name: string;
  ret: string;
  /** C parameter types and names, in order; the first is the class object */
  params: { name: string; type: string }[];
  /** a class that registers the table without it is refused */
  required: boolean;
  role: ShadowRole;
  doc: string;
}

export interface OpsTable {
  /** the C struct drivers fill: `struct <name>` */
  name: string;
  /** the device class (lib/classes/<class>.ts) */
  class: 'net' | 'block' | 'serial' | 'sound';
  doc: string;
  ops: Op[];
}

/** One parameter. */
export const a = (name: string, type: string) => ({ name, type });
