// The strings encoded by generate.mjs. Deterministic: the random ones come from a seeded PRNG.

const fixed = [
  // empty and tiny
  "", " ", "a", "A", "0", ".", "\n", "\t", "\r", "\r\n", "'",
  // words and sentences
  "Hello world", "Hello, world!", "hello   world", "The quick brown fox jumps over the lazy dog.",
  "  leading spaces", "trailing spaces   ", "both  ", "   ", "\t\t", " \t \t",
  // whitespace runs and newlines
  "a\nb", "a\n\nb", "a\n\n\nb", "a\r\nb", "a\r\n\r\nb", "line1\nline2\n", "end\n", "end\n\n",
  "\n\n\n", "  \n  ", "a \n b", "a  \n\n  b", "x\t\ny", "x \t\n\t y", "tab\tseparated\tvalues",
  "\u00a0nbsp\u00a0here", "ideographic\u3000space", "en\u2002em\u2003thin\u2009", "\u2028line sep\u2029para",
  "vt\u000bff\u000cmix", "spaces before newline   \nnext", "\n  indented\n    more\n", " \n", "\n ",
  // digits and numbers
  "12", "123", "1234567890", "3.14159", "1,000,000", "-42", "+7", "2024-06-01", "10:30pm", "v1.2.3",
  "0x1F", "1e-10", "99.99%", "$1,234.56", "123abc456", "abc123", "٣٤٥", "१२३", "①②③", "Ⅻ", "½ and ¾",
  "12345678901234567890123456789012345678901234567890",
  // contractions in various cases
  "I'm", "you're", "they've", "we'll", "she'd", "it's", "don't", "I'M", "YOU'RE", "THEY'VE", "WE'LL",
  "SHE'D", "IT'S", "DON'T", "It'S", "We'Ll", "you'Re", "'s", "'S", "'ll", "'LL", "'re", "'RE", "'ve",
  "'t", "'d", "'m", "'sup", "'Sup", "rock'n'roll", "O'Neil's", "''s", "'''", "x's y'all", "' s",
  // punctuation runs
  "!!!", "?!?!", "...", "…", "--", "---", "(a)", "[x]", "{y}", "a,b;c:d", "foo.bar", "@user #tag",
  "!!!\n", "?!\r\n\r\n", " !!", " \"quoted\"", "«guillemets»", "—em dash—", "a/b\\c", "~`^|_",
  "end.\n\nNext", "::", "=>", "!==", "<<= >>=", "***bold***", "__init__",
  // CJK, Japanese, Korean, other scripts
  "你好，世界！", "我爱自然语言处理。", "中文 English 混合", "日本語のテキストです。", "カタカナとひらがな",
  "ｶﾀｶﾅ半角", "한국어 텍스트", "안녕하세요", "مرحبا بالعالم", "السلام عليكم ورحمة الله",
  "नमस्ते दुनिया", "हिन्दी पाठ", "Привет, мир!", "Ελληνικά γράμματα", "שלום עולם", "ภาษาไทย",
  "Tiếng Việt có dấu", "Straße", "ﬁnance ﬂow", "ǅungla", "İstanbul ıI",
  // emoji
  "😀", "😀😀😀", "I ❤️ Go", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸🇫🇷🇯🇵", "#️⃣", "🧑🏿‍💻 coding",
  "emoji at end 🎉", "✅ done", "🙂\n🙃",
  // combining marks: NFC and NFD input
  "café", "cafe\u0301", "e\u0301\u0301", "A\u030a", "\u00c5", "\u212b", "\u1100\u1161\u11a8",
  "n\u0303o", "\u0301alone", "a\u0323\u0307", "a\u0307\u0323", "Ω\u2126", "\u0915\u094d\u0937",
  "x\u20dd", "Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319",
  // code
  "def add(a, b):\n    return a + b\n",
  "for i in range(10):\n\tprint(i ** 2)  # square\n",
  "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n",
  "if err != nil {\n\t\treturn nil, fmt.Errorf(\"load: %w\", err)\n\t}",
  "{\"key\": \"value\", \"n\": [1, 2, 3], \"ok\": true, \"nil\": null}",
  "{\n  \"a\": {\n    \"b\": 1.5e3\n  }\n}",
  "SELECT * FROM users WHERE id = 42;", "<div class=\"x\">Hi</div>", "x := map[string]int{\"a\": 1}",
  "#include <stdio.h>\nint main(void) { return 0; }", "λx. x + 1", "a<=b && c>=d || !e",
  // URLs and paths
  "https://huggingface.co/qnguyen3/nanoLLaVA", "http://example.com/a?b=1&c=%20d#frag",
  "mailto:someone@example.org", "/usr/local/lib/go-xla/pjrt.so", "C:\\Users\\me\\file.txt",
  // special tokens and their text
  "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|im_start|>user\nhi<|im_end|>",
  "text<|endoftext|>more", "<|im_end|><|im_start|>", "<|im_start|", "<|im_start|>>", "<<|im_end|>",
  "<|endoftext|> <|endoftext|>", " <|im_end|> ", "\n<|im_start|>\n", "<think>\nreasoning\n</think>\n\nanswer",
  "<tool_call>{}</tool_call>", "<|vision_start|><|image_pad|><|vision_end|>", "<|fim_prefix|>x<|fim_suffix|>",
  "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n<image>\nWhat is shown?<|im_end|><|im_start|>assistant\n",
  "<|im_start|>system\nAnswer the question<|im_end|><|im_start|>user\n",
  "\nHow many organs are in the image? Select from the following choices.\n(A) 3\n(B) 2\n(C) 1\n(D) 0<|im_end|><|im_start|>assistant\n",
  "<|user|>: What is in the image?\n<|assistant|>: (B)",
  // CV-Bench style prompts
  "How many organs are in the image? Select from the following choices.\n(A) 3\n(B) 2",
  "How many organs are in the image? Select from the following choices.\n(A) 3\n(B) 2\n(C) 1\n(D) 0",
  "Considering the relative positions of the lamp and the bed in the image provided, where is the lamp located with respect to the bed? Select from the following choices.\n(A) left\n(B) right",
  "Which object is closer to the camera taking this photo, the chair (highlighted by a red box) or the table (highlighted by a blue box)?\n(A) chair\n(B) table",
  "Estimate the real-world distances between objects in this image. Which object is closer to the pillow (highlighted by a red box), the lamp (highlighted by a blue box) or the book (highlighted by a green box)?\n(A) lamp\n(B) book",
  "(C)", "(A) 3", "Answer: (D)", " (B)",
  // long words
  "a".repeat(300), "ab".repeat(200), "Pneumonoultramicroscopicsilicovolcanoconiosis",
  "Donaudampfschifffahrtsgesellschaftskapitänswitwe", "x".repeat(64) + "y".repeat(64), "9".repeat(120),
  " ".repeat(100), "\n".repeat(50), "!".repeat(150), "😀".repeat(40), "加".repeat(80),
  "supercalifragilisticexpialidocious_and_then_some_more_snake_case_identifiers_here",
];

function mulberry32(seed) {
  return function () {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Code point ranges assigned long before Unicode 15 (so Go's tables agree with node's ICU).
const ranges = [
  [0x20, 0x7e], [0x20, 0x7e], [0x20, 0x7e], [0x09, 0x0d], [0xa0, 0xff], [0x100, 0x17e],
  [0x300, 0x36f], [0x391, 0x3c9], [0x410, 0x44f], [0x5d0, 0x5ea], [0x621, 0x64a], [0x660, 0x669],
  [0x905, 0x939], [0x93e, 0x94d], [0x966, 0x96f], [0xe01, 0xe3a], [0x1100, 0x1112], [0x1161, 0x1175],
  [0x2000, 0x200a], [0x2010, 0x2027], [0x2070, 0x2079], [0x2150, 0x2182], [0x2460, 0x24ff],
  [0x3000, 0x3003], [0x3041, 0x3096], [0x30a1, 0x30fa], [0x4e00, 0x9fa5], [0xac00, 0xd7a3],
  [0xff01, 0xff5e], [0x1f300, 0x1f5ff], [0x1f600, 0x1f64f], [0x1f1e6, 0x1f1ff], [0x200d, 0x200d],
  [0xfe0f, 0xfe0f], [0x1d400, 0x1d44e],
];

function randomString(rnd, len) {
  let s = "";
  for (let i = 0; i < len; i++) {
    const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)];
    s += String.fromCodePoint(lo + Math.floor(rnd() * (hi - lo + 1)));
  }
  return s;
}

/** Returns every test string, fixed ones first. */
export function cases() {
  const rnd = mulberry32(20240601);
  const out = [...fixed];
  for (let i = 0; i < 80; i++) out.push(randomString(rnd, 1 + Math.floor(rnd() * 40)));
  // Zalgo: a letter and up to 45 marks of mixed combining classes, some composing.
  const marks = [0x300, 0x301, 0x302, 0x303, 0x308, 0x316, 0x323, 0x327, 0x328, 0x334, 0x345, 0x35c, 0x5b0, 0x94d];
  for (let i = 0; i < 12; i++) {
    let s = String.fromCodePoint([0x61, 0x65, 0x6f, 0x55, 0x3b1, 0x915, 0x1100][Math.floor(rnd() * 7)]);
    for (let k = Math.floor(rnd() * 46); k > 0; k--) s += String.fromCodePoint(marks[Math.floor(rnd() * marks.length)]);
    out.push(s + (rnd() < 0.5 ? " tail" : ""));
  }
  // Random mixes of the characters that steer the split pattern.
  const atoms = ["'", "s", "S", "ll", "RE", " ", "  ", "\t", "\n", "\r", "\r\n", "a", "Z", "é", "中",
    "1", "22", "!", "?!", ".", "-", "😀", "\u00a0", "\u3000", "<|im_end|>", "<think>", "\u0301", "_"];
  for (let i = 0; i < 120; i++) {
    let s = "";
    const n = 1 + Math.floor(rnd() * 14);
    for (let j = 0; j < n; j++) s += atoms[Math.floor(rnd() * atoms.length)];
    out.push(s);
  }
  return out;
}
