// What the device classes' TypeScript sides share.

/**
 * Runs f, a call into the addon: an addon error (an Error with a `code`) comes
 * out as the class's own error type, with the same code and message.
 */
export function classCall<T, C extends string>(f: () => T, ClassError: new (code: C, message: string) => Error): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ClassError) throw e;
    const err = e as Error & { code?: string };
    if (err.code) throw new ClassError(err.code as C, err.message);
    throw e;
  }
}
