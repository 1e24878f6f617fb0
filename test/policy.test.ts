import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkPolicy, defaultPolicy, loadPolicy, parsePolicy, policyFor, PolicyError, type Policy } from '../lib/recovery/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'nooks-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const example = `
default:            # applies to every driver without its own entry
  action: restart
  maxFailures: 5
  windowMs: 60000
  timeBudgetMs: 2000
  memLimitBytes: 67108864
drivers:
  crashy: { action: restart, maxFailures: 3, windowMs: 10000 }
  blk: { shadow: false }
  tool: { preventRestartExitStatus: [1, 78] }
`;

describe('loadPolicy', () => {
  it('loads the YAML example and merges driver entries over the default', () => {
    const policy = loadPolicy(file('policy.yaml', example));
    const usage = [2, 64]; // a usage error, and sysexits.h's EX_USAGE: not restarted by default
    expect(policy.default).toEqual({ action: 'restart', maxFailures: 5, windowMs: 60000, timeBudgetMs: 2000, memLimitBytes: 67108864, stallMs: 5000, shadow: true, preventRestartExitStatus: usage });
    expect(policyFor(policy, 'crashy')).toEqual({ action: 'restart', maxFailures: 3, windowMs: 10000, timeBudgetMs: 2000, memLimitBytes: 67108864, stallMs: 5000, shadow: true, preventRestartExitStatus: usage });
    expect(policyFor(policy, 'blk')).toEqual({ ...policy.default, shadow: false });
    expect(policyFor(policy, 'tool')).toEqual({ ...policy.default, preventRestartExitStatus: [1, 78] });
    expect(policyFor(policy, 'other')).toBe(policy.default);
  });

  it('loads JSON and .yml', () => {
    const json = loadPolicy(file('p.json', JSON.stringify({ default: { maxFailures: 2 }, drivers: { net: { timeBudgetMs: 50 } } })));
    expect(json.default.maxFailures).toBe(2);
    expect(policyFor(json, 'net')).toMatchObject({ maxFailures: 2, timeBudgetMs: 50, windowMs: 60000 });
    expect(loadPolicy(file('p.yml', 'drivers:\n  a: { windowMs: 1 }\n')).drivers.get('a')?.windowMs).toBe(1);
  });

  it('fills in the built-in defaults for an empty or sparse file', () => {
    expect(loadPolicy(file('empty.yaml', '# nothing yet\n'))).toEqual(defaultPolicy);
    expect(loadPolicy(file('sparse.yaml', 'default:\ndrivers:\n  quiet:\n'))).toEqual({
      default: defaultPolicy.default,
      drivers: new Map([['quiet', defaultPolicy.default]]),
    });
  });

  it('resolves fallback paths, inherited from the default', () => {
    const policy = parsePolicy(
      'default: { action: fallback, fallback: drivers/null.so }\ndrivers:\n  a: { maxFailures: 1 }\n  b: { fallback: drivers/b-safe.so }\n  c: { action: disable }\n',
      'p.yaml',
    );
    expect(policyFor(policy, 'a')).toMatchObject({ action: 'fallback', fallback: 'drivers/null.so', maxFailures: 1 });
    expect(policyFor(policy, 'b')).toMatchObject({ action: 'fallback', fallback: 'drivers/b-safe.so' });
    expect(policyFor(policy, 'c')).not.toHaveProperty('fallback');
  });

  it('reports a missing file, a directory and a wrong extension', () => {
    expect(() => loadPolicy(join(dir, 'absent.yaml'))).toThrow(`${join(dir, 'absent.yaml')}: no such policy file`);
    mkdirSync(join(dir, 'adir.yaml'));
    expect(() => loadPolicy(join(dir, 'adir.yaml'))).toThrow(`${join(dir, 'adir.yaml')}: is a directory, not a policy file`);
    // the extension is checked first, even for a file that does not exist
    expect(() => loadPolicy(join(dir, 'absent.toml'))).toThrow('absent.toml: a policy file must end in .json, .yaml or .yml');
    expect(() => parsePolicy('{}', 'policy')).toThrow('policy: a policy file must end in .json, .yaml or .yml');
  });

  it('reports syntax errors with line and column', () => {
    const yaml = file('bad.yaml', 'default:\n  action: restart\n  maxFailures: [1, 2\n');
    expect(() => loadPolicy(yaml)).toThrow(new RegExp(`^${yaml}:4:1: .*end with a \\]`));
    expect(() => parsePolicy('drivers:\n  a: {}\n  a: {}\n', 'dup.yaml')).toThrow('dup.yaml:3:3: Map keys must be unique');
    expect(() => parsePolicy('{\n  "default": {\n    "action": "restart",\n  }\n}', 'p.json')).toThrow(/^p\.json:4:3: /);
    expect(() => parsePolicy('', 'p.json')).toThrow('p.json: Unexpected end of JSON input');
  });
});

describe('checkPolicy (a Policy built in code)', () => {
  it('names the entry and the key a hand-built policy lacks', () => {
    const partial = { default: { action: 'restart', maxFailures: 3 }, drivers: new Map() } as unknown as Policy;
    const spread = ' (spread defaultPolicy.default into entries built in code)';
    expect(() => checkPolicy(partial)).toThrow(new PolicyError(['policy: 6 problems:',
      ...['windowMs', 'timeBudgetMs', 'memLimitBytes', 'stallMs'].map((key) => `  default.${key}: expected a positive integer, got undefined${spread}`),
      `  default.shadow: expected true or false, got undefined${spread}`,
      `  default.preventRestartExitStatus: expected a list of exit statuses (integers 0 to 255), got undefined${spread}`].join('\n')));
    const complete = { default: { ...defaultPolicy.default }, drivers: new Map([['blk', { ...defaultPolicy.default, shadow: 'yes' }]]) } as unknown as Policy;
    expect(() => checkPolicy(complete)).toThrow(new PolicyError('policy: drivers.blk.shadow: expected true or false, got "yes"'));
    expect(checkPolicy(defaultPolicy)).toBe(defaultPolicy);
  });

  // Before: checked by typeof only, so null (typeof 'object', as a list's), [300] and [1.5] passed from code while
  // a policy file's list was checked as integers 0-255; and a typo'd key (timeBudget) passed unseen.
  it.each([
    ['preventRestartExitStatus', null], ['preventRestartExitStatus', [300]], ['preventRestartExitStatus', [1.5]],
    ['maxFailures', 0], ['timeBudgetMs', 1.5], ['action', 'reboot'], ['timeBudget', 100],
  ])('refuses %s: %j in the words a policy file\'s check uses', (key, value) => {
    const built = { default: defaultPolicy.default, drivers: new Map([['prog', { ...defaultPolicy.default, [key]: value }]]) } as unknown as Policy;
    const file = JSON.stringify({ drivers: { prog: { [key]: value } } });
    const fileMessage = (() => {
      try {
        parsePolicy(file, 'policy.json');
      } catch (e) {
        return (e as Error).message;
      }
    })();
    expect(fileMessage).toMatch(/^policy\.json: drivers\.prog\./);
    expect(() => checkPolicy(built)).toThrow(new PolicyError(fileMessage!.replace(/^policy\.json: /, 'policy: ')));
  });

  it('takes a policy written like the file (drivers a mapping, keys optional) and checks it as the file is checked', () => {
    const policy = checkPolicy({ default: { maxFailures: 2 }, drivers: { crashy: { action: 'disable' } } });
    expect(policy.default).toEqual({ ...defaultPolicy.default, maxFailures: 2 });
    expect(policyFor(policy, 'crashy')).toEqual({ ...defaultPolicy.default, maxFailures: 2, action: 'disable' });
    expect(checkPolicy({}).drivers).toEqual(new Map());
    expect(() => checkPolicy({ drivers: { crashy: { maxFailures: -1 } } })).toThrow(new PolicyError('policy: drivers.crashy.maxFailures: expected a positive integer, got -1'));
    expect(() => checkPolicy({ drivers: [] } as never)).toThrow(new PolicyError('policy: drivers: expected a mapping, got a list'));
  });
});

describe('parsePolicy validation', () => {
  const cases: [string, string][] = [
    ['drivers:\n  crashy: { maxFailures: three }\n', 'policy.yaml: drivers.crashy.maxFailures: expected a positive integer, got "three"'],
    ['default: { windowMs: 0 }\n', 'policy.yaml: default.windowMs: expected a positive integer, got 0'],
    ['default: { timeBudgetMs: 1.5 }\n', 'policy.yaml: default.timeBudgetMs: expected a positive integer, got 1.5'],
    ['default: { memLimitBytes: -1 }\n', 'policy.yaml: default.memLimitBytes: expected a positive integer, got -1'],
    ['default: { maxFailures: }\n', 'policy.yaml: default.maxFailures: expected a positive integer, got null'],
    ['default: { action: reboot }\n', 'policy.yaml: default.action: expected one of restart, disable, fallback, got "reboot"'],
    ['drivers: { x: { action: [restart] } }\n', 'policy.yaml: drivers.x.action: expected one of restart, disable, fallback, got a list'],
    ['drivers: { x: { maxFailure: 3 } }\n', 'policy.yaml: drivers.x.maxFailure: unknown key (expected one of action, fallback, maxFailures, windowMs, timeBudgetMs, memLimitBytes, stallMs, shadow, preventRestartExitStatus)'],
    ['default: { shadow: yes please }\n', 'policy.yaml: default.shadow: expected true or false, got "yes please"'],
    ['default: { preventRestartExitStatus: 2 }\n', 'policy.yaml: default.preventRestartExitStatus: expected a list of exit statuses (integers 0 to 255), got 2'],
    ['drivers: { x: { preventRestartExitStatus: [2, 256] } }\n', 'policy.yaml: drivers.x.preventRestartExitStatus: expected a list of exit statuses (integers 0 to 255), got 256'],
    ['defaults: {}\n', 'policy.yaml: defaults: unknown key (expected one of default, drivers)'],
    ['- restart\n', 'policy.yaml: expected a mapping, got a list'],
    ['drivers: [a, b]\n', 'policy.yaml: drivers: expected a mapping, got a list'],
    ['drivers: { x: 3 }\n', 'policy.yaml: drivers.x: expected a mapping, got 3'],
    ['drivers: { "my driver": { action: x } }\n', 'policy.yaml: drivers["my driver"].action: expected one of restart, disable, fallback, got "x"'],
    ['drivers: { x: { action: fallback } }\n', 'policy.yaml: drivers.x: action "fallback" needs a "fallback" key with the path of the fallback driver'],
    ['default: { action: fallback, fallback: 7 }\n', 'policy.yaml: default.fallback: expected the path of the fallback driver, got 7'],
    ['default: { action: fallback, fallback: "" }\n', 'policy.yaml: default.fallback: expected the path of the fallback driver, got ""'],
    ['drivers: { x: { fallback: safe.so } }\n', 'policy.yaml: drivers.x.fallback: only used with action "fallback", but action is "restart"'],
  ];
  it.each(cases)('%j', (text, message) => {
    expect(() => parsePolicy(text, 'policy.yaml')).toThrow(new PolicyError(message));
  });

  it('names the file in JSON schema errors too', () => {
    expect(() => parsePolicy('{"default": {"maxFailures": "5"}}', 'conf/p.json')).toThrow(
      'conf/p.json: default.maxFailures: expected a positive integer, got "5"',
    );
  });
});
