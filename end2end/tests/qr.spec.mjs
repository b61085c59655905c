// 17. The receipt's QR code (public/qr.js, drawn on the phone offline):
// what it draws decodes, with an independent decoder, to the text given,
// for every version it makes (links of 10 to 106 bytes).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

import jsQR from 'jsqr';

import { REPO_ROOT } from '../support/server.mjs';

function loadQr() {
  const context = { window: {}, TextEncoder, btoa: (s) => Buffer.from(s, 'binary').toString('base64') };
  vm.createContext(context);
  vm.runInContext(fs.readFileSync(path.join(REPO_ROOT, 'public', 'qr.js'), 'utf8'), context);
  return context.window.daohuQr;
}

/** The SVG's modules as an RGBA image, `scale` pixels a module. */
function raster(dataUrl, scale = 6) {
  const svg = Buffer.from(dataUrl.split(',')[1], 'base64').toString();
  const side = Number(svg.match(/viewBox="0 0 (\d+)/)[1]);
  const dark = new Set([...svg.matchAll(/M(\d+) (\d+)h1v1h-1z/g)].map((m) => `${m[1]},${m[2]}`));
  const w = side * scale;
  const px = new Uint8ClampedArray(w * w * 4).fill(255);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      if (dark.has(`${Math.floor(x / scale)},${Math.floor(y / scale)}`)) {
        px.fill(0, (y * w + x) * 4, (y * w + x) * 4 + 3);
      }
    }
  }
  return { px, w, side };
}

test('every version the encoder makes decodes to its text', () => {
  const draw = loadQr();
  const sides = new Set();
  for (const text of [
    'x.cn/r?c=1',
    'https://x.cn/r?c=A1B2C3D4',
    'http://127.0.0.1:3000/r?c=0F1E2D3C',
    'https://daohu.example.gov.cn/r?c=A1B2C3D4',
    'https://乡村振兴.example.gov.cn/r?c=FFFFFFFF',
    'h'.repeat(80),
    'b'.repeat(106),
  ]) {
    const url = draw(text);
    const { px, w, side } = raster(url);
    sides.add(side);
    const found = jsQR(px, w, w);
    assert.ok(found, `decodes: ${text}`);
    assert.equal(found.data, text);
  }
  assert.ok(sides.size >= 5, `several versions: ${[...sides]}`);
  assert.equal(draw('c'.repeat(107)), '', 'too long for version 6: nothing, not a wrong code');
});
