// How an error with a code reads wherever nooks prints one (the command line,
// a trial's detail): its message, then the code in brackets, `... [ENOENT]`.
// The errors made in TypeScript carry it in their message; the addon's do not.

/** `message [CODE]`; a message that holds `[CODE]` already (or an error without a code) as it is. */
export function withCode(message: string, code: unknown): string {
  return typeof code !== 'string' || message.includes(`[${code}]`) ? message : `${message} [${code}]`;
}
