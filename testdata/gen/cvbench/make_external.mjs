// Writes a CV-Bench-schema parquet file with hyparquet-writer (not visreft's
// parquet-go writer), so the Go loader is tested against files written by
// another implementation. Images are tiny PNGs made here with node's zlib.
//
//   cd testdata/gen/cvbench && npm ci && node make_external.mjs ../../cvbench/external.parquet
import { writeFileSync } from 'node:fs'
import { deflateSync } from 'node:zlib'
import { parquetWriteBuffer } from 'hyparquet-writer'

// --- a minimal PNG encoder (8-bit RGB, no filtering) ---
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'latin1')
  data.copy(out, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}
// png draws a w x h white image with a filled square of colour rgb in the middle.
function png(w, h, rgb) {
  const raw = Buffer.alloc(h * (1 + 3 * w), 255)
  for (let y = 0; y < h; y++) {
    raw[y * (1 + 3 * w)] = 0 // filter: none
    for (let x = 0; x < w; x++) {
      if (x >= w / 4 && x < (3 * w) / 4 && y >= h / 4 && y < (3 * h) / 4) {
        raw.set(rgb, y * (1 + 3 * w) + 1 + 3 * x)
      }
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit, truecolour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
  ])
}

// --- CV-Bench rows (made-up content, real schema) ---
const prompt = (q, choices) => q + ' Select from the following choices.' +
  choices.map((c, i) => `\n(${String.fromCharCode(65 + i)}) ${c}`).join('')
const rows = [
  { idx: 0n, type: '2D', task: 'Count', q: 'How many organs are in the image?', choices: ['3', '2', '1', '0'], answer: '(C)',
    filename: 'img/2D/count/ade20k_10.png', source: 'ADE20K', source_dataset: 'ADE20K', source_filename: 'ADE_val_00000010.jpg',
    target_class: 'organ', target_size: null, bbox: null, rgb: [200, 30, 30], size: [8, 6] },
  { idx: 1n, type: '2D', task: 'Relation', q: 'Considering the relative positions of the cup and the plate in the image, where is the cup located with respect to the plate?',
    choices: ['left', 'right'], answer: '(B)', filename: 'img/2D/relation/coco_1.png', source: 'COCO', source_dataset: 'COCO',
    source_filename: '000000000139.jpg', target_class: 'cup', target_size: 1234n, bbox: null, rgb: [30, 160, 40], size: [6, 6] },
  { idx: 2n, type: '3D', task: 'Depth', q: 'Which object is closer to the camera taking this photo, the lamp or the chair?',
    choices: ['lamp', 'chair'], answer: '(A)', filename: 'img/3D/depth/omni3d_2.png', source: 'Omni3D', source_dataset: 'SUNRGBD',
    source_filename: 'sunrgbd/kv1/000002.jpg', target_class: null, target_size: null,
    bbox: [[10.5, 20, 30.25, 40], [50, 60.5, 70, 80.75]], rgb: [30, 60, 200], size: [8, 8] },
  { idx: 3n, type: '3D', task: 'Distance', q: 'Estimate the real-world distances between objects in this image. Which object is closer to the table, the sofa or the shelf?',
    choices: ['sofa', 'shelf'], answer: '(B)', filename: 'img/3D/distance/omni3d_3.png', source: 'Omni3D', source_dataset: 'Hypersim',
    source_filename: 'ai_001_001/frame.0003.jpg', target_class: null, target_size: null,
    bbox: [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]], rgb: [240, 200, 20], size: [10, 4] },
]

const str = name => ({ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' })
const schema = [
  { name: 'schema', num_children: 15 },
  { name: 'idx', type: 'INT64', repetition_type: 'OPTIONAL' },
  str('type'), str('task'),
  { name: 'image', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
  str('path'),
  str('question'),
  { name: 'choices', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  str('element'),
  str('answer'), str('prompt'), str('filename'), str('source'), str('source_dataset'), str('source_filename'), str('target_class'),
  { name: 'target_size', type: 'INT64', repetition_type: 'OPTIONAL' },
  { name: 'bbox', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', type: 'DOUBLE', repetition_type: 'OPTIONAL' },
]
const col = (name, f) => ({ name, data: rows.map(f) })
const columnData = [
  col('idx', r => r.idx), col('type', r => r.type), col('task', r => r.task),
  col('image', r => ({ bytes: new Uint8Array(png(r.size[0], r.size[1], r.rgb)), path: r.filename.split('/').pop() })),
  col('question', r => r.q), col('choices', r => r.choices), col('answer', r => r.answer),
  col('prompt', r => prompt(r.q, r.choices)), col('filename', r => r.filename), col('source', r => r.source),
  col('source_dataset', r => r.source_dataset), col('source_filename', r => r.source_filename),
  col('target_class', r => r.target_class), col('target_size', r => r.target_size), col('bbox', r => r.bbox),
]
const buf = parquetWriteBuffer({ columnData, schema, createdBy: 'hyparquet-writer version 0.17.0' })
writeFileSync(process.argv[2] ?? 'external.parquet', new Uint8Array(buf))
console.log(`wrote ${rows.length} rows, ${buf.byteLength} bytes`)
