/** Declares `name` with C type `type` (function-pointer types get the name inside). */
export function declare(type: string, name: string): string {
  const fp = type.match(/^(.*)\(\*\)(.*)$/);
  if (fp) return `${fp[1]}(*${name})${fp[2]}`;
  return type.endsWith('*') ? `${type}${name}` : `${type} ${name}`;
}

/** A C function's prototype from its name, return type and parameters (`void` for none). */
export function prototype(c: { name: string; ret: string; params: readonly { name: string; type: string }[] }): string {
  const params = c.params.length ? c.params.map((q) => declare(q.type, q.name)).join(', ') : 'void';
  return `${declare(c.ret, c.name)}(${params})`;
}
