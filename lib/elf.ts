// Just enough ELF64 reading for the package's tools: section headers and
// dynamic symbols (for kernel modules' .modinfo, for the device classes a
// driver calls, and for tests that locate a symbol of a loaded object without
// binutils).
export interface Section {
  name: string;
  type: number;
  offset: number;
  size: number;
  link: number;
}

/** The error for a file that is no well-formed ELF64 object: code ENOTELF, as the loader's (native/loader/elf_check.cc). */
export function notElf(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: 'ENOTELF' });
}

/** Whether `elf` begins as an ELF64 file does. */
export function isElf(elf: Buffer): boolean {
  return elf.length > 4 && elf.readUInt32BE(0) === 0x7f454c46 && elf[4] === 2;
}

/**
 * The section headers (none for a file without: sstrip's). Bounds-checked: a damaged file gives an ENOTELF error
 * that says what is wrong, never a read past its end. e_shentsize must be 64, as the native loader requires.
 */
export function sections(elf: Buffer): Section[] {
  if (!isElf(elf) || elf.length < 0x40) throw notElf('not an ELF64 file');
  const shoff = Number(elf.readBigUInt64LE(0x28));
  const shentsize = elf.readUInt16LE(0x3a), shnum = elf.readUInt16LE(0x3c), shstrndx = elf.readUInt16LE(0x3e);
  if (shnum === 0) return [];
  if (shentsize !== 64) throw notElf(`malformed ELF file: section headers of ${shentsize} bytes (e_shentsize), not 64`);
  if (shoff + shnum * 64 > elf.length) throw notElf('malformed ELF file: the section headers extend past the end of the file');
  const raw = Array.from({ length: shnum }, (_, i) => {
    const o = shoff + i * 64;
    return {
      nameOff: elf.readUInt32LE(o), type: elf.readUInt32LE(o + 4), offset: Number(elf.readBigUInt64LE(o + 0x18)),
      size: Number(elf.readBigUInt64LE(o + 0x20)), link: elf.readUInt32LE(o + 0x28),
    };
  });
  const names = raw[shstrndx]; // none when e_shstrndx is out of range: the sections are nameless
  return raw.map((s) => ({ name: names ? cString(elf, names.offset + s.nameOff) : '', type: s.type, offset: s.offset, size: s.size, link: s.link }));
}

/** The NUL-terminated string at `at`; '' past the file's end, up to the end without a NUL. */
function cString(buf: Buffer, at: number): string {
  if (at >= buf.length) return '';
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

const SHT_DYNSYM = 11;

/** The dynamic symbols: name, section index (0: undefined, an import) and value. */
function* dynamicSymbols(elf: Buffer): Generator<{ name: string; shndx: number; value: number }> {
  const all = sections(elf);
  const dynsym = all.find((s) => s.type === SHT_DYNSYM);
  if (!dynsym) return;
  const strtab = all[dynsym.link];
  if (!strtab) throw notElf('malformed ELF file: the dynamic symbols\' string table (sh_link) is out of range');
  const end = Math.min(dynsym.offset + dynsym.size, elf.length);
  for (let o = dynsym.offset + 24; o + 24 <= end; o += 24) // entry 0 is the null symbol
    yield { name: cString(elf, strtab.offset + elf.readUInt32LE(o)), shndx: elf.readUInt16LE(o + 6), value: Number(elf.readBigUInt64LE(o + 8)) };
}

/** The value (address relative to the load base) of a defined dynamic symbol, or undefined. */
export function dynamicSymbol(elf: Buffer, name: string): number | undefined {
  for (const s of dynamicSymbols(elf)) if (s.shndx !== 0 && s.name === name) return s.value;
  return undefined;
}

const SHT_RELA = 4;
const R_X86_64_RELATIVE = 8;

/**
 * Whether the driver is a program (defines main), as the loader will find at load: the personality's
 * nooks_posix_main (native/driver-rt/posix/program.c) holds main's address, a relative relocation; NULL (none)
 * in a library-style driver, and no such symbol in a driver not built with --posix.
 */
export function definesMain(elf: Buffer): boolean {
  const at = dynamicSymbol(elf, 'nooks_posix_main');
  if (at === undefined) return false;
  for (const s of sections(elf).filter((x) => x.type === SHT_RELA)) {
    const end = Math.min(s.offset + s.size, elf.length);
    for (let o = s.offset; o + 24 <= end; o += 24) {
      if (Number(elf.readBigUInt64LE(o)) === at && Number(elf.readBigUInt64LE(o + 8) & 0xffffffffn) === R_X86_64_RELATIVE) return elf.readBigInt64LE(o + 16) !== 0n;
    }
  }
  return false;
}

/** The names of the symbols the object imports (undefined dynamic symbols). */
export function dynamicImports(elf: Buffer): string[] {
  return [...dynamicSymbols(elf)].filter((s) => s.shndx === 0).map((s) => s.name);
}
