// 5. Installable: the web manifest (name, icons 192/512, theme colour,
// standalone display, start URL) is linked from every page and served.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from '../support/server.mjs';

let server;

before(async () => {
  server = await startServer();
});

after(async () => {
  await server?.dispose();
});

/** Width and height from a PNG's IHDR chunk. */
function pngSize(bytes) {
  assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
  return [bytes.readUInt32BE(16), bytes.readUInt32BE(20)];
}

describe('install', () => {
  test('pages link a manifest that makes Daohu an installable standalone app', async () => {
    const html = await (await fetch(`${server.baseURL}/login`)).text();
    const link = html.match(/<link rel="manifest" href="([^"]+)"/);
    assert.ok(link, 'the page links a manifest');

    const res = await fetch(server.baseURL + link[1]);
    assert.equal(res.status, 200);
    const manifest = await res.json();
    assert.equal(manifest.short_name, '到户');
    assert.match(manifest.name, /到户/);
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.start_url, '/');
    assert.match(manifest.theme_color, /^#[0-9a-f]{6}$/i);

    const sizes = manifest.icons.map((i) => i.sizes).sort();
    assert.deepEqual(sizes, ['192x192', '512x512']);
    for (const icon of manifest.icons) {
      const r = await fetch(server.baseURL + icon.src);
      assert.equal(r.status, 200, icon.src);
      assert.equal(r.headers.get('content-type'), 'image/png');
      const [w, h] = pngSize(Buffer.from(await r.arrayBuffer()));
      assert.equal(`${w}x${h}`, icon.sizes, `${icon.src} is really ${icon.sizes}`);
    }
  });
});
