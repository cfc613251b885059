#!/usr/bin/env node
// `npm run docs:plots`: renders the charts of docs/benchmarks.md from the numbers in
// docs/data/*.json into docs/img/<name>.svg and .png (Vega-Lite specs rendered headlessly by
// Vega to SVG, then to PNG by resvg). Offline; no browser.
//
// Each data file: { title, machine, command, chart: { x, y, series, log, yTitle }, rows: [...] },
// rows in long form (one bar each): grouped bars of `y` per `x`, coloured by `series`; with
// chart.kind 'line', lines of `y` against a quantitative `x` (recall against QPS).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import { Resvg } from '@resvg/resvg-js';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.join(root, 'docs', 'data');
const imgDir = path.join(root, 'docs', 'img');
const FONT = 'DejaVu Sans';

// A line chart (chart.kind 'line'): `y` against a quantitative `x`, one line per `series`,
// points labelled by `label` (e.g. the search effort).
function lineSpec(data) {
  const { x, y, series, yTitle, xTitle, label } = data.chart;
  const xs = data.rows.map((r) => r[x]);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: data.title, subtitle: [data.machine, data.command], anchor: 'start', font: FONT, subtitleFont: FONT },
    width: 520,
    height: 300,
    background: 'white',
    config: { font: FONT, axis: { labelFont: FONT, titleFont: FONT }, legend: { labelFont: FONT, titleFont: FONT, orient: 'top' } },
    data: { values: data.rows },
    encoding: {
      x: { field: x, type: 'quantitative', title: xTitle || x, scale: { zero: false, domain: [Math.min(...xs), 1] } },
      y: { field: y, type: 'quantitative', title: yTitle, scale: { type: 'log' } },
      color: { field: series, type: 'nominal', sort: null, title: null, scale: { scheme: 'tableau10' } },
    },
    layer: [
      { mark: { type: 'line', point: true }, encoding: { order: { field: x, type: 'quantitative' } } },
      ...(label ? [{ mark: { type: 'text', dy: -8, fontSize: 8, font: FONT }, encoding: { text: { field: label } } }] : []),
    ],
  };
}

function spec(data) {
  if (data.chart.kind === 'line') return lineSpec(data);
  const { x, y, series, log, yTitle } = data.chart;
  const grouped = series !== x;
  const values = data.rows.map((r) => r[y]);
  // A log axis from the power of ten below the smallest bar to the one above the largest.
  const logDomain = [10 ** Math.floor(Math.log10(Math.min(...values))), 10 ** Math.ceil(Math.log10(Math.max(...values)))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: data.title, subtitle: [data.machine, data.command], anchor: 'start', font: FONT, subtitleFont: FONT },
    width: grouped ? { step: 34 } : { step: 70 },
    height: 260,
    background: 'white',
    config: { font: FONT, axis: { labelFont: FONT, titleFont: FONT }, legend: { labelFont: FONT, titleFont: FONT, orient: 'top' } },
    data: { values: data.rows },
    encoding: {
      x: { field: x, type: 'nominal', sort: null, title: null, axis: { labelAngle: -25, labelAlign: 'right', labelLimit: 260, labelFontSize: 11 } },
      ...(grouped ? { xOffset: { field: series, sort: null } } : {}),
      y: { field: y, type: 'quantitative', title: yTitle, scale: log ? { type: 'log', domain: logDomain, zero: false } : { zero: true } },
      ...(grouped ? { color: { field: series, type: 'nominal', sort: null, title: null, scale: { scheme: 'tableau10' } } } : {}),
    },
    layer: [
      // Bars on a log axis start at the bottom of the axis (0 has no place on it).
      { mark: { type: 'bar' }, encoding: log ? { y2: { datum: logDomain[0] } } : {} },
      { mark: { type: 'text', dy: -6, fontSize: 9, font: FONT }, encoding: { text: { field: y, type: 'quantitative' } } },
    ],
  };
}

async function render(name, data) {
  const compiled = vegaLite.compile(spec(data)).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  const png = new Resvg(svg, { fitTo: { mode: 'zoom', value: 2 }, font: { loadSystemFonts: true, defaultFontFamily: FONT } }).render().asPng();
  fs.writeFileSync(path.join(imgDir, `${name}.svg`), svg);
  fs.writeFileSync(path.join(imgDir, `${name}.png`), png);
  return [`docs/img/${name}.svg`, `docs/img/${name}.png`];
}

fs.mkdirSync(imgDir, { recursive: true });
const files = fs.readdirSync(dataDir).filter((f) => f.endsWith('.json')).sort();
for (const f of files) {
  const data = JSON.parse(fs.readFileSync(path.join(dataDir, f), 'utf8'));
  const written = await render(path.basename(f, '.json'), data);
  console.log(`${f} -> ${written.join(', ')}`);
}
