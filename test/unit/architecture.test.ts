import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The layering the folders' header sentences promise, checked on the sources: no import cycle anywhere, and
 * each layer of the functions imports only what it may (the core speaks neither AWS nor HTTP).
 */
const ROOT = join(__dirname, '..', '..');
const FOLDERS = ['bin', 'lib', 'lambdas', 'local', 'cli', 'contract'];

function sourcesUnder(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourcesUnder(path);
    return /\.(ts|mjs)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * Every module specifier a file imports or re-exports, type-only imports included, and those it loads for their
 * side effects (`import 'x'`), by `require('x')` or by `import('x')`.
 */
function specifiersIn(text: string): string[] {
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms,
    /^\s*import\s+'([^']+)'/gm,
    /\b(?:require|import)\(\s*'([^']+)'\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]));
}

const specifiersOf = (file: string): string[] => specifiersIn(readFileSync(file, 'utf8'));

function resolveLocal(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // next candidate
    }
  }
  return undefined;
}

const files = FOLDERS.flatMap((folder) => sourcesUnder(join(ROOT, folder)));
const graph = new Map(
  files.map((file) => [
    file,
    specifiersOf(file)
      .map((specifier) => resolveLocal(file, specifier))
      .filter((target): target is string => target !== undefined),
  ]),
);

/** One cycle, as a path of files relative to the repository, or undefined when the graph has none. */
function findCycle(): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string): string[] | undefined => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state.set(file, 'done');
    return undefined;
  };
  for (const file of graph.keys()) {
    if (state.has(file)) continue;
    const cycle = visit(file);
    if (cycle) return cycle.map((path) => relative(ROOT, path));
  }
  return undefined;
}

const AWS = ['@aws-sdk/', 'aws-lambda', 'aws-cdk-lib', 'constructs', '@aws-lambda-powertools/'];

/** The imports of the files in `folder` that start with any of `forbidden`, as "file: specifier". */
function forbiddenImports(folder: string, forbidden: string[]): string[] {
  return sourcesUnder(join(ROOT, folder)).flatMap((file) =>
    specifiersOf(file)
      .filter((specifier) => forbidden.some((prefix) => specifier.startsWith(prefix)))
      .map((specifier) => `${relative(ROOT, file)}: ${specifier}`),
  );
}

/** Each folder's main file, whose first comment says what lives in the folder and what it may import. */
const MAIN_FILES: Record<string, string> = {
  bin: 'bin/app.ts',
  lib: 'lib/index.ts',
  contract: 'contract/index.ts',
  'lambdas/core': 'lambdas/core/ports.ts',
  'lambdas/use-cases': 'lambdas/use-cases/dependencies.ts',
  'lambdas/operations': 'lambdas/operations/index.ts',
  'lambdas/http': 'lambdas/http/api-function.ts',
  'lambdas/sqs': 'lambdas/sqs/batch.ts',
  'lambdas/adapters': 'lambdas/adapters/dynamo-job-repository.ts',
  'lambdas/runtime': 'lambdas/runtime/create-dependencies.ts',
  'lambdas/functions': 'lambdas/functions/status.ts',
  'lambdas/runtime/ports': 'lambdas/runtime/ports/dynamo.ts',
  local: 'local/stack.ts',
  'local/cloud': 'local/cloud/app-model.ts',
  'local/iam': 'local/iam/iam-proxy.ts',
  'local/lambda': 'local/lambda/local-function.ts',
  'local/simulator': 'local/simulator/index.ts',
  cli: 'cli/main.ts',
  scripts: 'scripts/set-secrets.ts',
  bench: 'bench/all.ts',
  'test/support': 'test/support/local-stack.ts',
};

/** The imports of the files in `folder` that start with none of `allowed`, as "file: specifier". */
function importsOutside(folder: string, allowed: string[]): string[] {
  return sourcesUnder(join(ROOT, folder)).flatMap((file) =>
    specifiersOf(file)
      .filter((specifier) => !allowed.some((prefix) => specifier.startsWith(prefix)))
      .map((specifier) => `${relative(ROOT, file)}: ${specifier}`),
  );
}

describe('architecture', () => {
  it.each(Object.entries(MAIN_FILES))('%s says at the top of its main file what lives there', (folder, file) => {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/^#!.*\n/, '');
    expect(text.startsWith('/**')).toBe(true);
    const first = text.slice(0, text.indexOf('*/'));
    expect(
      first.includes(`${folder}/`) || first.includes('construct library') || first.includes('deployment contract'),
    ).toBe(true);
  });

  it('names a main file for every folder of sources', () => {
    const folders = new Set(files.map((file) => relative(ROOT, dirname(file))));
    for (const folder of ['lambdas', 'local/simulator/fixtures']) folders.delete(folder);
    expect([...folders].filter((folder) => !(folder in MAIN_FILES)).sort()).toEqual([]);
  });

  it('reads the imports of the sources (the check below is not vacuous)', () => {
    expect(files.length).toBeGreaterThan(100);
    const core = [...graph.entries()].find(([file]) => file.endsWith(join('lambdas', 'use-cases', 'submit-job.ts')));
    expect(core?.[1].some((target) => target.endsWith(join('core', 'errors.ts')))).toBe(true);
  });

  it('reads side-effect imports, require() and import() as imports (an AWS client cannot slip in through them)', () => {
    const text = [
      "import type { A } from 'a-type';",
      "export * from './b-reexport';",
      "import 'c-side-effect';",
      "const d = require('d-required');",
      "const e = await import('e-dynamic');",
    ].join('\n');
    expect(specifiersIn(text).sort()).toEqual(['./b-reexport', 'a-type', 'c-side-effect', 'd-required', 'e-dynamic']);
  });

  it('has no import cycle', () => {
    expect(findCycle()).toBeUndefined();
  });

  it('keeps the core free of AWS, HTTP and every outer layer: it imports itself, zod, Node and the contract', () => {
    expect(importsOutside('lambdas/core', ['./', 'node:', 'zod/', '../../contract/'])).toEqual([]);
    expect(forbiddenImports('lambdas/core', ['node:http'])).toEqual([]);
  });

  it('keeps the use cases free of AWS and of transport: they import core, the contract and Node', () => {
    expect(importsOutside('lambdas/use-cases', ['./', 'node:', '../core/', '../../contract/'])).toEqual([]);
  });

  it('keeps the operations free of AWS and of the adapters', () => {
    expect(forbiddenImports('lambdas/operations', [...AWS, '../adapters', '../runtime', '../sqs'])).toEqual([]);
  });
});
