#!/usr/bin/env node
// A `solc` command line on top of solc-js, for machines where the native compiler
// cannot be downloaded. It answers what py-solc-x, ape-solidity and crytic-compile ask:
//   solc --version
//   solc --standard-json [--base-path P] [--include-path P]... [--allow-paths P,...]  < input.json
//   solc --combined-json abi,bin,... [--base-path P] [remap=target]... file.sol...
//   solc [--bin] [--abi] [remap=target]... file.sol...
// Like native solc: --standard-json always exits 0 and reports errors inside the JSON;
// the file modes print solc's formatted messages on stderr and exit 1 on any error.
"use strict";
const fs = require("fs");
const path = require("path");
const solc = require(process.env.LEVTOKEN_SOLCJS || "solc");

function parseArgs(argv) {
  const opts = { mode: null, outputs: [], files: [], remappings: [], basePath: null, includePaths: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) fail(`Option ${arg} needs a value.`);
      return argv[++i];
    };
    if (arg === "--version" || arg === "-v") opts.mode = "version";
    else if (arg === "--standard-json") opts.mode = "standard-json";
    else if (arg === "--combined-json") { opts.mode = "combined-json"; opts.outputs = value().split(","); }
    else if (arg === "--bin" || arg === "--abi" || arg === "--bin-runtime") opts.outputs.push(arg.slice(2));
    else if (arg === "--base-path") opts.basePath = value();
    else if (arg === "--include-path") opts.includePaths.push(value());
    else if (arg === "--allow-paths") value(); // solc-js reads through our callback only
    else if (arg === "--optimize" ) opts.optimize = true;
    else if (arg === "--optimize-runs") opts.runs = Number(value());
    else if (arg === "--evm-version") opts.evmVersion = value();
    else if (arg === "--no-color" || arg === "--pretty-json") { /* accepted, no effect */ }
    else if (arg.startsWith("--")) fail(`Unrecognised option: ${arg} (this solc-js wrapper supports --version, --standard-json, --combined-json, --bin, --abi).`);
    else if (arg.includes("=")) opts.remappings.push(arg);
    else opts.files.push(arg);
  }
  return opts;
}

function fail(message) {
  process.stderr.write(`Error: ${message}\n`);
  process.exit(1);
}

function importCallback(roots) {
  return (importPath) => {
    const candidates = path.isAbsolute(importPath) ? [importPath] : roots.map((r) => path.resolve(r, importPath));
    for (const candidate of candidates) {
      if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) {
        return { contents: fs.readFileSync(candidate, "utf8") };
      }
    }
    return { error: `File not found. Searched: ${candidates.join(", ")}` };
  };
}

function searchRoots(opts) {
  const roots = [];
  if (opts.basePath) roots.push(opts.basePath);
  roots.push(...opts.includePaths, process.cwd());
  return roots;
}

function compile(input, opts) {
  return JSON.parse(solc.compile(JSON.stringify(input), { import: importCallback(searchRoots(opts)) }));
}

function readStdin() {
  try { return fs.readFileSync(0, "utf8"); } catch (e) { return ""; }
}

function standardJson(opts) {
  let input;
  try {
    input = JSON.parse(readStdin());
  } catch (e) {
    process.stdout.write(JSON.stringify({ errors: [{ component: "general", severity: "error", type: "JSONError",
      message: `Input is not valid JSON: ${e.message}`, formattedMessage: `JSONError: Input is not valid JSON: ${e.message}` }] }));
    return 0;
  }
  process.stdout.write(JSON.stringify(compile(input, opts)));
  return 0;
}

const COMBINED_KEYS = {
  abi: ["abi"], bin: ["evm", "bytecode", "object"], "bin-runtime": ["evm", "deployedBytecode", "object"],
  srcmap: ["evm", "bytecode", "sourceMap"], "srcmap-runtime": ["evm", "deployedBytecode", "sourceMap"],
  hashes: ["evm", "methodIdentifiers"], userdoc: ["userdoc"], devdoc: ["devdoc"], metadata: ["metadata"],
  "storage-layout": ["storageLayout"],
};
const OUTPUT_SELECTION = {
  abi: "abi", bin: "evm.bytecode.object", "bin-runtime": "evm.deployedBytecode.object",
  srcmap: "evm.bytecode.sourceMap", "srcmap-runtime": "evm.deployedBytecode.sourceMap",
  hashes: "evm.methodIdentifiers", userdoc: "userdoc", devdoc: "devdoc", metadata: "metadata",
  "storage-layout": "storageLayout",
};

function fileModes(opts) {
  if (opts.files.length === 0) fail("No input files given.");
  const sources = {};
  for (const file of opts.files) {
    if (!fs.existsSync(file)) fail(`"${file}" is not found.`);
    const key = opts.basePath ? path.relative(opts.basePath, path.resolve(file)) : file;
    sources[key] = { content: fs.readFileSync(file, "utf8") };
  }
  const outputs = opts.outputs.length ? opts.outputs : [];
  const contractOutputs = outputs.filter((o) => o !== "ast").map((o) => {
    if (!(o in OUTPUT_SELECTION)) fail(`Unsupported combined-json output: ${o}`);
    return OUTPUT_SELECTION[o];
  });
  const settings = {
    remappings: opts.remappings,
    outputSelection: { "*": { "*": contractOutputs, "": outputs.includes("ast") ? ["ast"] : [] } },
  };
  if (opts.optimize) settings.optimizer = { enabled: true, runs: opts.runs || 200 };
  if (opts.evmVersion) settings.evmVersion = opts.evmVersion;
  const out = compile({ language: "Solidity", sources, settings }, opts);
  let failed = false;
  for (const err of out.errors || []) {
    process.stderr.write(`${err.formattedMessage || err.message}\n`);
    if (err.severity === "error") failed = true;
  }
  if (failed) return 1;
  if (opts.mode === "combined-json") {
    // Like native solc, sourceList is in source-id order: source maps refer to files by that index.
    const sourceList = Object.entries(out.sources || {}).sort((a, b) => a[1].id - b[1].id).map(([name]) => name);
    const combined = { contracts: {}, sourceList, sources: {}, version: solc.version() };
    for (const [source, contracts] of Object.entries(out.contracts || {})) {
      for (const [name, artefact] of Object.entries(contracts)) {
        const entry = {};
        for (const o of outputs) {
          if (o === "ast") continue;
          let v = artefact;
          for (const k of COMBINED_KEYS[o]) v = v === undefined ? undefined : v[k];
          entry[o] = v === undefined ? "" : v;
        }
        combined.contracts[`${source}:${name}`] = entry;
      }
    }
    for (const [source, info] of Object.entries(out.sources || {})) {
      combined.sources[source] = outputs.includes("ast") ? { AST: info.ast, id: info.id } : { id: info.id };
    }
    process.stdout.write(JSON.stringify(combined));
    return 0;
  }
  for (const [source, contracts] of Object.entries(out.contracts || {})) {
    for (const [name, artefact] of Object.entries(contracts)) {
      process.stdout.write(`\n======= ${source}:${name} =======\n`);
      if (outputs.includes("bin")) process.stdout.write(`Binary:\n${artefact.evm.bytecode.object}\n`);
      if (outputs.includes("bin-runtime")) process.stdout.write(`Binary of the runtime part:\n${artefact.evm.deployedBytecode.object}\n`);
      if (outputs.includes("abi")) process.stdout.write(`Contract JSON ABI\n${JSON.stringify(artefact.abi)}\n`);
    }
  }
  return 0;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.mode === "version") {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (opts.mode === "standard-json") return standardJson(opts);
  return fileModes(opts);
}

process.exitCode = main();
