// How an addon surface (a group of the addon's N-API functions: the core, the
// bus, driver memory, each device class) is described, once. Each function
// gives its TypeScript signature and a one-line doc; from these the lib side
// takes its types (AddonOf: what native() returns) and the generator writes
// gen/addon/<surface>.inc, the C++ registration table (generate-addon.ts).
//
// `checks` are what the generated boundary tests of each argument before the
// C++ function runs (a TypeError naming the function otherwise). They are
// written out because types are gone at run time, and the compiler holds them
// to the signature: each check must admit every value of its parameter's type.
// A looser check ('any') leaves the argument to the function, which then
// checks it itself (with an error code of its own).

/** What each check admits. */
interface Admits {
  /** any value but undefined (the function checks it) */
  any: {} | null;
  number: number;
  string: string;
  boolean: boolean;
  /** a number or a bigint */
  integer: number | bigint;
  /** a Buffer or another Uint8Array */
  bytes: Uint8Array;
  function: (...args: never[]) => unknown;
  array: readonly unknown[];
  /** an object (an array included), not null */
  object: object;
}
export type ArgKind = keyof Admits;
/** A kind alone: the argument must be given. `?`: it may be left out (undefined); `|null`: it may be null. */
export type Check = ArgKind | `${ArgKind}?` | `${ArgKind}|null`;

type AdmittedBy<C extends Check> = C extends `${infer K extends ArgKind}?`
  ? Admits[K] | undefined
  : C extends `${infer K extends ArgKind}|null`
    ? Admits[K] | null
    : Admits[C & ArgKind];
/** The checks that admit every value of T. */
type ChecksFor<T> = { [C in Check]: [T] extends [AdmittedBy<C>] ? C : never }[Check];
/** One check per parameter (none for a rest parameter: the function checks those). */
type ChecksOf<P extends unknown[]> = { [K in keyof P]: ChecksFor<P[K]> } & { length: Required<P>['length'] };

type AnyFunction = (...args: never[]) => unknown;

export interface AddonFunction<F extends AnyFunction = AnyFunction> {
  doc: string;
  checks: readonly Check[];
  /** Types only: the function's signature. */
  readonly signature?: F;
}

/** An addon function: its signature as the type argument, a one-line doc, a check per parameter. */
export function fn<F extends AnyFunction>(doc: string, checks: ChecksOf<Parameters<F>>): AddonFunction<F> {
  return { doc, checks: checks as readonly Check[] };
}

export interface AddonSurface<Fns extends Record<string, AddonFunction> = Record<string, AddonFunction>> {
  /** The file name of the generated table: gen/addon/<name>.inc. */
  name: string;
  /** The C++ file that defines the functions (JS name fooBar: C++ FooBar) and includes the table. */
  source: string;
  functions: Fns;
}

export function surface<Fns extends Record<string, AddonFunction>>(s: AddonSurface<Fns>): AddonSurface<Fns> {
  return s;
}

/** The functions of a surface as the addon object has them. */
export type AddonOf<S extends AddonSurface> = {
  [K in keyof S['functions']]: S['functions'][K] extends AddonFunction<infer F> ? F : never;
};
