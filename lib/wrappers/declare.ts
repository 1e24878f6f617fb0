/** Declares `name` with C type `type` (function-pointer types get the name inside). */
export function declare(type: string, name: string): string {
  const fp = type.match(/^(.*)\(\*\)(.*)$/);
  if (fp) return `${fp[1]}(*${name})${fp[2]}`;
  return type.endsWith('*') ? `${type}${name}` : `${type} ${name}`;
}
