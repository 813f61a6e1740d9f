// Compiles Morpho Blue from its npm package (@morpho-org/morpho-blue, pinned in package-lock.json) with the compiler
// its sources pin (solc 0.8.19, npm's solc-js as `solc-0.8.19`) and the settings its own repository builds with
// (via-IR, 999999 optimizer runs, EVM paris, no metadata hash): the same bytecode the protocol deploys. Writes
// .build/protocols/morpho.json: for Morpho and the package's interest-rate model mock, the ABI and the creation
// and runtime bytecode. Uniswap v3 needs no build: its npm packages ship their compiled artifacts.
//
// Usage: node toolchain/build-protocols.js   (toolchain/build.sh runs it when package-lock.json changed)
const fs = require("fs");
const path = require("path");
const solc = require("solc-0.8.19");

const ROOT = path.join(__dirname, "..");
const PACKAGE = path.join(ROOT, "node_modules", "@morpho-org", "morpho-blue");
const OUT = path.join(ROOT, ".build", "protocols", "morpho.json");
const CONTRACTS = { Morpho: "src/Morpho.sol", IrmMock: "src/mocks/IrmMock.sol" };

function findImports(file) {
  for (const base of [PACKAGE, path.join(ROOT, "node_modules")]) {
    const full = path.join(base, file);
    if (fs.existsSync(full)) return { contents: fs.readFileSync(full, "utf8") };
  }
  return { error: `not found: ${file}` };
}

const sources = Object.fromEntries(
  Object.values(CONTRACTS).map((file) => [file, { content: fs.readFileSync(path.join(PACKAGE, file), "utf8") }]));
const settings = {
  viaIR: true,
  optimizer: { enabled: true, runs: 999999 },
  evmVersion: "paris",
  metadata: { bytecodeHash: "none" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};
const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings }), { import: findImports }));
const errors = (output.errors || []).filter((e) => e.severity === "error");
if (errors.length) {
  for (const e of errors) console.error(e.formattedMessage);
  process.exit(1);
}
const artifacts = {};
for (const [name, file] of Object.entries(CONTRACTS)) {
  const compiled = output.contracts[file][name];
  artifacts[name] = {
    abi: compiled.abi,
    bytecode: "0x" + compiled.evm.bytecode.object,
    deployedBytecode: "0x" + compiled.evm.deployedBytecode.object,
  };
}
const version = require(path.join(PACKAGE, "package.json")).version;
fs.mkdirSync(path.dirname(OUT), { recursive: true });
fs.writeFileSync(OUT, JSON.stringify({ package: `@morpho-org/morpho-blue@${version}`, compiler: solc.version(),
  settings: { ...settings, outputSelection: undefined }, contracts: artifacts }));
console.log(`build: Morpho Blue ${version} compiled with solc ${solc.version()} (${OUT})`);
