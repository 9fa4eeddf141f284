import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * The source of @xmldom/xmldom as one script that, evaluated inside a sandbox (a node:vm realm or
 * a QuickJS context), returns `{ DOMParser, XMLSerializer }` built from that sandbox's own
 * intrinsics — so XML content becomes a DOM the chart can query without any host object
 * entering the sandbox.
 */
let cached: string | null = null;

const MODULES = ['conventions', 'errors', 'grammar', 'entities', 'sax', 'dom', 'dom-parser'];

export function xmldomBundleSource(): string {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  const libDir = path.dirname(require.resolve('@xmldom/xmldom/lib/dom-parser.js'));
  const factories = MODULES.map((name) => {
    const code = readFileSync(path.join(libDir, `${name}.js`), 'utf8');
    return `${JSON.stringify(`./${name}`)}: function (exports, require, module) {\n${code}\n}`;
  }).join(',\n');
  cached = `(function () {
  var factories = {${factories}};
  var cache = {};
  function load(name) {
    if (cache[name]) return cache[name].exports;
    var module = { exports: {} };
    cache[name] = module;
    factories[name](module.exports, load, module);
    return module.exports;
  }
  var dom = load('./dom');
  // Every class is returned so that the sandbox can freeze all of them, not only the two used.
  return { DOMParser: load('./dom-parser').DOMParser, XMLSerializer: dom.XMLSerializer, classes: dom };
})()`;
  return cached;
}
