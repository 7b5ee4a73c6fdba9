// Reads parquet files written by cvbench.Generate with hyparquet (a reader
// that is not visreft's) and checks the CV-Bench schema and the synthetic
// label, the converse of make_external.mjs.
//
//   node check_synthetic.mjs DIR/test_2d.parquet DIR/test_3d.parquet
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet'

const want = ['idx', 'type', 'task', 'image', 'question', 'choices', 'answer', 'prompt', 'filename',
  'source', 'source_dataset', 'source_filename', 'target_class', 'target_size', 'bbox']
let bad = 0
for (const path of process.argv.slice(2)) {
  const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path), utf8: false })
  for (const [i, r] of rows.entries()) {
    const problems = []
    if (Object.keys(r).join() !== want.join()) problems.push(`columns ${Object.keys(r)}`)
    if (r.source_dataset !== 'visreft-synthetic') problems.push(`source_dataset ${r.source_dataset}`)
    if (!(r.image?.bytes?.[0] === 0x89 && r.image.bytes[1] === 0x50)) problems.push('image is not a PNG')
    const k = r.answer.charCodeAt(1) - 65
    if (!Array.isArray(r.choices) || k < 0 || k >= r.choices.length) problems.push(`answer ${r.answer}`)
    if (problems.length) {
      if (bad++ < 10) console.error(`${path}: row ${i}: ${problems.join('; ')}`)
    }
  }
  console.log(`${path}: ${rows.length} rows read by hyparquet`)
}
if (bad) console.error(`${bad} bad rows`)
process.exit(bad ? 1 : 0)
