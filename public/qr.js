// A QR code (ISO/IEC 18004) of a short text, for the field app's last
// screen: the household scans it to check its receipt at /r. Offline, on
// the phone, in a few hundred lines instead of a library in the wasm
// bundle. Byte mode, error correction level M, versions 1–6 (up to 106
// bytes: a receipt link is about 40), mask pattern 0 (every mask decodes;
// choosing the best one only helps poor scanners a little).
//
// window.daohuQr(text) → an SVG `data:` URL, or "" if the text is too long.
// Once loaded, it also draws every `<img class=receipt-qr data-link>` still
// without a src.
(function () {
  "use strict";

  // Per version at level M: data codewords per block, blocks, and error
  // correction codewords per block.
  const BLOCKS = [null, [16, 1, 10], [28, 1, 16], [44, 1, 26], [32, 2, 18], [43, 2, 24], [27, 4, 16]];

  // GF(256) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
  const EXP = new Array(512);
  const LOG = new Array(256);
  for (let i = 0, x = 1; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= 0x11d;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
  const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

  // The generator polynomial of `n` error correction codewords.
  function generator(n) {
    let g = [1];
    for (let i = 0; i < n; i++) {
      const next = new Array(g.length + 1).fill(0);
      for (let j = 0; j < g.length; j++) {
        next[j] ^= g[j];
        next[j + 1] ^= mul(g[j], EXP[i]);
      }
      g = next;
    }
    return g;
  }

  // The remainder of data × x^n divided by the generator: the ECC bytes.
  function ecc(data, n) {
    const g = generator(n);
    const rem = data.concat(new Array(n).fill(0));
    for (let i = 0; i < data.length; i++) {
      const f = rem[i];
      if (f === 0) continue;
      for (let j = 0; j < g.length; j++) rem[i + j] ^= mul(g[j], f);
    }
    return rem.slice(data.length);
  }

  function codewords(bytes) {
    let version = 1;
    while (version <= 6 && BLOCKS[version][0] * BLOCKS[version][1] < bytes.length + 2) version++;
    if (version > 6) return null;
    const [perBlock, blocks, eccPer] = BLOCKS[version];
    const capacity = perBlock * blocks;
    // Mode 0100 (bytes), an 8-bit count, the bytes, a terminator, padding.
    const bits = [];
    const put = (value, n) => {
      for (let i = n - 1; i >= 0; i--) bits.push((value >> i) & 1);
    };
    put(0b0100, 4);
    put(bytes.length, 8);
    for (const b of bytes) put(b, 8);
    put(0, Math.min(4, capacity * 8 - bits.length));
    while (bits.length % 8) bits.push(0);
    const data = [];
    for (let i = 0; i < bits.length; i += 8) data.push(parseInt(bits.slice(i, i + 8).join(""), 2));
    for (let pad = 0xec; data.length < capacity; pad ^= 0xec ^ 0x11) data.push(pad);
    // Split into blocks, add each one's ECC, interleave.
    const split = [];
    for (let b = 0; b < blocks; b++) split.push(data.slice(b * perBlock, (b + 1) * perBlock));
    const checks = split.map((block) => ecc(block, eccPer));
    const out = [];
    for (let i = 0; i < perBlock; i++) for (const block of split) out.push(block[i]);
    for (let i = 0; i < eccPer; i++) for (const check of checks) out.push(check[i]);
    return { version, out };
  }

  function matrix(version, words) {
    const size = 17 + 4 * version;
    const dark = [...Array(size)].map(() => new Array(size).fill(false));
    const fixed = [...Array(size)].map(() => new Array(size).fill(false));
    const set = (r, c, on) => {
      dark[r][c] = on;
      fixed[r][c] = true;
    };
    // Finder patterns with their separators.
    for (const [r0, c0] of [[0, 0], [0, size - 7], [size - 7, 0]]) {
      for (let r = -1; r <= 7; r++) {
        for (let c = -1; c <= 7; c++) {
          const rr = r0 + r;
          const cc = c0 + c;
          if (rr < 0 || cc < 0 || rr >= size || cc >= size) continue;
          const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3));
          set(rr, cc, r >= 0 && r <= 6 && c >= 0 && c <= 6 && ring !== 2);
        }
      }
    }
    // The one alignment pattern of versions 2–6.
    if (version >= 2) {
      const at = size - 7;
      for (let r = -2; r <= 2; r++) {
        for (let c = -2; c <= 2; c++) set(at + r, at + c, Math.max(Math.abs(r), Math.abs(c)) !== 1);
      }
    }
    // Timing patterns.
    for (let i = 8; i < size - 8; i++) {
      set(6, i, i % 2 === 0);
      set(i, 6, i % 2 === 0);
    }
    // Format information: level M (00), mask 0 (000), BCH-coded and masked.
    let format = 0;
    {
      const data = (0b00 << 3) | 0b000;
      let rem = data << 10;
      for (let i = 14; i >= 10; i--) if ((rem >> i) & 1) rem ^= 0x537 << (i - 10);
      format = ((data << 10) | rem) ^ 0x5412;
    }
    // Bit i counts from the least significant; both copies, as the
    // standard lays them out around the finders.
    const bit = (i) => ((format >> i) & 1) === 1;
    for (let i = 0; i <= 5; i++) set(i, 8, bit(i));
    set(7, 8, bit(6));
    set(8, 8, bit(7));
    set(8, 7, bit(8));
    for (let i = 9; i < 15; i++) set(8, 14 - i, bit(i));
    for (let i = 0; i < 8; i++) set(8, size - 1 - i, bit(i));
    for (let i = 8; i < 15; i++) set(size - 15 + i, 8, bit(i));
    set(size - 8, 8, true); // the dark module
    // Data in two-column strips from the bottom right, up and down in turn,
    // skipping the vertical timing column; mask 0 flips where r + c is even.
    let k = 0;
    let upward = true;
    for (let right = size - 1; right > 0; right -= 2) {
      if (right === 6) right = 5;
      for (let n = 0; n < size; n++) {
        const r = upward ? size - 1 - n : n;
        for (const c of [right, right - 1]) {
          if (fixed[r][c]) continue;
          const word = words[k >> 3];
          const on = word !== undefined && ((word >> (7 - (k & 7))) & 1) === 1;
          k++;
          dark[r][c] = on !== ((r + c) % 2 === 0);
        }
      }
      upward = !upward;
    }
    return dark;
  }

  window.daohuQr = function (text) {
    const bytes = Array.from(new TextEncoder().encode(String(text)));
    const coded = codewords(bytes);
    if (!coded) return "";
    const dark = matrix(coded.version, coded.out);
    const size = dark.length;
    const quiet = 4;
    let path = "";
    for (let r = 0; r < size; r++) {
      for (let c = 0; c < size; c++) if (dark[r][c]) path += `M${c + quiet} ${r + quiet}h1v1h-1z`;
    }
    const side = size + 2 * quiet;
    const svg =
      `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${side} ${side}" shape-rendering="crispEdges">` +
      `<rect width="${side}" height="${side}" fill="#fff"/><path d="${path}" fill="#000"/></svg>`;
    return "data:image/svg+xml;base64," + btoa(svg);
  };

  // A receipt card drawn before this script arrived (a signed visit
  // reopened after a reload) left its image without a picture.
  if (typeof document !== "undefined") {
    for (const img of document.querySelectorAll("img.receipt-qr[data-link]:not([src])")) {
      const url = window.daohuQr(img.dataset.link);
      if (url) img.src = url;
    }
  }
})();
