// The documentation runs as written: every fenced code block of README.md and docs/*.md.
//
// Conventions (also stated in docs/api.md, "About the examples"):
//  - js: runs in a child `node` process, from a file inside the repository, so that
//    require('vecsqlite') / import 'vecsqlite' resolve to this package (package self-reference).
//    A block with an `import` statement is an ES module (.mjs), any other block CommonJS (.cjs).
//  - ts: compiled with the TypeScript compiler's transpileModule to an ES module (.mjs), then run
//    like js. All ts blocks are also type-checked together against lib/index.d.ts.
//  - Each js / ts block runs alone, in a new empty directory (its working directory), with
//    VECSQLITE_MYSQL_URL pointing at a fresh MariaDB database when one is reachable.
//  - sql: the sql blocks of one page run in order on one better-sqlite3 `:memory:` connection with
//    vecsqlite loaded, statement by statement. A statement followed on its line by
//    `-- => text` must return exactly one row, printed as `text`; `-- error: message` must fail
//    with that message.
//  - output: the block right after a js, ts, sql or sh block holds what it prints: stdout for
//    js / ts / sh, and for sql the rows of every statement of the block. Rows print one a line,
//    columns joined by `|`, NULL as NULL, blobs as X'hex', numbers as JavaScript prints them.
//  - sh: each command (lines joined at a trailing `\`) is run or checked by its first word:
//    `sqlite3` runs (bash, in a new directory inside the repository); `npm test` / `npm run X`
//    must name a script of package.json, `npm install <pkg>` this package or one of its
//    dependencies; `node <file>` must name an existing file whose --options it parses (the
//    benchmarks are not run here); `mariadb` / `mysql` must read an existing file;
//    `vecsqlite <command>` must be a command of the CLI, with options it lists in --help.
//    Any repository path a command names must exist.
//  - text: not run (synopses, diagrams). Any other fence language fails this test.
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import Database from 'better-sqlite3';
import * as ts from 'typescript';
import { load } from '../src';
import { openTestMysql, type TestMysql } from './helpers/mysql';

const root = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string; scripts: Record<string, string>; bin: Record<string, string>;
  dependencies: Record<string, string>; devDependencies: Record<string, string>;
};

const LANGS = ['js', 'ts', 'sql', 'sh', 'text', 'output'] as const;
type Lang = (typeof LANGS)[number];

interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  /** The `output` block that follows, if any. */
  output?: Block;
}

/** Fenced blocks of a Markdown text (``` or ~~~, indented up to list depth), outputs attached. */
function extractBlocks(page: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = lines[j];
      if (l.trim().startsWith(fence[0].repeat(fence.length)) && l.trim().replace(new RegExp(`^\\${fence[0]}+`), '').trim() === '') break;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
    }
    if (j === lines.length) throw new Error(`${page}:${i + 1}: unclosed code fence`);
    blocks.push({ page, line: i + 1, lang, code: body.join('\n') + '\n' });
    i = j;
  }
  const out: Block[] = [];
  for (const b of blocks) {
    if (b.lang === 'output') {
      const prev = out[out.length - 1];
      if (!prev || !['js', 'ts', 'sql', 'sh'].includes(prev.lang) || prev.output) {
        throw new Error(`${page}:${b.line}: an output block must follow a js, ts, sql or sh block`);
      }
      prev.output = b;
    } else {
      out.push(b);
    }
  }
  return out;
}

/** Trailing spaces and surrounding blank lines do not count. */
function normalize(s: string): string {
  return s.replace(/[ \t]+$/gm, '').replace(/^\n+|\n+$/g, '');
}

const pages = ['README.md', ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const blocksOf = new Map(pages.map((p) => [p, extractBlocks(p, fs.readFileSync(path.join(root, p), 'utf8'))]));
const allBlocks = [...blocksOf.values()].flat();

// Scratch space inside the repository (so that 'vecsqlite' resolves to this package), removed at the end.
let scratch = '';
let scratchCount = 0;
function newDir(): string {
  if (!scratch) scratch = fs.mkdtempSync(path.join(root, '.doctest-'));
  const dir = path.join(scratch, String(++scratchCount));
  fs.mkdirSync(dir);
  return dir;
}

let mysqlDb: TestMysql | null = null;
let mysqlTried = false;
async function mysqlUrl(): Promise<string | null> {
  if (!mysqlTried) {
    mysqlTried = true;
    mysqlDb = await openTestMysql('docs');
  }
  return mysqlDb ? mysqlDb.url : null;
}

afterAll(async () => {
  await mysqlDb?.close();
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

function where(b: Block): string {
  return `${b.page}:${b.line}`;
}

function checkOutput(b: Block, actual: string): void {
  if (!b.output) return;
  const want = normalize(b.output.code);
  const got = normalize(actual);
  if (got !== want) throw new Error(`${where(b)}: printed\n${got}\n-- but ${where(b.output)} says --\n${want}`);
}

// ---------------------------------------------------------------------------------- js / ts
function transpile(b: Block): string {
  const r = ts.transpileModule(b.code, {
    compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
    fileName: 'block.ts',
  });
  if (r.diagnostics && r.diagnostics.length) {
    throw new Error(`${where(b)}: ${r.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; ')}`);
  }
  return r.outputText;
}

async function runScript(b: Block): Promise<void> {
  const needsMysql = /mysql:\/\//.test(b.code);
  const url = await mysqlUrl();
  if (needsMysql && url === null) return; // openTestMysql said so loudly (and fails in CI)
  const dir = newDir();
  const esm = b.lang === 'ts' || /^\s*import\s/m.test(b.code);
  const file = path.join(dir, `block${esm ? '.mjs' : '.cjs'}`);
  fs.writeFileSync(file, b.lang === 'ts' ? transpile(b) : b.code);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (url) env.VECSQLITE_MYSQL_URL = url;
  else delete env.VECSQLITE_MYSQL_URL;
  const r = spawnSync(process.execPath, [file], { cwd: dir, env, encoding: 'utf8', timeout: 60000 });
  if (r.status !== 0) {
    throw new Error(`${where(b)}: exited with ${r.status ?? r.signal}\n${r.stderr}${r.error ? String(r.error) : ''}`);
  }
  checkOutput(b, r.stdout);
}

// ---------------------------------------------------------------------------------------- sql
/** Statements with their `-- =>` / `-- error:` annotations. */
function splitSql(code: string): { sql: string; expect?: string; error?: string }[] {
  // Candidate ends: semicolons outside quotes and comments.
  const ends: number[] = [];
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === "'" || c === '"' || c === '`') {
      const close = code.indexOf(c, i + 1);
      i = close < 0 ? code.length : close;
    } else if (c === '[') {
      const close = code.indexOf(']', i + 1);
      i = close < 0 ? code.length : close;
    } else if (c === '-' && code[i + 1] === '-') {
      const nl = code.indexOf('\n', i);
      i = nl < 0 ? code.length : nl;
    } else if (c === '/' && code[i + 1] === '*') {
      const close = code.indexOf('*/', i + 2);
      i = close < 0 ? code.length : close + 1;
    } else if (c === ';') {
      ends.push(i + 1);
    }
  }
  const stripComments = (s: string) => s.replace(/--[^\n]*/g, '').replace(/\/\*[\s\S]*?\*\//g, '').trim();
  const out: { sql: string; expect?: string; error?: string }[] = [];
  let start = 0;
  for (const end of ends) {
    const sql = code.slice(start, end);
    if (stripComments(sql) === '' || stripComments(sql) === ';') { start = end; continue; }
    if (!isComplete(sql)) continue;
    const rest = code.slice(end);
    const m = /^[ \t]*--[ \t]*(=>|error:)[ \t]?([^\n]*)/.exec(rest);
    const s: { sql: string; expect?: string; error?: string } = { sql: sql.trim() };
    if (m && m[1] === '=>') s.expect = m[2].trim();
    if (m && m[1] === 'error:') s.error = m[2].trim();
    out.push(s);
    start = end;
  }
  if (stripComments(code.slice(start)) !== '') throw new Error(`statement without a final semicolon: ${code.slice(start).trim()}`);
  return out;
}

/** A CREATE TRIGGER statement holds semicolons in its body: it is complete at its END. */
function isComplete(sql: string): boolean {
  const stripped = sql.replace(/--[^\n]*/g, '').replace(/'[^']*'/g, "''").trim();
  if (!/^create\s+(temp\s+|temporary\s+)?trigger\b/i.test(stripped)) return true;
  return /\bend\s*;$/i.test(stripped);
}

function formatValue(v: unknown): string {
  if (v === null) return 'NULL';
  if (Buffer.isBuffer(v)) return `X'${v.toString('hex').toUpperCase()}'`;
  return String(v);
}

function formatRows(rows: unknown[][]): string[] {
  return rows.map((r) => r.map(formatValue).join('|'));
}

function runSqlBlock(db: Database.Database, b: Block): void {
  const printed: string[] = [];
  for (const s of splitSql(b.code)) {
    let rows: unknown[][] | null = null;
    try {
      const stmt = db.prepare(s.sql);
      if (stmt.reader) rows = stmt.raw(true).all() as unknown[][];
      else stmt.run();
    } catch (e) {
      const message = (e as Error).message;
      if (s.error === undefined) throw new Error(`${where(b)}: ${s.sql}\nfailed: ${message}`);
      if (message !== s.error) throw new Error(`${where(b)}: ${s.sql}\nfailed with "${message}", the page says "${s.error}"`);
      continue;
    }
    if (s.error !== undefined) throw new Error(`${where(b)}: ${s.sql}\nsucceeded, the page says it fails with "${s.error}"`);
    if (rows) printed.push(...formatRows(rows));
    if (s.expect !== undefined) {
      const got = rows ? formatRows(rows) : [];
      if (got.length !== 1 || got[0] !== s.expect) {
        throw new Error(`${where(b)}: ${s.sql}\nreturned ${JSON.stringify(got)}, the page says "${s.expect}"`);
      }
    }
  }
  checkOutput(b, printed.join('\n'));
}

// ----------------------------------------------------------------------------------------- sh
/** Commands of a shell block: continuation lines joined, comments and blank lines dropped. */
function shellCommands(code: string): string[] {
  const joined = code.replace(/\\\n/g, ' ');
  const out: string[] = [];
  for (const line of joined.split('\n')) {
    let cmd = '';
    let quote = '';
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === "'" || c === '"') {
        quote = c;
      } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
        break;
      }
      cmd += c;
    }
    if (cmd.trim()) out.push(cmd.trim().replace(/\s+/g, ' '));
  }
  return out;
}

/** Words of a command outside quotes (enough for the checks below). */
function words(cmd: string): string[] {
  return (cmd.match(/'[^']*'|"(?:[^"\\]|\\.)*"|\S+/g) ?? []).map((w) => w.replace(/^['"]|['"]$/g, ''));
}

/** A path as a user of the package writes it (node_modules/vecsqlite/...) is a path of this repository. */
function repoPath(p: string): string {
  return p.replace(/^<?(\.\/)?/, '').replace(/^node_modules\/vecsqlite\//, '');
}

function checkRepoPaths(b: Block, ws: string[]): void {
  for (const w of ws) {
    const p = repoPath(w);
    const first = p.split('/')[0];
    if (!p.includes('/') || p.includes('://') || p.startsWith('/') || p.startsWith('-')) continue;
    if (!fs.existsSync(path.join(root, first))) continue; // not a repository path (e.g. a user's file)
    if (!fs.existsSync(path.join(root, p))) throw new Error(`${where(b)}: names ${p}, which does not exist`);
  }
}

const cliHelp = new Map<string, string>();
function vecsqliteHelp(sub: string): string {
  if (!cliHelp.has(sub)) {
    cliHelp.set(sub, execFileSync(process.execPath, [path.join(root, pkg.bin.vecsqlite), sub, '--help'], { encoding: 'utf8' }));
  }
  return cliHelp.get(sub)!;
}

function checkOrRunCommand(b: Block, cmd: string, printed: string[]): void {
  let ws = words(cmd);
  while (ws.length && /^[A-Z_][A-Z0-9_]*=/.test(ws[0])) ws = ws.slice(1); // VAR=value prefixes
  const [prog, ...args] = ws;
  checkRepoPaths(b, args);
  const known = new Set([pkg.name, ...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
  switch (prog) {
    case 'npm': {
      const [sub, ...rest] = args;
      if (sub === 'test') {
        if (!pkg.scripts.test) throw new Error(`${where(b)}: no test script in package.json`);
      } else if (sub === 'run') {
        if (!pkg.scripts[rest[0]]) throw new Error(`${where(b)}: npm run ${rest[0]}: no such script in package.json`);
      } else if (sub === 'install' || sub === 'i' || sub === 'ci' || sub === 'rebuild' || (sub === 'install-scripts' && rest[0] === 'approve')) {
        for (const p of (sub === 'install-scripts' ? rest.slice(1) : rest).filter((w) => !w.startsWith('-'))) {
          if (!known.has(p.replace(/(.)@.*$/, '$1'))) throw new Error(`${where(b)}: npm ${sub} ${p}: neither this package nor one of its dependencies`);
        }
      } else {
        throw new Error(`${where(b)}: npm ${sub}: this test does not know how to check it`);
      }
      return;
    }
    case 'node': {
      const file = args.find((a) => !a.startsWith('-'));
      if (!file || !fs.existsSync(path.join(root, file))) throw new Error(`${where(b)}: node ${file}: no such file`);
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      for (const o of args.filter((a) => /^--[a-z]/.test(a))) {
        const name = o.slice(2).split('=')[0];
        if (!text.includes(`'${name}'`) && !text.includes(`'--${name}'`)) throw new Error(`${where(b)}: ${file} does not read the option ${o}`);
      }
      return;
    }
    case 'mariadb':
    case 'mysql': {
      const redirect = cmd.match(/<\s*(\S+)/);
      if (!redirect || !fs.existsSync(path.join(root, repoPath(redirect[1])))) throw new Error(`${where(b)}: ${prog} should read an existing file: ${cmd}`);
      return;
    }
    case 'vecsqlite': {
      const [sub, ...rest] = args;
      const help = vecsqliteHelp(sub);
      for (const o of rest.filter((a) => a.startsWith('--'))) {
        if (!new RegExp(`(^|[\\s,])${o.replace(/[-]/g, '\\-')}\\b`).test(help)) throw new Error(`${where(b)}: vecsqlite ${sub} has no option ${o}`);
      }
      return;
    }
    case 'sqlite3': {
      const dir = newDir();
      const r = spawnSync('bash', ['-c', cmd], { cwd: dir, encoding: 'utf8', timeout: 60000 });
      if (r.status !== 0 || r.stderr) throw new Error(`${where(b)}: ${cmd}\nexited with ${r.status}: ${r.stderr}`);
      printed.push(r.stdout);
      return;
    }
    default:
      throw new Error(`${where(b)}: ${prog}: this test does not know how to run or check it`);
  }
}

function runShellBlock(b: Block): void {
  const printed: string[] = [];
  for (const cmd of shellCommands(b.code)) checkOrRunCommand(b, cmd, printed);
  if (b.output) checkOutput(b, printed.join(''));
}

// ------------------------------------------------------------------------------------ the tests
test('the pages have code blocks, all in known languages', () => {
  expect(blocksOf.get('README.md')!.length).toBeGreaterThan(3);
  for (const b of allBlocks) {
    if (!(LANGS as readonly string[]).includes(b.lang)) throw new Error(`${where(b)}: fence language "${b.lang}" (use one of ${LANGS.join(', ')})`);
  }
});

const haveSqlite3 = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0;
if (!haveSqlite3) {
  if (process.env.CI) throw new Error('the sqlite3 CLI is required in CI (docs run sqlite3 examples)');
  console.warn('*** SKIPPED: no sqlite3 CLI; the sqlite3 examples of the docs did not run ***');
}

for (const page of pages) {
  describe(page, () => {
    let db: Database.Database | null = null;
    const sqlDb = () => {
      if (!db) {
        db = new Database(':memory:');
        load(db);
      }
      return db;
    };
    afterAll(() => db?.close());
    for (const b of blocksOf.get(page)!) {
      const lang = b.lang as Lang;
      if (lang === 'text') continue;
      test(`${b.lang} block at line ${b.line}`, async () => {
        if (lang === 'js' || lang === 'ts') await runScript(b);
        else if (lang === 'sql') runSqlBlock(sqlDb(), b);
        else if (lang === 'sh') {
          if (!haveSqlite3 && /(^|\n)\s*sqlite3\s/.test(b.code)) return;
          runShellBlock(b);
        }
      });
    }
  });
}

test('the ts blocks type-check against the package typings', () => {
  const tsBlocks = allBlocks.filter((b) => b.lang === 'ts');
  if (tsBlocks.length === 0) return;
  const dir = newDir();
  const files = tsBlocks.map((b, i) => {
    const f = path.join(dir, `block${i}.mts`);
    fs.writeFileSync(f, b.code);
    return f;
  });
  const program = ts.createProgram(files, {
    module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, target: ts.ScriptTarget.ES2022,
    strict: true, noEmit: true, skipLibCheck: true, esModuleInterop: true, types: ['node'],
  });
  const problems = ts.getPreEmitDiagnostics(program).map((d) => {
    const i = d.file ? files.indexOf(d.file.fileName) : -1;
    const at = i >= 0 && d.start !== undefined ? `${where(tsBlocks[i])} +${d.file!.getLineAndCharacterOfPosition(d.start).line + 1}` : '';
    return `${at}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
  expect(problems).toEqual([]);
});

test('the benchmark data behind the plots is the data of docs/benchmarks.md', () => {
  const dataDir = path.join(root, 'docs', 'data');
  const page = fs.readFileSync(path.join(root, 'docs', 'benchmarks.md'), 'utf8');
  const files = fs.readdirSync(dataDir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThan(0);
  for (const f of files) {
    const data = JSON.parse(fs.readFileSync(path.join(dataDir, f), 'utf8')) as { image?: string; rows: Record<string, unknown>[] };
    for (const row of data.rows) {
      for (const [k, v] of Object.entries(row)) {
        if (typeof v === 'number' && !page.includes(String(v))) throw new Error(`docs/data/${f}: ${k} = ${v} is not in docs/benchmarks.md`);
      }
    }
    const image = `img/${f.replace(/\.json$/, '')}`;
    for (const ext of ['svg', 'png']) {
      if (!fs.existsSync(path.join(root, 'docs', `${image}.${ext}`))) throw new Error(`docs/${image}.${ext} is missing (npm run docs:plots)`);
    }
    if (!page.includes(`(${image}.svg)`)) throw new Error(`docs/benchmarks.md does not show ${image}.svg`);
  }
});

test('the pages link only to files that exist', () => {
  for (const page of pages) {
    const text = fs.readFileSync(path.join(root, page), 'utf8');
    for (const m of text.matchAll(/\]\(([^)\s#]+)(#[^)\s]*)?\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/.test(target)) continue;
      const file = path.join(root, path.dirname(page), target);
      if (!fs.existsSync(file)) throw new Error(`${page}: link to ${target}, which does not exist`);
    }
  }
});

test('docs/api.md names every export of the package and of vecsync', () => {
  const api = fs.readFileSync(path.join(root, 'docs', 'api.md'), 'utf8');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const lib = require(path.join(root, 'lib', 'index.js')) as Record<string, unknown> & { vecsync: Record<string, unknown> };
  const names = new Set([...Object.keys(lib), ...Object.keys(lib.vecsync)]);
  // Type exports: interfaces and type aliases of the public modules.
  for (const f of ['src/index.ts', 'src/errors.ts', 'src/vecutil.ts', ...fs.readdirSync(path.join(root, 'src', 'vecsync')).map((n) => `src/vecsync/${n}`)]) {
    for (const m of fs.readFileSync(path.join(root, f), 'utf8').matchAll(/^export (?:interface|type) (\w+)/gm)) names.add(m[1]);
  }
  const missing = [...names].filter((n) => n !== '__esModule' && !new RegExp('`[^`]*\\b' + n + '\\b[^`]*`').test(api));
  expect(missing).toEqual([]);
});
